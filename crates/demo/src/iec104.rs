//! IEC 60870-5-104: the SCADA's link to the RTU (STARTDT, general interrogation, spontaneous
//! measurements, test frames) and the burst of single commands incident.

use crate::plant;
use crate::sim::{Conn, Sim, MS, SEC};

/// IEC 104 TCP port.
const PORT: u16 = 2404;
/// Common address of the RTU's ASDUs.
const COMMON_ADDRESS: u16 = 1;

/// Type identifications.
const M_SP_NA_1: u8 = 1;
const M_ME_NC_1: u8 = 13;
const C_SC_NA_1: u8 = 45;
const C_IC_NA_1: u8 = 100;

/// Causes of transmission.
const COT_SPONTANEOUS: u8 = 3;
const COT_ACTIVATION: u8 = 6;
const COT_ACT_CON: u8 = 7;
const COT_ACT_TERM: u8 = 10;
const COT_INTERROGATED: u8 = 20;

/// U-format functions.
const STARTDT_ACT: u8 = 0x07;
const STARTDT_CON: u8 = 0x0b;
const TESTFR_ACT: u8 = 0x43;
const TESTFR_CON: u8 = 0x83;

/// APCI with four control octets.
fn apci(control: [u8; 4], asdu: &[u8]) -> Vec<u8> {
    let mut out = vec![0x68, (4 + asdu.len()) as u8];
    out.extend_from_slice(&control);
    out.extend_from_slice(asdu);
    out
}

/// ASDU header and information objects (each starting with its 3-byte address).
fn asdu(type_id: u8, count: u8, sequence: bool, cot: u8, objects: &[u8]) -> Vec<u8> {
    let vsq = count | if sequence { 0x80 } else { 0 };
    let mut out = vec![type_id, vsq, cot, 0];
    out.extend_from_slice(&COMMON_ADDRESS.to_le_bytes());
    out.extend_from_slice(objects);
    out
}

/// Information object address (3 bytes, little-endian).
fn ioa(addr: u32) -> [u8; 3] {
    let b = addr.to_le_bytes();
    [b[0], b[1], b[2]]
}

/// The link with its send/receive counters.
struct Link {
    conn: Conn,
    /// I-frames sent by the SCADA.
    master_sent: u16,
    /// I-frames sent by the RTU.
    rtu_sent: u16,
    /// RTU I-frames not yet acknowledged by the SCADA.
    unacked: u16,
}

impl Link {
    fn i_control(ns: u16, nr: u16) -> [u8; 4] {
        let (s, r) = ((ns << 1).to_le_bytes(), (nr << 1).to_le_bytes());
        [s[0], s[1], r[0], r[1]]
    }

    /// An I-frame from the SCADA.
    fn master_i(&mut self, sim: &mut Sim, ts: i64, asdu: &[u8]) -> i64 {
        let frame = apci(Self::i_control(self.master_sent, self.rtu_sent), asdu);
        self.master_sent = (self.master_sent + 1) & 0x7fff;
        self.unacked = 0;
        sim.send(&mut self.conn, true, ts, &frame)
    }

    /// An I-frame from the RTU; the SCADA acknowledges every eighth with an S-frame and
    /// the others with a delayed TCP ACK.
    fn rtu_i(&mut self, sim: &mut Sim, ts: i64, asdu: &[u8]) -> i64 {
        let frame = apci(Self::i_control(self.rtu_sent, self.master_sent), asdu);
        self.rtu_sent = (self.rtu_sent + 1) & 0x7fff;
        self.unacked += 1;
        sim.send(&mut self.conn, false, ts, &frame)
    }

    /// The SCADA's S-frame or, if nothing is due, a TCP ACK.
    fn master_ack(&mut self, sim: &mut Sim, ts: i64) {
        if self.unacked >= 8 {
            let r = (self.rtu_sent << 1).to_le_bytes();
            sim.send(&mut self.conn, true, ts, &apci([0x01, 0x00, r[0], r[1]], &[]));
            self.unacked = 0;
        } else {
            sim.ack(&mut self.conn, true, ts);
        }
    }

    /// A U-format request from the SCADA and the RTU's confirmation.
    fn u_exchange(&mut self, sim: &mut Sim, ts: i64, act: u8, con: u8) -> i64 {
        let req = apci([act, 0, 0, 0], &[]);
        let resp = apci([con, 0, 0, 0], &[]);
        let think = sim.jitter(MS, 5 * MS);
        sim.exchange_acked(&mut self.conn, ts, &req, &resp, think)
    }

