//! Scenario captures for detection: a learning period of normal plant traffic, then a
//! detection period of the same length where the normal traffic goes on and, in the attack
//! scenario, attacks and changes happen on top of it.
//!
//! The attack scenario (fractions of the whole capture; learning is the first half):
//! - the demo's incidents (see the crate documentation): the unknown laptop joins, sweeps,
//!   scans and writes Modbus registers; the S7-300 is stopped and restarted; a Telnet login;
//!   a burst of IEC 104 commands;
//! - 51 %: the historian reads the M580 over Modbus (a new connection);
//! - 52 %: the engineering workstation opens the S7-1500's web server (a new protocol);
//! - 60 %, 64 %: the engineering workstation downloads a program to the M340, then uploads
//!   it back (UMAS over Modbus);
//! - 66 %: the laptop guesses FTP logins on the WAGO PFC200 (twelve users refused);
//! - 67 %: the engineering workstation logs in to the PFC200 over FTP and stores a firmware image;
//! - 68 %: the SCADA cold-restarts the DNP3 relay;
//! - 70 %: the engineering workstation sets the ET 200SP's IP address with PROFINET DCP;
//! - 72 %: the laptop sends the M580 an unassigned Modbus function code and a write whose
//!   byte count is wrong, and reads the WAGO 750-881 over Modbus on port 5020;
//! - 77 %: the laptop claims the firewall's address in ARP replies;
//! - 78 %: an office PC talks to a known command-and-control address;
//! - 79 %: another office PC looks up a known malicious domain;
//! - 81 %: HMI 2 opens a TLS session to the internet with a known malicious client fingerprint;
//! - 83 %: the IT PC opens an RDP session to HMI 1;
//! - 86 %: the laptop sends TriStation packets (UDP 1502);
//! - 88 %: HMI 1 floods the M340 with Modbus requests;
//! - 90 %: HMI 2 copies the S7-1500's data in bulk;
//! - 93 %: an office PC rewrites 25 files on the file server within seconds.
//!
//! The quiet scenario has only the normal traffic (the incidents are left out), with a
//! DHCP lease renewal in the detection period.

use crate::encode::{DnsMsg, C_IN, T_A};
use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};
use crate::wire::{self, L2};
use crate::{admin, discovery, dnp3, modbus, names, s7, web};
use std::net::Ipv4Addr;

/// Which scenario to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioKind {
    /// Normal traffic only, plus a DHCP renewal.
    Quiet,
    /// Normal traffic with attacks and changes after the learning period.
    Attacks,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioOptions {
    /// Which scenario.
    pub kind: ScenarioKind,
    /// Seed of the pseudo-random jitter, identifiers and payload bytes.
    pub seed: u64,
    /// Length of the learning period in seconds; the detection period is as long.
    pub learning_secs: u32,
    /// Time of the first packet, in seconds since the Unix epoch.
    pub start_unix: i64,
}

impl Default for ScenarioOptions {
    /// The attack scenario, seed 7, five minutes of learning, starting 2025-01-14T10:00:00Z.
    fn default() -> Self {
        ScenarioOptions { kind: ScenarioKind::Attacks, seed: 7, learning_secs: 300, start_unix: 1_736_848_800 }
    }
}

/// Threat intelligence naming what the attack scenario contacts, as a plain list for
/// `palisade intel import` / `--intel`.
pub const SCENARIO_INTEL: &str = "\
# Indicators of the attack scenario
185.220.101.45
evil-c2.example
413fcd3670c6b2aa434eead75a484252
";

/// The command-and-control address of the scenario.
const C2: Ipv4Addr = Ipv4Addr::new(185, 220, 101, 45);
/// The internet server HMI 2 reaches.
const OUTSIDE: Ipv4Addr = Ipv4Addr::new(91, 198, 174, 192);
/// An address where no device lives (the TriStation packets go there).
const NOBODY: Ipv4Addr = Ipv4Addr::new(10, 20, 20, 150);

/// Generates the scenario's traffic into `sim`.
pub(crate) fn generate(sim: &mut Sim, kind: ScenarioKind) {
    sim.incidents = kind == ScenarioKind::Attacks;
    crate::normal_traffic(sim);
    match kind {
        ScenarioKind::Quiet => {
            let pcs = plant::office_pcs();
            let t = sim.at(0.7);
            names::dhcp_renew(sim, t, &pcs[5], &plant::DC);
        }
        ScenarioKind::Attacks => attacks(sim),
    }
}

