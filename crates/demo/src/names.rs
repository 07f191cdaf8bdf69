//! Address and name services: DHCP, DNS, NetBIOS name service, LLMNR and mDNS.

use crate::encode::{self, DnsMsg, ADDITIONAL, ANSWER, C_IN, C_IN_FLUSH, T_A, T_AAAA, T_NB, T_PTR, T_SRV, T_TXT};
use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};
use crate::wire::{self, Ip, L2};
use palisade_model::MacAddr;
use std::net::Ipv4Addr;

/// The Active Directory / DNS domain of the plant.
pub(crate) const DOMAIN: &str = "plant.local";
/// Upstream resolver the domain controller forwards to.
const UPSTREAM_DNS: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);

/// Names the DNS server knows, internal and public.
const ZONE: [(&str, Ipv4Addr); 12] = [
    ("dc01.plant.local", plant::DC.ip),
    ("fs01.plant.local", plant::FILESERVER.ip),
    ("nms01.plant.local", plant::NMS.ip),
    ("cam-lobby.plant.local", plant::CAMERA_AXIS.ip),
    ("cam-gate.plant.local", plant::CAMERA_HIK.ip),
    ("www.microsoft.com", Ipv4Addr::new(23, 55, 161, 27)),
    ("login.microsoftonline.com", Ipv4Addr::new(20, 190, 160, 67)),
    ("outlook.office365.com", Ipv4Addr::new(52, 98, 151, 66)),
    ("settings-win.data.microsoft.com", Ipv4Addr::new(20, 42, 65, 85)),
    ("teams.microsoft.com", Ipv4Addr::new(52, 113, 194, 132)),
    ("www.google.com", Ipv4Addr::new(142, 250, 185, 68)),
    ("support.industry.siemens.com", Ipv4Addr::new(23, 48, 204, 94)),
];

/// Public names office users look up and then visit over TLS.
pub(crate) const BROWSED: [&str; 6] = [
    "www.microsoft.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "settings-win.data.microsoft.com",
    "teams.microsoft.com",
    "www.google.com",
];

/// DHCP message types.
const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const DHCP_ACK: u8 = 5;

/// Parameter request list of Windows 10/11 clients.
const WINDOWS_PRL: [u8; 14] = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];

/// Appends one DHCP option.
fn dhcp_opt(out: &mut Vec<u8>, code: u8, data: &[u8]) {
    out.push(code);
    out.push(data.len() as u8);
    out.extend_from_slice(data);
}

