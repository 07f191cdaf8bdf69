//! Administration traffic: SNMP polling and pings from the NMS, SMB2 negotiation with the
//! file server and the cleartext Telnet login incident.

use crate::encode::{ber, ber_int, ber_oid, BER_NULL, BER_OCTETS, BER_SEQUENCE};
use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};

/// SNMP agents and their MIB-II system group.
const AGENTS: [(Host, &str, &[u32]); 3] = [
    (
        plant::OFFICE_SWITCH,
        "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)",
        &[1, 3, 6, 1, 4, 1, 9, 1, 1208],
    ),
    (
        plant::SCALANCE,
        "Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 1, FW: Version V04.02.00",
        &[1, 3, 6, 1, 4, 1, 4329, 20, 1, 1, 1, 1, 79],
    ),
    (plant::HIRSCHMANN, "Hirschmann Railswitch RS30-0802O6O6SDAEHH, HiOS-07.1.01", &[1, 3, 6, 1, 4, 1, 248, 14, 10, 30]),
];

/// OIDs of sysDescr.0, sysObjectID.0, sysUpTime.0 and sysName.0.
const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];
const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];

/// An SNMPv2c message with community "public" around a PDU of `tag` and `bindings`.
fn snmp_message(tag: u8, request_id: i64, bindings: &[(&[u32], Vec<u8>)]) -> Vec<u8> {
    let mut list = Vec::new();
    for (oid, value) in bindings {
        let mut vb = ber_oid(oid);
        vb.extend_from_slice(value);
        list.extend(ber(BER_SEQUENCE, &vb));
    }
    let mut pdu = ber_int(request_id);
    pdu.extend(ber_int(0));
    pdu.extend(ber_int(0));
    pdu.extend(ber(BER_SEQUENCE, &list));
    let mut msg = ber_int(1);
    msg.extend(ber(BER_OCTETS, b"public"));
    msg.extend(ber(tag, &pdu));
    ber(BER_SEQUENCE, &msg)
}

/// The NMS reads the system group of one agent.
fn snmp_poll(sim: &mut Sim, ts: i64, agent: &(Host, &str, &[u32])) {
    let (host, descr, object_id) = agent;
    let id = i64::from(sim.rng.u32() >> 1);
    let null = ber(BER_NULL, &[]);
    let request = snmp_message(
        0xa0,
        id,
        &[(&SYS_DESCR, null.clone()), (&SYS_OBJECT_ID, null.clone()), (&SYS_UPTIME, null.clone()), (&SYS_NAME, null)],
    );
    let uptime = (ts - sim.start) / 10_000_000 + 8_640_000;
    let mut ticks = ber_int(uptime);
    ticks[0] = 0x43;
    let response = snmp_message(
        0xa2,
        id,
        &[
            (&SYS_DESCR, ber(BER_OCTETS, descr.as_bytes())),
            (&SYS_OBJECT_ID, ber_oid(object_id)),
            (&SYS_UPTIME, ticks),
            (&SYS_NAME, ber(BER_OCTETS, host.hostname.unwrap_or_default().as_bytes())),
        ],
    );
    let port = sim.ephemeral_port(plant::NMS.ip);
    let delay = sim.jitter(2 * MS, 8 * MS);
    sim.udp_exchange(ts, (plant::NMS.ip, port), (host.ip, 161), &request, &response, delay);
}

/// NetBIOS session service header.
pub(crate) fn netbios_session(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out[0] = 0;
    out.extend_from_slice(payload);
    out
}

/// SMB2 header for `command` with message id `mid` (`response` sets the flag and credits).
pub(crate) fn smb2_header(command: u16, mid: u64, response: bool) -> Vec<u8> {
    let mut out = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&command.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&u32::from(response).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&mid.to_le_bytes());
    out.extend_from_slice(&0xfeffu32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    out
}

/// SPNEGO NegTokenInit advertising NTLMSSP, as servers put in the negotiate response.
fn spnego_init() -> Vec<u8> {
    let mech = ber_oid(&[1, 3, 6, 1, 4, 1, 311, 2, 2, 10]);
    let mech_list = ber(0xa0, &ber(BER_SEQUENCE, &mech));
    let token = ber(0xa0, &ber(BER_SEQUENCE, &mech_list));
    let mut inner = ber_oid(&[1, 3, 6, 1, 5, 5, 2]);
    inner.extend(token);
    ber(0x60, &inner)
}