    /// General interrogation: activation, confirmation, station data, termination.
    fn interrogate(&mut self, sim: &mut Sim, ts: i64) -> i64 {
        let mut obj = ioa(0).to_vec();
        obj.push(20);
        let t = self.master_i(sim, ts, &asdu(C_IC_NA_1, 1, false, COT_ACTIVATION, &obj));
        let mut t = self.rtu_i(sim, t + 5 * MS, &asdu(C_IC_NA_1, 1, false, COT_ACT_CON, &obj));
        let mut points = ioa(1001).to_vec();
        points.extend((0..8).map(|i| u8::from(i % 3 == 0)));
        t = self.rtu_i(sim, t + 3 * MS, &asdu(M_SP_NA_1, 8, true, COT_INTERROGATED, &points));
        let mut values = Vec::new();
        for i in 0..6u32 {
            values.extend_from_slice(&ioa(2001 + i));
            values.extend_from_slice(&(230.0f32 + i as f32 * 1.5).to_le_bytes());
            values.push(0);
        }
        t = self.rtu_i(sim, t + 3 * MS, &asdu(M_ME_NC_1, 6, false, COT_INTERROGATED, &values));
        t = self.rtu_i(sim, t + 3 * MS, &asdu(C_IC_NA_1, 1, false, COT_ACT_TERM, &obj));
        self.master_ack(sim, t + 20 * MS);
        self.conn.t
    }

    /// A single command (select-before-operate not used) with its confirmation and termination.
    fn single_command(&mut self, sim: &mut Sim, ts: i64, address: u32, on: bool) -> i64 {
        let mut obj = ioa(address).to_vec();
        obj.push(u8::from(on));
        let t = self.master_i(sim, ts, &asdu(C_SC_NA_1, 1, false, COT_ACTIVATION, &obj));
        let delay = sim.jitter(5 * MS, 15 * MS);
        let t = self.rtu_i(sim, t + delay, &asdu(C_SC_NA_1, 1, false, COT_ACT_CON, &obj));
        let delay = sim.jitter(20 * MS, 60 * MS);
        let t = self.rtu_i(sim, t + delay, &asdu(C_SC_NA_1, 1, false, COT_ACT_TERM, &obj));
        let delay = sim.jitter(10 * MS, 40 * MS);
        self.master_ack(sim, t + delay);
        self.conn.t
    }
}

/// Schedules the IEC 104 traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    let t = sim.start + sim.jitter(SEC, 4 * SEC);
    let conn = sim.connect(t, plant::SCADA.ip, plant::RTU.ip, PORT);
    let mut link = Link { conn, master_sent: 0, rtu_sent: 0, unacked: 0 };
    let t = link.u_exchange(sim, link.conn.t + 10 * MS, STARTDT_ACT, STARTDT_CON);
    let mut t = link.interrogate(sim, t + 50 * MS);
    let burst_at = sim.at(0.85);
    let mut burst_done = !sim.incidents;
    let mut last_test = t;
    while t < sim.end - 2 * SEC {
        if !burst_done && t >= burst_at {
            // Incident: twenty breaker commands within a few seconds.
            for i in 0..20u32 {
                let delay = sim.jitter(50 * MS, 150 * MS);
                t = link.single_command(sim, t + delay, 3001 + i % 10, i % 2 == 0);
            }
            burst_done = true;
        }
        if t - last_test > 30 * SEC {
            t = link.u_exchange(sim, t + 10 * MS, TESTFR_ACT, TESTFR_CON);
            last_test = t;
        }
        let mut value = ioa(2001 + sim.rng.range(0, 6) as u32).to_vec();
        value.extend_from_slice(&(229.0f32 + sim.rng.range(0, 400) as f32 / 100.0).to_le_bytes());
        value.push(0);
        let sent = link.rtu_i(sim, t, &asdu(M_ME_NC_1, 1, false, COT_SPONTANEOUS, &value));
        let delay = sim.jitter(30 * MS, 150 * MS);
        link.master_ack(sim, sent + delay);
        t = link.conn.t + sim.jitter(1500 * MS, 4 * SEC);
    }
}