/// A BOOTP/DHCP message (op 1 = request, 2 = reply), padded to the classic 300 bytes.
fn bootp(op: u8, xid: u32, ciaddr: Ipv4Addr, yiaddr: Ipv4Addr, siaddr: Ipv4Addr, chaddr: MacAddr, options: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(300);
    out.extend_from_slice(&[op, 1, 6, 0]);
    out.extend_from_slice(&xid.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    for a in [ciaddr, yiaddr, siaddr, Ipv4Addr::UNSPECIFIED] {
        out.extend_from_slice(&a.octets());
    }
    out.extend_from_slice(&chaddr.0);
    out.resize(out.len() + 10 + 64 + 128, 0);
    out.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    out.extend_from_slice(options);
    out.push(255);
    if out.len() < 300 {
        out.resize(300, 0);
    }
    out
}

/// Options a Windows client sends in DISCOVER and REQUEST.
fn client_options(kind: u8, host: &Host, requested: Option<Ipv4Addr>, server: Option<Ipv4Addr>) -> Vec<u8> {
    let mut o = Vec::new();
    dhcp_opt(&mut o, 53, &[kind]);
    let mut client_id = vec![1];
    client_id.extend_from_slice(&host.mac.0);
    dhcp_opt(&mut o, 61, &client_id);
    if let Some(ip) = requested {
        dhcp_opt(&mut o, 50, &ip.octets());
    }
    if let Some(ip) = server {
        dhcp_opt(&mut o, 54, &ip.octets());
    }
    if let Some(name) = host.hostname {
        dhcp_opt(&mut o, 12, name.as_bytes());
    }
    dhcp_opt(&mut o, 60, b"MSFT 5.0");
    dhcp_opt(&mut o, 55, &WINDOWS_PRL);
    o
}

/// Options of the server's OFFER and ACK.
fn server_options(kind: u8, server: &Host, dns: Ipv4Addr) -> Vec<u8> {
    let mut o = Vec::new();
    dhcp_opt(&mut o, 53, &[kind]);
    dhcp_opt(&mut o, 54, &server.ip.octets());
    dhcp_opt(&mut o, 51, &691_200u32.to_be_bytes());
    dhcp_opt(&mut o, 58, &345_600u32.to_be_bytes());
    dhcp_opt(&mut o, 59, &604_800u32.to_be_bytes());
    dhcp_opt(&mut o, 1, &[255, 255, 255, 0]);
    if let Some(gw) = plant::gateway_of(server.ip) {
        dhcp_opt(&mut o, 3, &gw.ip.octets());
    }
    dhcp_opt(&mut o, 6, &dns.octets());
    dhcp_opt(&mut o, 15, DOMAIN.as_bytes());
    o
}

/// A full DISCOVER / OFFER / REQUEST / ACK for `client` served by `server`, followed by the
/// client's gratuitous ARP and NetBIOS name registration; returns when the client is ready.
pub(crate) fn dhcp_dora(sim: &mut Sim, ts: i64, client: &Host, server: &Host) -> i64 {
    let xid = sim.rng.u32();
    let vlan = plant::subnet_of(client.ip).and_then(|s| s.vlan);
    let bcast_l2 = L2 { dst: MacAddr::BROADCAST, src: client.mac, vlan };
    let bcast_ip = Ip { src: Ipv4Addr::UNSPECIFIED, dst: Ipv4Addr::BROADCAST, ttl: client.ttl, id: sim.rng.u16() };
    let dns = if plant::OFFICE.contains(client.ip) { plant::DC.ip } else { server.ip };
    let discover = bootp(
        1,
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        client.mac,
        &client_options(DISCOVER, client, None, None),
    );
    sim.udp_on(ts, &bcast_l2, &bcast_ip, 68, 67, &discover);
    let t = ts + sim.jitter(2 * MS, 9 * MS);
    let offer = bootp(2, xid, Ipv4Addr::UNSPECIFIED, client.ip, server.ip, client.mac, &server_options(OFFER, server, dns));
    sim.udp(t, (server.ip, 67), (client.ip, 68), &offer);
    let t = t + sim.jitter(5 * MS, 30 * MS);
    let request = bootp(
        1,
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        client.mac,
        &client_options(REQUEST, client, Some(client.ip), Some(server.ip)),
    );
    let request_ip = Ip { id: bcast_ip.id.wrapping_add(1), ..bcast_ip };
    sim.udp_on(t, &bcast_l2, &request_ip, 68, 67, &request);
    let t = t + sim.jitter(2 * MS, 9 * MS);
    let ack = bootp(2, xid, Ipv4Addr::UNSPECIFIED, client.ip, server.ip, client.mac, &server_options(DHCP_ACK, server, dns));
    sim.udp(t, (server.ip, 67), (client.ip, 68), &ack);
    let t = t + sim.jitter(300 * MS, 700 * MS);
    sim.gratuitous_arp(t, client);
    let t = t + SEC;
    nbns_register(sim, t, client);
    t + 200 * MS
}

/// A lease renewal: unicast REQUEST from the client and the server's ACK.
pub(crate) fn dhcp_renew(sim: &mut Sim, ts: i64, client: &Host, server: &Host) {
    let xid = sim.rng.u32();
    let request =
        bootp(1, xid, client.ip, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, client.mac, &client_options(REQUEST, client, None, None));
    let ack = bootp(2, xid, client.ip, client.ip, server.ip, client.mac, &server_options(DHCP_ACK, server, plant::DC.ip));
    let delay = sim.jitter(2 * MS, 9 * MS);
    sim.udp_exchange(ts, (client.ip, 68), (server.ip, 67), &request, &ack, delay);
}

/// The address the plant's DNS holds for `name`.
pub(crate) fn zone_addr(name: &str) -> Option<Ipv4Addr> {
    ZONE.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// `client` resolves `name` through the domain controller (which forwards public names
/// upstream); returns the answer time.
pub(crate) fn resolve(sim: &mut Sim, ts: i64, client: Ipv4Addr, name: &str, qtype: u16) -> i64 {
    let id = sim.rng.u16();
    let port = sim.ephemeral_port(client);
    let query = DnsMsg::new(id, 0x0100).question(name, qtype, C_IN).finish();
    sim.udp(ts, (client, port), (plant::DC.ip, 53), &query);
    let mut t = ts + sim.jitter(200_000, 900_000);
    let addr = zone_addr(name);
    let public = !name.ends_with(DOMAIN);
    if public && sim.rng.chance(40) {
        let fid = sim.rng.u16();
        let fport = sim.ephemeral_port(plant::DC.ip);
        let fq = DnsMsg::new(fid, 0x0100).question(name, qtype, C_IN).finish();
        let mut fr = DnsMsg::new(fid, 0x8180).question(name, qtype, C_IN);
        if let (Some(a), T_A) = (addr, qtype) {
            fr = fr.record(ANSWER, name, T_A, C_IN, 300, &a.octets());
        }
        let delay = sim.jitter(8 * MS, 25 * MS);
        sim.udp_exchange(t, (plant::DC.ip, fport), (UPSTREAM_DNS, 53), &fq, &fr.finish(), delay);
        t += delay + sim.jitter(100_000, 400_000);
    }
    let answer = match (addr, qtype) {
        (Some(a), T_A) => DnsMsg::new(id, if public { 0x8180 } else { 0x8580 })
            .question(name, qtype, C_IN)
            .record(ANSWER, name, T_A, C_IN, if public { 300 } else { 1200 }, &a.octets())
            .finish(),
        (Some(_), _) => DnsMsg::new(id, 0x8180).question(name, qtype, C_IN).finish(),
        (None, _) => DnsMsg::new(id, 0x8183).question(name, qtype, C_IN).finish(),
    };
    sim.udp(t, (plant::DC.ip, 53), (client, port), &answer);
    t
}

/// The domain controller lookup every Windows client makes (SRV record of the DC).
fn resolve_dc(sim: &mut Sim, ts: i64, client: Ipv4Addr) {
    let name = "_ldap._tcp.dc._msdcs.plant.local";
    let id = sim.rng.u16();
    let port = sim.ephemeral_port(client);
    let query = DnsMsg::new(id, 0x0100).question(name, T_SRV, C_IN).finish();
    let answer = DnsMsg::new(id, 0x8580)
        .question(name, T_SRV, C_IN)
        .record(ANSWER, name, T_SRV, C_IN, 600, &encode::srv_rdata(389, "dc01.plant.local"))
        .record(ADDITIONAL, "dc01.plant.local", T_A, C_IN, 1200, &plant::DC.ip.octets())
        .finish();
    let delay = sim.jitter(200_000, 800_000);
    sim.udp_exchange(ts, (client, port), (plant::DC.ip, 53), &query, &answer, delay);
}

/// NetBIOS name registration broadcast of a Windows host (workstation name, suffix 0x00).
pub(crate) fn nbns_register(sim: &mut Sim, ts: i64, host: &Host) {
    let Some(name) = host.hostname else { return };
    let Some(net) = plant::subnet_of(host.ip) else { return };
    let encoded = encode::netbios_name(name, 0x00);
    let mut rdata = vec![0, 0];
    rdata.extend_from_slice(&host.ip.octets());
    let msg = DnsMsg::new(sim.rng.u16(), 0x2910)
        .question(&encoded, T_NB, C_IN)
        .record(ADDITIONAL, &encoded, T_NB, C_IN, 300_000, &rdata)
        .finish();
    sim.udp(ts, (host.ip, 137), (net.broadcast(), 137), &msg);
}

/// A NetBIOS name query broadcast by `asker` for `target`'s name (server suffix) and its answer.
fn nbns_query(sim: &mut Sim, ts: i64, asker: &Host, target: &Host) {
    let (Some(name), Some(net)) = (target.hostname, plant::subnet_of(asker.ip)) else { return };
    let encoded = encode::netbios_name(name, 0x20);
    let id = sim.rng.u16();
    let query = DnsMsg::new(id, 0x0110).question(&encoded, T_NB, C_IN).finish();
    sim.udp(ts, (asker.ip, 137), (net.broadcast(), 137), &query);
    let mut rdata = vec![0, 0];
    rdata.extend_from_slice(&target.ip.octets());
    let answer = DnsMsg::new(id, 0x8500).record(ANSWER, &encoded, T_NB, C_IN, 300_000, &rdata).finish();
    let delay = sim.jitter(300_000, 2 * MS);
    sim.udp(ts + delay, (target.ip, 137), (asker.ip, 137), &answer);
}

/// An LLMNR query for `name`; `answer_from` replies when it owns the name.
fn llmnr_query(sim: &mut Sim, ts: i64, asker: &Host, name: &str, answer_from: Option<&Host>) {
    const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 252);
    let id = sim.rng.u16();
    let port = sim.ephemeral_port(asker.ip);
    let query = DnsMsg::new(id, 0).question(name, T_A, C_IN).finish();
    let seg = wire::udp(asker.ip, GROUP, port, 5355, &query);
    sim.send_ip_ttl(ts, asker.ip, GROUP, wire::IP_UDP, &seg, Some(1));
    if let Some(owner) = answer_from {
        let answer = DnsMsg::new(id, 0x8000).question(name, T_A, C_IN).record(ANSWER, name, T_A, C_IN, 30, &owner.ip.octets()).finish();
        let delay = sim.jitter(300_000, MS);
        sim.udp(ts + delay, (owner.ip, 5355), (asker.ip, port), &answer);
    }
}

/// mDNS group address.
const MDNS_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);

