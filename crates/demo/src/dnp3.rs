//! DNP3 over TCP: the SCADA master's integrity and event polls of a protection relay.

use crate::plant;
use crate::sim::{Conn, Sim, MS, SEC};

/// DNP3 TCP port.
const PORT: u16 = 20000;
/// Application function codes.
const READ: u8 = 0x01;
const COLD_RESTART: u8 = 0x0d;
/// Link addresses of the master and the outstation.
const MASTER: u16 = 1;
const OUTSTATION: u16 = 10;

/// CRC-16/DNP (reflected polynomial 0xA6BC, complemented), as transmitted (little-endian).
fn crc(data: &[u8]) -> [u8; 2] {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xa6bc } else { crc >> 1 };
        }
    }
    (!crc).to_le_bytes()
}

/// Link-layer frame: header with CRC, then user data in 16-byte blocks each followed by its CRC.
fn link_frame(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    let mut out = vec![0x05, 0x64, (5 + user.len()) as u8, control];
    out.extend_from_slice(&dst.to_le_bytes());
    out.extend_from_slice(&src.to_le_bytes());
    let header_crc = crc(&out);
    out.extend_from_slice(&header_crc);
    for block in user.chunks(16) {
        out.extend_from_slice(block);
        out.extend_from_slice(&crc(block));
    }
    out
}

/// A master ↔ outstation association with transport and application sequence numbers.
struct Association {
    conn: Conn,
    master_transport: u8,
    outstation_transport: u8,
    app_seq: u8,
}

impl Association {
    /// A read request carrying `objects` and the response carrying `data`; returns its time.
    fn poll(&mut self, sim: &mut Sim, ts: i64, objects: &[u8], data: &[u8]) -> i64 {
        self.request(sim, ts, READ, objects, data)
    }

    /// A request with function code `function` carrying `objects`, and the response carrying `data`.
    fn request(&mut self, sim: &mut Sim, ts: i64, function: u8, objects: &[u8], data: &[u8]) -> i64 {
        let seq = self.app_seq;
        self.app_seq = (self.app_seq + 1) & 0x0f;
        let mut req = vec![0xc0 | self.master_transport, 0xc0 | seq, function];
        req.extend_from_slice(objects);
        self.master_transport = (self.master_transport + 1) & 0x3f;
        let mut resp = vec![0xc0 | self.outstation_transport, 0xc0 | seq, 0x81, 0x00, 0x00];
        resp.extend_from_slice(data);
        self.outstation_transport = (self.outstation_transport + 1) & 0x3f;
        let req = link_frame(0xc4, OUTSTATION, MASTER, &req);
        let resp = link_frame(0x44, MASTER, OUTSTATION, &resp);
        let think = sim.jitter(4 * MS, 15 * MS);
        sim.exchange_acked(&mut self.conn, ts, &req, &resp, think)
    }
}

/// Static data of an integrity poll: 8 binary inputs with flags and 4 analog inputs.
fn static_data(sim: &mut Sim) -> Vec<u8> {
    let mut out = vec![0x01, 0x02, 0x00, 0x00, 0x07];
    for i in 0..8 {
        out.push(if i == 2 || i == 5 { 0x81 } else { 0x01 });
    }
    out.extend_from_slice(&[0x1e, 0x01, 0x00, 0x00, 0x03]);
    for base in [13_200i32, 412, 398, 5000] {
        out.push(0x01);
        out.extend_from_slice(&(base + sim.rng.range(0, 30) as i32).to_le_bytes());
    }
    out
}

/// The SCADA master cold-restarts the relay on a new association; the relay answers with
/// the time to wait (group 52 variation 2, 5000 ms).
pub(crate) fn cold_restart(sim: &mut Sim, ts: i64) -> i64 {
    let conn = sim.connect(ts, plant::SCADA.ip, plant::DNP3_RELAY.ip, PORT);
    let mut assoc = Association { conn, master_transport: 0, outstation_transport: 0, app_seq: 0 };
    let at = assoc.conn.t + 30 * MS;
    let t = assoc.request(sim, at, COLD_RESTART, &[], &[0x34, 0x02, 0x07, 0x01, 0x88, 0x13]);
    sim.close(&mut assoc.conn, true, t + 200 * MS);
    t
}

/// Schedules the DNP3 traffic: integrity poll every minute, class 1 event poll every 5 s.
pub(crate) fn generate(sim: &mut Sim) {
    let t = sim.start + sim.jitter(SEC, 3 * SEC);
    let conn = sim.connect(t, plant::SCADA.ip, plant::DNP3_RELAY.ip, PORT);
    let mut assoc = Association { conn, master_transport: 0, outstation_transport: 0, app_seq: 0 };
    let integrity = [0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06, 0x3c, 0x01, 0x06];
    let class1 = [0x3c, 0x02, 0x06];
    let mut t = assoc.conn.t + 50 * MS;
    let mut cycle = 0u32;
    while t < sim.end - SEC {
        if cycle % 12 == 0 {
            let data = static_data(sim);
            assoc.poll(sim, t, &integrity, &data);
        } else if sim.rng.chance(25) {
            // Analog change event, 2-byte count and index prefix.
            let mut data = vec![0x20, 0x01, 0x28, 0x01, 0x00, 0x01, 0x00, 0x01];
            data.extend_from_slice(&(400 + sim.rng.range(0, 40) as i32).to_le_bytes());
            assoc.poll(sim, t, &class1, &data);
        } else {
            assoc.poll(sim, t, &class1, &[]);
        }
        cycle += 1;
        t += 5 * SEC + sim.jitter(-10 * MS, 10 * MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_catalogue_check_value() {
        // CRC-16/DNP of "123456789" is 0xEA82, sent low byte first.
        assert_eq!(crc(b"123456789"), [0x82, 0xea]);
    }

    #[test]
    fn user_data_is_split_into_blocks_with_crcs() {
        let frame = link_frame(0xc4, 10, 1, &[0u8; 20]);
        assert_eq!(frame.len(), 10 + 16 + 2 + 4 + 2);
        assert_eq!(frame[2], 25);
    }
}