/// The attacks and changes after learning.
fn attacks(sim: &mut Sim) {
    crate::incidents::generate(sim);
    let pcs = plant::office_pcs();
    let laptop = plant::ROGUE_LAPTOP;
    let t = sim.at(0.51);
    historian_reads(sim, t);
    let t = sim.at(0.52);
    browse_plc(sim, t);
    let t = sim.at(0.60);
    umas(sim, t, &[0x30, 0x31, 0x31, 0x31, 0x32]);
    let t = sim.at(0.64);
    umas(sim, t, &[0x33, 0x34, 0x34, 0x35]);
    let t = sim.at(0.66);
    let users = ["admin", "root", "user", "operator", "service", "guest", "wago", "plc", "maint", "engineer", "test", "ftp"];
    let guesses: Vec<(&str, bool)> = users.iter().map(|u| (*u, false)).collect();
    ftp_session(sim, t, &laptop, &plant::WAGO_PFC, &guesses, None);
    let t = sim.at(0.67);
    ftp_session(sim, t, &plant::EWS, &plant::WAGO_PFC, &[("admin", true)], Some("PFC200_firmware_04.02.13.wup"));
    let t = sim.at(0.68);
    dnp3::cold_restart(sim, t);
    let t = sim.at(0.70);
    discovery::set_ip(sim, t, &plant::EWS, &plant::ET200SP, [10, 20, 20, 199], [255, 255, 255, 0], [10, 20, 20, 1]);
    let t = sim.at(0.72);
    bad_modbus(sim, t);
    let t = sim.at(0.77);
    arp_spoof(sim, t);
    let t = sim.at(0.78);
    c2_session(sim, t, &pcs[0]);
    let t = sim.at(0.79);
    evil_lookup(sim, t, &pcs[3]);
    let t = sim.at(0.81);
    malicious_tls(sim, t, &plant::HMI2);
    let t = sim.at(0.83);
    rdp(sim, t, &pcs[pcs.len() - 1], &plant::HMI1);
    let t = sim.at(0.86);
    for i in 0..3 {
        let payload = [0x02, 0x00, 0x14, 0x00, i, 0x00, 0x06, 0x00, 0x00, 0x00];
        sim.udp(t + i64::from(i) * 500 * MS, (laptop.ip, 40_502), (NOBODY, 1502), &payload);
    }
    let t = sim.at(0.88);
    modbus_flood(sim, t);
    let t = sim.at(0.90);
    s7::bulk_read(sim, t, &plant::HMI2, &plant::S7_1500, 1, 400, 900);
    let t = sim.at(0.93);
    smb_burst(sim, t, &pcs[1]);
}

/// The historian reads holding registers of the M580, which it never did.
fn historian_reads(sim: &mut Sim, ts: i64) {
    let mut client = modbus::Client::connect(sim, ts, &plant::HISTORIAN, &plant::M580, 255);
    let mut t = ts + 40 * MS;
    for _ in 0..3 {
        let (req, resp) = modbus::read_registers(sim, modbus::READ_HOLDING, 0, 8, 100);
        t = client.transact(sim, t + SEC, &req, &resp, true);
    }
    client.close(sim, t + 300 * MS);
}

/// The engineering workstation opens the S7-1500's web server.
fn browse_plc(sim: &mut Sim, ts: i64) {
    let mut conn = sim.connect(ts, plant::EWS.ip, plant::S7_1500.ip, 80);
    let host = plant::S7_1500.ip.to_string();
    let request = web::http_get(&host, "/Portal/Portal.mwsl");
    let page = web::http_ok("Siemens", "text/html", "<html><head><title>SIMATIC S7-1500</title></head><body></body></html>");
    let at = conn.t + 300_000;
    let t = sim.exchange_acked(&mut conn, at, &request, &page, 5 * MS);
    sim.close(&mut conn, true, t + SEC);
}

/// UMAS functions from the engineering workstation to the M340 (program transfer).
fn umas(sim: &mut Sim, ts: i64, functions: &[u8]) {
    let mut client = modbus::Client::connect(sim, ts, &plant::EWS, &plant::M340, 0);
    let session = 0x2a;
    let mut t = ts + 40 * MS;
    for &f in functions {
        let mut request = vec![0x5a, session, f];
        request.extend(sim.rng.bytes(24));
        let response = [0x5a, session, 0xfe, 0x00];
        t = client.transact(sim, t + 200 * MS, &request, &response, true);
    }
    client.close(sim, t + 300 * MS);
}

