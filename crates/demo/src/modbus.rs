//! Modbus/TCP: SCADA and HMI polling, HMI writes, a device identification read and an
//! exception response.

use crate::plant::{self, Host};
use crate::sim::{Conn, Sim, MS, SEC};

/// Modbus/TCP port.
pub(crate) const PORT: u16 = 502;

/// Function codes.
const READ_COILS: u8 = 0x01;
pub(crate) const READ_HOLDING: u8 = 0x03;
const READ_INPUT: u8 = 0x04;
const WRITE_SINGLE: u8 = 0x06;
const WRITE_MULTIPLE: u8 = 0x10;
const ENCAPSULATED: u8 = 0x2b;

/// A Modbus/TCP client connection with its transaction counter.
pub(crate) struct Client {
    conn: Conn,
    tid: u16,
    unit: u8,
}

/// The MBAP header followed by the PDU.
pub(crate) fn mbap(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 + pdu.len());
    out.extend_from_slice(&tid.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    out.push(unit);
    out.extend_from_slice(pdu);
    out
}

/// A PDU made of a function code and 16-bit words.
fn words_pdu(fc: u8, words: &[u16]) -> Vec<u8> {
    let mut out = vec![fc];
    for w in words {
        out.extend_from_slice(&w.to_be_bytes());
    }
    out
}

