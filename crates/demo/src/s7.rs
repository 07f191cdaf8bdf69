//! S7comm over COTP (ISO-on-TCP): connection setup, cyclic variable reads, an SZL
//! identification read and the PLC STOP / hot start incident.

use crate::plant::{self, Host};
use crate::sim::{Conn, Sim, MS, SEC};

/// ISO-on-TCP port.
const PORT: u16 = 102;

/// S7comm PDU types (ROSCTR).
const JOB: u8 = 1;
const ACK_DATA: u8 = 3;
const USERDATA: u8 = 7;

/// An S7 connection with its PDU reference counter.
struct Session {
    conn: Conn,
    pdu_ref: u16,
}

/// TPKT header (RFC 1006).
fn tpkt(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![3, 0];
    out.extend_from_slice(&((payload.len() + 4) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// COTP connection request (`code` 0xe0) or confirm (0xd0) with TPDU size and TSAPs.
fn cotp_connect(code: u8, dst_ref: u16, src_ref: u16, remote_tsap: u16) -> Vec<u8> {
    let mut out = vec![17, code];
    out.extend_from_slice(&dst_ref.to_be_bytes());
    out.extend_from_slice(&src_ref.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&[0xc0, 1, 0x0a]);
    out.extend_from_slice(&[0xc1, 2, 0x01, 0x00]);
    out.push(0xc2);
    out.push(2);
    out.extend_from_slice(&remote_tsap.to_be_bytes());
    out
}

/// COTP data TPDU (last unit) carrying `payload`.
fn cotp_data(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![2, 0xf0, 0x80];
    out.extend_from_slice(payload);
    out
}

/// S7comm header, parameters and data.
fn s7_pdu(rosctr: u8, pdu_ref: u16, params: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x32, rosctr, 0, 0];
    out.extend_from_slice(&pdu_ref.to_be_bytes());
    out.extend_from_slice(&(params.len() as u16).to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    if rosctr == ACK_DATA {
        out.extend_from_slice(&[0, 0]);
    }
    out.extend_from_slice(params);
    out.extend_from_slice(data);
    out
}

/// Setup communication parameters.
fn setup_comm(pdu_len: u16) -> Vec<u8> {
    let mut out = vec![0xf0, 0, 0, 1, 0, 1];
    out.extend_from_slice(&pdu_len.to_be_bytes());
    out
}

/// One SZL 0x0011 record: index, order number, module type and version.
fn szl_record(index: u16, order: &str, version: [u8; 4]) -> Vec<u8> {
    let mut out = index.to_be_bytes().to_vec();
    let mut mlfb = order.as_bytes().to_vec();
    mlfb.resize(20, b' ');
    out.extend_from_slice(&mlfb);
    out.extend_from_slice(&[0x00, 0xc0]);
    out.extend_from_slice(&version);
    out
}

/// A read-variable item addressing `len` bytes of data block `db` at byte `offset`.
fn read_item(db: u16, offset: u32, len: u16) -> Vec<u8> {
    let mut out = vec![0x12, 0x0a, 0x10, 0x02];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&db.to_be_bytes());
    out.push(0x84);
    out.extend_from_slice(&(offset * 8).to_be_bytes()[1..]);
    out
}

impl Session {
    /// Opens ISO-on-TCP, COTP and S7 communication from `client` to the CPU in `slot`.
    fn open(sim: &mut Sim, ts: i64, client: &Host, plc: &Host, slot: u8) -> Self {
        let mut conn = sim.connect(ts, client.ip, plc.ip, PORT);
        let tsap = 0x0100 | u16::from(slot);
        let (cref, sref) = (sim.rng.u16() | 1, sim.rng.u16() | 1);
        let cr = tpkt(&cotp_connect(0xe0, 0, cref, tsap));
        let cc = tpkt(&cotp_connect(0xd0, cref, sref, tsap));
        let at = conn.t + 200_000;
        let t = sim.exchange(&mut conn, at, &cr, &cc, 2 * MS);
        let mut session = Session { conn, pdu_ref: sim.rng.u16() % 1024 };
        let pdu_len = if slot == 1 { 960 } else { 240 };
        session.call(sim, t + 300_000, JOB, &setup_comm(480), &[], &setup_comm(pdu_len), &[], false);
        session
    }

    /// A job (or user-data request) and the CPU's answer; returns the answer time.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        sim: &mut Sim,
        ts: i64,
        rosctr: u8,
        params: &[u8],
        data: &[u8],
        resp_params: &[u8],
        resp_data: &[u8],
        acked: bool,
    ) -> i64 {
        self.pdu_ref = self.pdu_ref.wrapping_add(1);
        let req = tpkt(&cotp_data(&s7_pdu(rosctr, self.pdu_ref, params, data)));
        let resp_type = if rosctr == USERDATA { USERDATA } else { ACK_DATA };
        let resp = tpkt(&cotp_data(&s7_pdu(resp_type, self.pdu_ref, resp_params, resp_data)));
        let think = sim.jitter(2 * MS, 8 * MS);
        if acked {
            sim.exchange_acked(&mut self.conn, ts, &req, &resp, think)
        } else {
            sim.exchange(&mut self.conn, ts, &req, &resp, think)
        }
    }

    /// Reads two areas of DB 1 (16 and 4 bytes).
    fn read_var(&mut self, sim: &mut Sim, ts: i64) -> i64 {
        let mut params = vec![0x04, 2];
        params.extend(read_item(1, 0, 16));
        params.extend(read_item(1, 100, 4));
        let mut data = Vec::new();
        for (i, len) in [16usize, 4].into_iter().enumerate() {
            data.extend_from_slice(&[0xff, 0x04]);
            data.extend_from_slice(&((len * 8) as u16).to_be_bytes());
            data.extend(sim.rng.bytes(len));
            if i == 0 && len % 2 == 1 {
                data.push(0);
            }
        }
        self.call(sim, ts, JOB, &params, &[], &[0x04, 2], &data, true)
    }

    /// Reads SZL 0x0011 (module identification) and gets the order number and firmware.
    fn read_identity(&mut self, sim: &mut Sim, ts: i64, order: &str, firmware: [u8; 4]) -> i64 {
        let params = [0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00];
        let data = [0xff, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00];
        let resp_params = [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00];
        let mut records = Vec::new();
        records.extend(szl_record(0x0001, order, [0x00, 0x04, 0x00, 0x04]));
        records.extend(szl_record(0x0006, order, [0x00, 0x04, 0x00, 0x04]));
        records.extend(szl_record(0x0007, "", firmware));
        let mut szl = vec![0x00, 0x11, 0x00, 0x00, 0x00, 28, 0x00, 3];
        szl.extend(records);
        let mut resp_data = vec![0xff, 0x09];
        resp_data.extend_from_slice(&(szl.len() as u16).to_be_bytes());
        resp_data.extend(szl);
        self.call(sim, ts, USERDATA, &params, &data, &resp_params, &resp_data, true)
    }

    /// PLC STOP (function 0x29).
    fn stop(&mut self, sim: &mut Sim, ts: i64) -> i64 {
        let mut params = vec![0x29, 0, 0, 0, 0, 0, 9];
        params.extend_from_slice(b"P_PROGRAM");
        self.call(sim, ts, JOB, &params, &[], &[0x29], &[], true)
    }

    /// Hot start through the PI service (function 0x28).
    fn hot_start(&mut self, sim: &mut Sim, ts: i64) -> i64 {
        let mut params = vec![0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0x00, 0x00, 9];
        params.extend_from_slice(b"P_PROGRAM");
        self.call(sim, ts, JOB, &params, &[], &[0x28], &[], true)
    }

    fn close(mut self, sim: &mut Sim, ts: i64) {
        sim.close(&mut self.conn, true, ts);
    }
}

/// Cyclic reads of one CPU every `period` until the end.
fn poll(sim: &mut Sim, client: &Host, plc: &Host, slot: u8, period: i64) {
    let t = sim.start + sim.jitter(300 * MS, 2 * SEC);
    let mut session = Session::open(sim, t, client, plc, slot);
    let mut t = session.conn.t + 100 * MS;
    while t < sim.end - SEC {
        session.read_var(sim, t);
        t += period + sim.jitter(-4 * MS, 4 * MS);
    }
}

/// The engineering workstation identifies a CPU (SZL 0x0011) and disconnects.
fn identify(sim: &mut Sim, ts: i64, plc: &Host, slot: u8, order: &str, firmware: [u8; 4]) {
    let mut session = Session::open(sim, ts, &plant::EWS, plc, slot);
    let t = session.conn.t + 150 * MS;
    let done = session.read_identity(sim, t, order, firmware);
    session.close(sim, done + 2 * SEC);
}

/// A client reads `reads` blocks of `len` bytes of DB 2 in a row on a new session (a bulk copy of the CPU's data).
pub(crate) fn bulk_read(sim: &mut Sim, ts: i64, client: &Host, plc: &Host, slot: u8, reads: u32, len: u16) -> i64 {
    let mut session = Session::open(sim, ts, client, plc, slot);
    let mut t = session.conn.t + 50 * MS;
    for i in 0..reads {
        let mut params = vec![0x04, 1];
        params.extend(read_item(2, i * u32::from(len), len));
        let mut data = vec![0xff, 0x04];
        data.extend_from_slice(&(len * 8).to_be_bytes());
        data.extend(sim.rng.bytes(usize::from(len)));
        t = session.call(sim, t + 2 * MS, JOB, &params, &[], &[0x04, 1], &data, false);
    }
    session.close(sim, t + 200 * MS);
    t
}

/// Incident: the engineering workstation stops the S7-300 and restarts it 20 s later.
fn stop_and_restart(sim: &mut Sim, ts: i64) {
    let mut session = Session::open(sim, ts, &plant::EWS, &plant::S7_300, 2);
    let t = session.conn.t + 400 * MS;
    let stopped = session.stop(sim, t);
    let started = session.hot_start(sim, stopped + 20 * SEC);
    session.close(sim, started + SEC);
}

/// Schedules the S7comm traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    poll(sim, &plant::SCADA, &plant::S7_300, 2, SEC);
    poll(sim, &plant::HMI2, &plant::S7_1500, 1, 500 * MS);
    let t = sim.at(0.15);
    identify(sim, t, &plant::S7_300, 2, "6ES7 315-2EH14-0AB0", [0x56, 0x03, 0x02, 0x06]);
    let t = sim.at(0.16);
    identify(sim, t, &plant::S7_1500, 1, "6ES7 516-3AN01-0AB0", [0x56, 0x02, 0x08, 0x03]);
    if sim.incidents {
        let t = sim.at(0.75);
        stop_and_restart(sim, t);
    }
}