/// An FTP control session: logins (user, accepted), then optionally a binary upload.
fn ftp_session(sim: &mut Sim, ts: i64, client: &Host, server: &Host, logins: &[(&str, bool)], store: Option<&str>) {
    let mut conn = sim.connect(ts, client.ip, server.ip, 21);
    let at = conn.t + 20 * MS;
    let mut t = sim.send(&mut conn, false, at, b"220 PFC200 FTP server ready\r\n");
    for (user, accepted) in logins {
        t = sim.exchange(&mut conn, t + 300 * MS, format!("USER {user}\r\n").as_bytes(), b"331 Password required\r\n", 2 * MS);
        let reply: &[u8] = if *accepted { b"230 User logged in\r\n" } else { b"530 Login incorrect\r\n" };
        t = sim.exchange(&mut conn, t + 400 * MS, b"PASS wago1234\r\n", reply, 50 * MS);
    }
    if let Some(file) = store {
        t = sim.exchange(&mut conn, t + 200 * MS, b"TYPE I\r\n", b"200 Type set to I\r\n", 2 * MS);
        let command = format!("STOR {file}\r\n");
        t = sim.exchange(&mut conn, t + 200 * MS, command.as_bytes(), b"150 Opening BINARY mode data connection\r\n", 5 * MS);
        t = sim.send(&mut conn, false, t + 2 * SEC, b"226 Transfer complete\r\n");
    }
    t = sim.exchange(&mut conn, t + 200 * MS, b"QUIT\r\n", b"221 Goodbye\r\n", 2 * MS);
    sim.close(&mut conn, false, t + 20 * MS);
}

/// The laptop sends the M580 an unassigned function code and a malformed write, then reads
/// the WAGO 750-881 over Modbus on port 5020.
fn bad_modbus(sim: &mut Sim, ts: i64) {
    let laptop = plant::ROGUE_LAPTOP;
    let mut conn = sim.connect(ts, laptop.ip, plant::M580.ip, modbus::PORT);
    let (req, resp) = modbus::read_registers(sim, modbus::READ_HOLDING, 0, 2, 10);
    let at = conn.t + 30 * MS;
    let t = sim.exchange_acked(&mut conn, at, &modbus::mbap(1, 255, &req), &modbus::mbap(1, 255, &resp), 3 * MS);
    let t =
        sim.exchange_acked(&mut conn, t + 200 * MS, &modbus::mbap(2, 255, &[30, 0, 0]), &modbus::mbap(2, 255, &[30 | 0x80, 0x01]), 3 * MS);
    // FC 16 for two registers with a byte count of 9.
    let write = [0x10, 0x00, 0x10, 0x00, 0x02, 0x09, 0, 1, 0, 2, 0];
    let t = sim.exchange_acked(&mut conn, t + 300 * MS, &modbus::mbap(3, 255, &write), &modbus::mbap(3, 255, &[0x90, 0x03]), 3 * MS);
    sim.close(&mut conn, true, t + 200 * MS);
    let mut conn = sim.connect(t + SEC, laptop.ip, plant::WAGO_881.ip, 5020);
    let (req, resp) = modbus::read_registers(sim, modbus::READ_HOLDING, 0, 4, 10);
    let at = conn.t + 30 * MS;
    let t = sim.exchange_acked(&mut conn, at, &modbus::mbap(7, 1, &req), &modbus::mbap(7, 1, &resp), 3 * MS);
    sim.close(&mut conn, true, t + 200 * MS);
}

/// The laptop tells the SCADA server and HMI 1 that the firewall's address is its own.
fn arp_spoof(sim: &mut Sim, ts: i64) {
    let laptop = plant::ROGUE_LAPTOP;
    let vlan = plant::PLANT.vlan;
    for (i, victim) in [plant::SCADA, plant::HMI1].iter().enumerate() {
        for round in 0..3 {
            let reply = wire::arp(2, laptop.mac, plant::FIREWALL.ip, victim.mac, victim.ip);
            let at = ts + i as i64 * 100 * MS + round * 2 * SEC;
            sim.emit_l2(at, &L2 { dst: victim.mac, src: laptop.mac, vlan }, wire::ETH_ARP, &reply);
        }
    }
}

/// An office PC exchanges encrypted data with the command-and-control server.
fn c2_session(sim: &mut Sim, ts: i64, pc: &Host) {
    let mut conn = sim.connect(ts, pc.ip, C2, 443);
    let beacon = sim.rng.bytes(180);
    let task = sim.rng.bytes(420);
    let at = conn.t + MS;
    let t = sim.exchange_acked(&mut conn, at, &beacon, &task, 40 * MS);
    sim.close(&mut conn, true, t + 2 * SEC);
}

/// An office PC asks the domain controller for a malicious domain, which does not resolve.
fn evil_lookup(sim: &mut Sim, ts: i64, pc: &Host) {
    let name = "update.evil-c2.example";
    let id = sim.rng.u16();
    let port = sim.ephemeral_port(pc.ip);
    let query = DnsMsg::new(id, 0x0100).question(name, T_A, C_IN).finish();
    let answer = DnsMsg::new(id, 0x8183).question(name, T_A, C_IN).finish();
    sim.udp_exchange(ts, (pc.ip, port), (plant::DC.ip, 53), &query, &answer, 600_000);
}

