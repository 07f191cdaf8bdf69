//! EtherNet/IP and CIP: ListIdentity discovery, sessions, Identity reads and tag polling.

use crate::plant::{self, Host};
use crate::sim::{Conn, Sim, MS, SEC};

/// EtherNet/IP explicit messaging port (TCP and UDP).
const PORT: u16 = 44818;

/// Encapsulation commands.
const LIST_IDENTITY: u16 = 0x0063;
const REGISTER_SESSION: u16 = 0x0065;
const UNREGISTER_SESSION: u16 = 0x0066;
const SEND_RR_DATA: u16 = 0x006f;

/// Identity of a Logix controller.
struct Identity {
    host: Host,
    product_code: u16,
    revision: (u8, u8),
    serial: u32,
    name: &'static str,
}

/// The two Rockwell controllers.
const CONTROLLERS: [Identity; 2] = [
    Identity { host: plant::CONTROLLOGIX, product_code: 54, revision: (20, 11), serial: 0x00c0_ffee, name: "1756-L61/B LOGIX5561" },
    Identity { host: plant::COMPACTLOGIX, product_code: 103, revision: (32, 12), serial: 0x6051_c3a2, name: "1769-L33ER/A LOGIX5333ER" },
];

/// Encapsulation header (little-endian) followed by `data`.
fn encap(command: u16, session: u32, context: u64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + data.len());
    out.extend_from_slice(&command.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&session.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&context.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The Identity object's attributes as Get_Attributes_All returns them.
fn identity_attributes(id: &Identity) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&14u16.to_le_bytes());
    out.extend_from_slice(&id.product_code.to_le_bytes());
    out.extend_from_slice(&[id.revision.0, id.revision.1]);
    out.extend_from_slice(&0x0060u16.to_le_bytes());
    out.extend_from_slice(&id.serial.to_le_bytes());
    out.push(id.name.len() as u8);
    out.extend_from_slice(id.name.as_bytes());
    out
}

/// ListIdentity reply with one CIP Identity item.
fn list_identity_reply(id: &Identity) -> Vec<u8> {
    let mut item = 1u16.to_le_bytes().to_vec();
    item.extend_from_slice(&2u16.to_be_bytes());
    item.extend_from_slice(&PORT.to_be_bytes());
    item.extend_from_slice(&id.host.ip.octets());
    item.extend_from_slice(&[0; 8]);
    item.extend(identity_attributes(id));
    item.push(3);
    let mut data = 1u16.to_le_bytes().to_vec();
    data.extend_from_slice(&0x000cu16.to_le_bytes());
    data.extend_from_slice(&(item.len() as u16).to_le_bytes());
    data.extend(item);
    data
}

/// SendRRData body: null address item and an unconnected data item holding `cip`.
fn rr_data(cip: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0];
    out.extend_from_slice(&(cip.len() as u16).to_le_bytes());
    out.extend_from_slice(cip);
    out
}

/// A CIP session on TCP.
struct Session {
    conn: Conn,
    handle: u32,
    context: u64,
}

impl Session {
    /// Connects and registers a session.
    fn open(sim: &mut Sim, ts: i64, client: &Host, plc: &Host) -> Self {
        let mut conn = sim.connect(ts, client.ip, plc.ip, PORT);
        let handle = sim.rng.u32() | 1;
        let context = 0;
        let req = encap(REGISTER_SESSION, 0, context, &[1, 0, 0, 0]);
        let resp = encap(REGISTER_SESSION, handle, context, &[1, 0, 0, 0]);
        let at = conn.t + 200_000;
        sim.exchange(&mut conn, at, &req, &resp, MS);
        Session { conn, handle, context }
    }

    /// One unconnected CIP request and its answer.
    fn request(&mut self, sim: &mut Sim, ts: i64, cip: &[u8], answer: &[u8]) -> i64 {
        self.context = self.context.wrapping_add(1);
        let req = encap(SEND_RR_DATA, self.handle, self.context, &rr_data(cip));
        let resp = encap(SEND_RR_DATA, self.handle, self.context, &rr_data(answer));
        let think = sim.jitter(MS, 4 * MS);
        sim.exchange_acked(&mut self.conn, ts, &req, &resp, think)
    }

    /// Get_Attributes_All on the Identity object (class 1, instance 1).
    fn read_identity(&mut self, sim: &mut Sim, ts: i64, id: &Identity) -> i64 {
        let mut answer = vec![0x81, 0, 0, 0];
        answer.extend(identity_attributes(id));
        self.request(sim, ts, &[0x01, 0x02, 0x20, 0x01, 0x24, 0x01], &answer)
    }

    /// Get_Attribute_Single of the Identity object's status (attribute 5).
    fn read_status(&mut self, sim: &mut Sim, ts: i64) -> i64 {
        self.request(sim, ts, &[0x0e, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x05], &[0x8e, 0, 0, 0, 0x60, 0x00])
    }

    /// UnRegisterSession and close.
    fn close(mut self, sim: &mut Sim, ts: i64) {
        let bye = encap(UNREGISTER_SESSION, self.handle, 0, &[]);
        let t = sim.send(&mut self.conn, true, ts, &bye);
        sim.close(&mut self.conn, true, t + MS);
    }
}

/// RSLinx-style ListIdentity broadcast from the engineering workstation and the replies.
fn browse(sim: &mut Sim, ts: i64) {
    let port = sim.ephemeral_port(plant::EWS.ip);
    let bcast = plant::PLANT.broadcast();
    sim.udp(ts, (plant::EWS.ip, port), (bcast, PORT), &encap(LIST_IDENTITY, 0, 0, &[]));
    for id in &CONTROLLERS {
        let delay = sim.jitter(MS, 40 * MS);
        let reply = encap(LIST_IDENTITY, 0, 0, &list_identity_reply(id));
        sim.udp(ts + delay, (id.host.ip, PORT), (plant::EWS.ip, port), &reply);
    }
}

/// HMI or SCADA session polling the controller's status every `period`.
fn poll(sim: &mut Sim, client: &Host, id: &Identity, period: i64) {
    let t = sim.start + sim.jitter(500 * MS, 3 * SEC);
    let mut session = Session::open(sim, t, client, &id.host);
    let mut t = session.read_identity(sim, session.conn.t + 20 * MS, id) + 200 * MS;
    while t < sim.end - SEC {
        session.read_status(sim, t);
        t += period + sim.jitter(-5 * MS, 5 * MS);
    }
}

/// Schedules the EtherNet/IP traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    let [clx, compact] = &CONTROLLERS;
    poll(sim, &plant::HMI1, clx, SEC);
    poll(sim, &plant::SCADA, compact, 2 * SEC);
    let mut t = sim.start + sim.jitter(2 * SEC, 10 * SEC);
    while t < sim.end - SEC {
        browse(sim, t);
        t += sim.jitter(55 * SEC, 65 * SEC);
    }
    // Studio 5000 goes online with the ControlLogix and reads its identity.
    let t = sim.at(0.2);
    let mut session = Session::open(sim, t, &plant::EWS, &clx.host);
    let done = session.read_identity(sim, session.conn.t + 30 * MS, clx);
    session.close(sim, done + 3 * SEC);
}