/// A Windows 8.1-era SMB2 NEGOTIATE exchange with the file server, then disconnect.
fn smb_negotiate(sim: &mut Sim, ts: i64, pc: &Host) {
    let dialects = [0x0202u16, 0x0210, 0x0300, 0x0302];
    let mut req = smb2_header(0, 0, false);
    req.extend_from_slice(&36u16.to_le_bytes());
    req.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
    req.extend_from_slice(&1u16.to_le_bytes());
    req.extend_from_slice(&0u16.to_le_bytes());
    req.extend_from_slice(&0x7fu32.to_le_bytes());
    req.extend(sim.rng.bytes(16));
    req.extend_from_slice(&0u64.to_le_bytes());
    for d in dialects {
        req.extend_from_slice(&d.to_le_bytes());
    }
    let blob = spnego_init();
    let mut resp = smb2_header(0, 0, true);
    resp.extend_from_slice(&65u16.to_le_bytes());
    resp.extend_from_slice(&1u16.to_le_bytes());
    resp.extend_from_slice(&0x0302u16.to_le_bytes());
    resp.extend_from_slice(&0u16.to_le_bytes());
    resp.extend(sim.rng.bytes(16));
    resp.extend_from_slice(&0x2fu32.to_le_bytes());
    for max in [8_388_608u32; 3] {
        resp.extend_from_slice(&max.to_le_bytes());
    }
    let filetime = (sim.start / 100) as u64 + 116_444_736_000_000_000;
    resp.extend_from_slice(&filetime.to_le_bytes());
    resp.extend_from_slice(&0u64.to_le_bytes());
    resp.extend_from_slice(&128u16.to_le_bytes());
    resp.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    resp.extend_from_slice(&0u32.to_le_bytes());
    resp.extend(blob);
    let mut conn = sim.connect(ts, pc.ip, plant::FILESERVER.ip, 445);
    let start = conn.t + 200_000;
    let think = sim.jitter(MS, 3 * MS);
    let t = sim.exchange_acked(&mut conn, start, &netbios_session(&req), &netbios_session(&resp), think);
    let delay = sim.jitter(SEC, 4 * SEC);
    sim.close(&mut conn, true, t + delay);
}

/// Incident: Telnet login to the Hirschmann switch with a cleartext password.
fn telnet_login(sim: &mut Sim, ts: i64) {
    let mut conn = sim.connect(ts, plant::EWS.ip, plant::HIRSCHMANN.ip, 23);
    let mut t = conn.t + 20 * MS;
    let steps: [(&[u8], &[u8]); 6] = [
        (b"", b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f"),
        (b"\xff\xfd\x01\xff\xfd\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x78\x00\x1e\xff\xf0", b"\r\nHirschmann Railswitch\r\nUser: "),
        (b"admin\r\n", b"admin\r\nPassword: "),
        (b"private\r\n", b"\r\n\r\nrs30-line2 >"),
        (b"enable\r\n", b"enable\r\nrs30-line2 #"),
        (b"show system info\r\n", b"show system info\r\n\r\nSystem Description..........Hirschmann Railswitch\r\nSystem name.................rs30-line2\r\nFirmware software release...HiOS-07.1.01\r\n\r\nrs30-line2 #"),
    ];
    for (request, answer) in steps {
        if request.is_empty() {
            t = sim.send(&mut conn, false, t, answer);
        } else {
            let think = sim.jitter(5 * MS, 30 * MS);
            let delay = sim.jitter(800 * MS, 3 * SEC);
            t = sim.exchange(&mut conn, t + delay, request, answer, think);
        }
    }
    let t = sim.send(&mut conn, true, t + 4 * SEC, b"logout\r\n");
    sim.close(&mut conn, false, t + 20 * MS);
}

/// Schedules SNMP, ping, SMB and Telnet traffic.
pub(crate) fn generate(sim: &mut Sim) {
    let mut t = sim.start + sim.jitter(SEC, 10 * SEC);
    let mut seq = 0u16;
    while t < sim.end - SEC {
        for agent in &AGENTS {
            snmp_poll(sim, t, agent);
            t += sim.jitter(10 * MS, 50 * MS);
        }
        for target in [plant::ROUTER, plant::OFFICE_SWITCH, plant::DC, plant::FILESERVER, plant::PRINTER] {
            seq = seq.wrapping_add(1);
            sim.ping(t, plant::NMS.ip, target.ip, 1, seq);
            t += sim.jitter(5 * MS, 20 * MS);
        }
        t += 60 * SEC;
    }
    // The SCADA server checks its controllers are reachable every 30 s.
    let mut t = sim.start + sim.jitter(2 * SEC, 8 * SEC);
    let mut seq = 0u16;
    while t < sim.end - SEC {
        for plc in [plant::M340, plant::M580, plant::WAGO_PFC, plant::WAGO_881, plant::S7_300, plant::CONTROLLOGIX, plant::RTU] {
            seq = seq.wrapping_add(1);
            sim.ping(t, plant::SCADA.ip, plc.ip, 0x0200, seq);
            t += sim.jitter(2 * MS, 10 * MS);
        }
        t += 30 * SEC;
    }
    let pcs = plant::office_pcs();
    let mut t = sim.start + sim.jitter(3 * SEC, 10 * SEC);
    while t < sim.end - 10 * SEC {
        let pc = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
        smb_negotiate(sim, t, &pc);
        t += sim.jitter(20 * SEC, 50 * SEC);
    }
    if sim.incidents {
        let t = sim.at(0.8);
        telnet_login(sim, t);
    }
}