/// Response to FC 3/4: byte count and register values.
fn registers_response(fc: u8, values: &[u16]) -> Vec<u8> {
    let mut out = vec![fc, (values.len() * 2) as u8];
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

/// FC 16 request: address, quantity, byte count and values.
fn write_multiple_request(addr: u16, values: &[u16]) -> Vec<u8> {
    let mut out = words_pdu(WRITE_MULTIPLE, &[addr, values.len() as u16]);
    out.push((values.len() * 2) as u8);
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

/// FC 43 / MEI 14 response carrying the basic identification objects.
fn device_id_response(objects: &[&str]) -> Vec<u8> {
    let mut out = vec![ENCAPSULATED, 0x0e, 0x01, 0x01, 0x00, 0x00, objects.len() as u8];
    for (id, value) in objects.iter().enumerate() {
        out.push(id as u8);
        out.push(value.len() as u8);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

impl Client {
    /// Connects `client` to `server` (unit identifier `unit`).
    pub(crate) fn connect(sim: &mut Sim, ts: i64, client: &Host, server: &Host, unit: u8) -> Self {
        let conn = sim.connect(ts, client.ip, server.ip, PORT);
        Client { conn, tid: sim.rng.u16() % 64, unit }
    }

    /// One transaction; `acked` adds the client's delayed ACK of the answer.
    pub(crate) fn transact(&mut self, sim: &mut Sim, ts: i64, request: &[u8], response: &[u8], acked: bool) -> i64 {
        self.tid = self.tid.wrapping_add(1);
        let req = mbap(self.tid, self.unit, request);
        let resp = mbap(self.tid, self.unit, response);
        let think = sim.jitter(MS, 6 * MS);
        if acked {
            sim.exchange_acked(&mut self.conn, ts, &req, &resp, think)
        } else {
            sim.exchange(&mut self.conn, ts, &req, &resp, think)
        }
    }

    /// Writes one register (FC 6); the answer echoes the request.
    pub(crate) fn write_single(&mut self, sim: &mut Sim, ts: i64, addr: u16, value: u16) -> i64 {
        let pdu = words_pdu(WRITE_SINGLE, &[addr, value]);
        self.transact(sim, ts, &pdu, &pdu, true)
    }

    /// Writes several registers (FC 16).
    pub(crate) fn write_multiple(&mut self, sim: &mut Sim, ts: i64, addr: u16, values: &[u16]) -> i64 {
        let req = write_multiple_request(addr, values);
        let resp = words_pdu(WRITE_MULTIPLE, &[addr, values.len() as u16]);
        self.transact(sim, ts, &req, &resp, true)
    }

    /// Closes the connection.
    pub(crate) fn close(mut self, sim: &mut Sim, ts: i64) {
        sim.close(&mut self.conn, true, ts);
    }
}

/// Request and answer of FC 3 or FC 4 for `n` registers at `addr`, values near `base`.
pub(crate) fn read_registers(sim: &mut Sim, fc: u8, addr: u16, n: u16, base: u16) -> (Vec<u8>, Vec<u8>) {
    let values: Vec<u16> = (0..n).map(|i| base.wrapping_add(i * 37).wrapping_add(sim.rng.range(0, 40) as u16)).collect();
    (words_pdu(fc, &[addr, n]), registers_response(fc, &values))
}

/// Request and answer of FC 1 for `count` coils at `addr`.
fn read_coils(sim: &mut Sim, addr: u16, count: u16) -> (Vec<u8>, Vec<u8>) {
    let n = count.div_ceil(8) as usize;
    let mut resp = vec![READ_COILS, n as u8];
    resp.extend(sim.rng.bytes(n));
    (words_pdu(READ_COILS, &[addr, count]), resp)
}

/// SCADA polling of one PLC every second until the end; every minute it also asks for an
/// address the controller does not have, which returns exception 2 (illegal data address).
fn scada_poll(sim: &mut Sim, master: &Host, plc: &Host, unit: u8, with_exceptions: bool) {
    let mut t = sim.start + sim.jitter(200 * MS, 1500 * MS);
    let mut client = Client::connect(sim, t, master, plc, unit);
    let mut cycle = 0u32;
    t += 50 * MS;
    while t < sim.end - SEC {
        let mut batch = vec![read_registers(sim, READ_HOLDING, 0, 10, 1200)];
        if cycle % 2 == 0 {
            batch.push(read_registers(sim, READ_INPUT, 100, 8, 300));
        }
        if cycle % 5 == 0 {
            batch.push(read_coils(sim, 0, 16));
        }
        if with_exceptions && cycle % 60 == 30 {
            batch.push((words_pdu(READ_HOLDING, &[0x2000, 4]), vec![READ_HOLDING | 0x80, 0x02]));
        }
        let last = batch.len();
        let mut at = t;
        for (i, (req, resp)) in batch.iter().enumerate() {
            at = client.transact(sim, at, req, resp, i + 1 == last) + 2 * MS;
        }
        cycle += 1;
        t += SEC + sim.jitter(-3 * MS, 3 * MS);
    }
}

/// HMI polling of one PLC, with operator setpoint changes (FC 6) and recipe downloads (FC 16).
fn hmi_poll(sim: &mut Sim, hmi: &Host, plc: &Host, unit: u8, period: i64) {
    let mut t = sim.start + sim.jitter(500 * MS, 2 * SEC);
    let mut client = Client::connect(sim, t, hmi, plc, unit);
    let mut cycle = 0u32;
    t += 30 * MS;
    while t < sim.end - SEC {
        let (req, resp) = read_registers(sim, READ_HOLDING, 40, 6, 400);
        let done = client.transact(sim, t, &req, &resp, true);
        if cycle % 45 == 44 {
            let value = 500 + sim.rng.range(0, 200) as u16;
            let delay = sim.jitter(50 * MS, 200 * MS);
            client.write_single(sim, done + delay, 42, value);
        }
        if cycle % 120 == 100 {
            let recipe: Vec<u16> = (0..8).map(|i| 20 + i * 5).collect();
            let delay = sim.jitter(50 * MS, 200 * MS);
            client.write_multiple(sim, done + delay, 200, &recipe);
        }
        cycle += 1;
        t += period + sim.jitter(-5 * MS, 5 * MS);
    }
}

/// The engineering workstation reads the M340's identification (FC 43 / MEI 14).
fn identify(sim: &mut Sim, ts: i64) {
    let mut client = Client::connect(sim, ts, &plant::EWS, &plant::M340, 0xff);
    let req = [ENCAPSULATED, 0x0e, 0x01, 0x00];
    let resp = device_id_response(&["Schneider Electric", "BMX P34 2020", "v3.20"]);
    let done = client.transact(sim, ts + 20 * MS, &req, &resp, true);
    client.close(sim, done + 300 * MS);
}

/// Schedules the Modbus traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    scada_poll(sim, &plant::SCADA, &plant::M340, 1, false);
    scada_poll(sim, &plant::SCADA, &plant::M580, 255, false);
    scada_poll(sim, &plant::SCADA, &plant::WAGO_PFC, 1, false);
    scada_poll(sim, &plant::SCADA, &plant::WAGO_881, 1, true);
    hmi_poll(sim, &plant::HMI1, &plant::M340, 1, SEC);
    hmi_poll(sim, &plant::PANEL, &plant::M580, 255, 500 * MS);
    let t = sim.at(0.12);
    identify(sim, t);
}