/// Sends an mDNS message to the group with TTL 255.
fn mdns_send(sim: &mut Sim, ts: i64, from: &Host, msg: &[u8]) {
    let seg = wire::udp(from.ip, MDNS_GROUP, 5353, 5353, msg);
    sim.send_ip_ttl(ts, from.ip, MDNS_GROUP, wire::IP_UDP, &seg, Some(255));
}

/// The printer's DNS-SD records for IPP.
fn printer_announcement(host: &Host) -> Vec<u8> {
    let target = "BRN0080775C219E.local";
    let instance = "Brother MFC-L8900CDW series._ipp._tcp.local";
    DnsMsg::new(0, 0x8400)
        .record(ANSWER, "_ipp._tcp.local", T_PTR, C_IN, 4500, &encode::name_rdata(instance))
        .record(ANSWER, instance, T_SRV, C_IN_FLUSH, 120, &encode::srv_rdata(631, target))
        .record(
            ANSWER,
            instance,
            T_TXT,
            C_IN_FLUSH,
            4500,
            &encode::txt_rdata(&[
                "txtvers=1",
                "qtotal=1",
                "rp=ipp/print",
                "ty=Brother MFC-L8900CDW series",
                "product=(Brother MFC-L8900CDW series)",
                "adminurl=http://BRN0080775C219E.local./general/status.html",
                "pdl=application/octet-stream,image/urf,image/pwg-raster",
                "usb_MFG=Brother",
                "usb_MDL=MFC-L8900CDW series",
                "Color=T",
                "Duplex=T",
                "UUID=e3248000-80ce-11db-8000-0080775c219e",
            ]),
        )
        .record(ANSWER, target, T_A, C_IN_FLUSH, 120, &host.ip.octets())
        .finish()
}