/// A TLS client of a malware family: an old-style ClientHello with few suites and no SNI.
fn malware_hello(sim: &mut Sim) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend(sim.rng.bytes(32));
    body.push(0);
    let suites: Vec<u8> = [0x002fu16, 0x0035, 0x000a, 0x0005].iter().flat_map(|s| s.to_be_bytes()).collect();
    body.extend(web::prefixed(true, &suites));
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    web::extension(&mut ext, 0xff01, &[0]);
    web::extension(&mut ext, 0x000a, &web::prefixed(true, &[0x00, 0x17]));
    web::extension(&mut ext, 0x000b, &[1, 0]);
    body.extend(web::prefixed(true, &ext));
    web::record(22, 0x0301, &web::handshake(1, &body))
}

/// HMI 2 opens a TLS session to the internet with the malware's client.
fn malicious_tls(sim: &mut Sim, ts: i64, hmi: &Host) {
    let mut conn = sim.connect(ts, hmi.ip, OUTSIDE, 443);
    let hello = malware_hello(sim);
    let mut flight = web::server_hello(sim, &[], 0x002f, false);
    flight.extend(web::change_cipher_spec());
    let at = conn.t + MS;
    let t = sim.exchange_acked(&mut conn, at, &hello, &flight, 20 * MS);
    let data = web::encrypted(sim, 23, 600);
    let t = sim.send(&mut conn, true, t + 50 * MS, &data);
    sim.close(&mut conn, true, t + SEC);
}

/// An RDP session (X.224 connection with the RDP negotiation, then encrypted traffic).
fn rdp(sim: &mut Sim, ts: i64, client: &Host, server: &Host) {
    let tpkt = |payload: &[u8]| {
        let mut out = vec![3, 0];
        out.extend_from_slice(&((payload.len() + 4) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    };
    let mut cr_body = b"Cookie: mstshash=it-admin\r\n".to_vec();
    cr_body.extend_from_slice(&[0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
    let mut cr = vec![(6 + cr_body.len()) as u8, 0xe0, 0, 0, 0, 0, 0];
    cr.extend(cr_body);
    let cc = [14, 0xd0, 0, 0, 0x12, 0x34, 0, 0x02, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00];
    let mut conn = sim.connect(ts, client.ip, server.ip, 3389);
    let at = conn.t + MS;
    let mut t = sim.exchange_acked(&mut conn, at, &tpkt(&cr), &tpkt(&cc), 3 * MS);
    for _ in 0..6 {
        let up = web::encrypted(sim, 23, 300);
        let down = web::encrypted(sim, 23, 1200);
        t = sim.exchange_acked(&mut conn, t + 200 * MS, &up, &down, 10 * MS);
    }
    sim.close(&mut conn, true, t + SEC);
}

/// HMI 1 floods the M340 with read requests on a new connection.
fn modbus_flood(sim: &mut Sim, ts: i64) {
    let mut client = modbus::Client::connect(sim, ts, &plant::HMI1, &plant::M340, 1);
    let mut t = ts + 20 * MS;
    for _ in 0..2500 {
        let (req, resp) = modbus::read_registers(sim, modbus::READ_HOLDING, 0, 10, 500);
        t = client.transact(sim, t + 2 * MS, &req, &resp, false);
    }
    client.close(sim, t + 100 * MS);
}

/// An office PC opens 25 files of the file server for writing within seconds.
fn smb_burst(sim: &mut Sim, ts: i64, pc: &Host) {
    let mut conn = sim.connect(ts, pc.ip, plant::FILESERVER.ip, 445);
    let mut t = conn.t + MS;
    for i in 0..25u64 {
        let name: Vec<u8> = format!("Finance\\2024\\report_{i:02}.xlsx.locked").encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let mut req = admin::smb2_header(5, 10 + i, false);
        req.extend_from_slice(&57u16.to_le_bytes());
        req.extend_from_slice(&[0, 0]);
        req.extend_from_slice(&2u32.to_le_bytes());
        req.extend_from_slice(&[0; 16]);
        req.extend_from_slice(&0x0012_0116u32.to_le_bytes());
        req.extend_from_slice(&0x80u32.to_le_bytes());
        req.extend_from_slice(&0u32.to_le_bytes());
        req.extend_from_slice(&5u32.to_le_bytes());
        req.extend_from_slice(&0x44u32.to_le_bytes());
        req.extend_from_slice(&120u16.to_le_bytes());
        req.extend_from_slice(&(name.len() as u16).to_le_bytes());
        req.extend_from_slice(&[0; 8]);
        req.extend(name);
        let mut resp = admin::smb2_header(5, 10 + i, true);
        resp.extend_from_slice(&89u16.to_le_bytes());
        resp.extend_from_slice(&[0; 86]);
        t = sim.exchange(&mut conn, t + 150 * MS, &admin::netbios_session(&req), &admin::netbios_session(&resp), 2 * MS);
    }
    sim.close(&mut conn, true, t + SEC);
}