/// The Axis camera's DNS-SD records.
fn camera_announcement(host: &Host) -> Vec<u8> {
    let target = "axis-accc8e123456.local";
    let video = "AXIS P3245-LV - ACCC8E123456._axis-video._tcp.local";
    let http = "AXIS P3245-LV - ACCC8E123456._http._tcp.local";
    DnsMsg::new(0, 0x8400)
        .record(ANSWER, "_axis-video._tcp.local", T_PTR, C_IN, 4500, &encode::name_rdata(video))
        .record(ANSWER, video, T_SRV, C_IN_FLUSH, 120, &encode::srv_rdata(80, target))
        .record(ANSWER, video, T_TXT, C_IN_FLUSH, 4500, &encode::txt_rdata(&["macaddress=ACCC8E123456"]))
        .record(ANSWER, "_http._tcp.local", T_PTR, C_IN, 4500, &encode::name_rdata(http))
        .record(ANSWER, http, T_SRV, C_IN_FLUSH, 120, &encode::srv_rdata(80, target))
        .record(ANSWER, http, T_TXT, C_IN_FLUSH, 4500, &encode::txt_rdata(&["path=/"]))
        .record(ANSWER, target, T_A, C_IN_FLUSH, 120, &host.ip.octets())
        .finish()
}

/// Schedules the name-service traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    let pcs = plant::office_pcs();
    // Servers and OT Windows hosts register their names at the start.
    for host in [plant::DC, plant::FILESERVER, plant::NMS, plant::SCADA, plant::HISTORIAN, plant::HMI1, plant::HMI2, plant::EWS] {
        let t = sim.start + sim.jitter(0, 3 * SEC);
        nbns_register(sim, t, &host);
    }
    // A third of the PCs boot during the first half; the others renew their lease.
    for (i, pc) in pcs.iter().enumerate() {
        if i % 3 == 0 {
            let t = sim.at(0.02) + sim.jitter(0, (sim.end - sim.start) * 2 / 5);
            let ready = dhcp_dora(sim, t, pc, &plant::DC);
            resolve_dc(sim, ready, pc.ip);
        } else {
            let t = sim.start + sim.jitter(SEC, sim.end - sim.start - 5 * SEC);
            dhcp_renew(sim, t, pc, &plant::DC);
            let delay = sim.jitter(SEC, 3 * SEC);
            nbns_register(sim, t + delay, pc);
        }
    }
    // Background lookups from the PCs.
    let lookups = ["fs01.plant.local", "dc01.plant.local", "wpad.plant.local", "nms01.plant.local"];
    let mut t = sim.start + 2 * SEC;
    while t < sim.end - SEC {
        let pc = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
        let pick = sim.rng.range(0, (lookups.len() + BROWSED.len()) as i64) as usize;
        let name = lookups.get(pick).copied().or_else(|| BROWSED.get(pick - lookups.len()).copied()).unwrap_or("dc01.plant.local");
        let answered = resolve(sim, t, pc.ip, name, T_A);
        if sim.rng.chance(30) {
            let delay = sim.jitter(MS, 3 * MS);
            resolve(sim, answered + delay, pc.ip, name, T_AAAA);
        }
        t += sim.jitter(2 * SEC, 6 * SEC);
    }
    // NetBIOS and LLMNR lookups of the file server and of mistyped names.
    let mut t = sim.start + 5 * SEC;
    while t < sim.end - SEC {
        let pc = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
        match sim.rng.range(0, 3) {
            0 => nbns_query(sim, t, &pc, &plant::FILESERVER),
            1 => llmnr_query(sim, t, &pc, "fileserver", None),
            _ => {
                let peer = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
                if peer.ip != pc.ip {
                    llmnr_query(sim, t, &pc, peer.hostname.unwrap_or("printsrv"), Some(&peer));
                }
            }
        }
        t += sim.jitter(15 * SEC, 45 * SEC);
    }
    // mDNS: printer and camera announce, PCs browse for printers.
    let mut t = sim.start + sim.jitter(0, 2 * SEC);
    while t < sim.end - SEC {
        let msg = printer_announcement(&plant::PRINTER);
        mdns_send(sim, t, &plant::PRINTER, &msg);
        let msg = camera_announcement(&plant::CAMERA_AXIS);
        let t2 = t + sim.jitter(SEC, 10 * SEC);
        mdns_send(sim, t2, &plant::CAMERA_AXIS, &msg);
        let pc = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
        let t3 = t + sim.jitter(20 * SEC, 60 * SEC);
        let query = DnsMsg::new(0, 0).question("_ipp._tcp.local", T_PTR, C_IN).finish();
        mdns_send(sim, t3, &pc, &query);
        let msg = printer_announcement(&plant::PRINTER);
        let delay = sim.jitter(20 * MS, 120 * MS);
        mdns_send(sim, t3 + delay, &plant::PRINTER, &msg);
        t += sim.jitter(100 * SEC, 140 * SEC);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_messages_have_the_bootp_layout() {
        let msg = bootp(1, 7, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, plant::EWS.mac, &[]);
        assert_eq!(msg.len(), 300);
        assert_eq!(&msg[236..240], &[0x63, 0x82, 0x53, 0x63]);
        assert_eq!(msg[240], 255);
    }
}
