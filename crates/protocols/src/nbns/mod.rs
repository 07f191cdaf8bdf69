//! NetBIOS over TCP/IP: the name service (UDP 137) and the datagram
//! service (UDP 138) with its Windows browser announcements.
//!
//! Name service: registrations, refreshes and positive query responses name
//! the owner of a name (the address in the record), node status responses
//! list the responder's own names. Unique names with suffix 0x00/0x20 are
//! host names; group names with suffix 0x00/0x1e (and 0x1c, domain
//! controllers) are the workgroup or domain. Queries say nothing about
//! their sender.
//!
//! Datagram service: the sender's name, and from host and local master
//! announcements its host name, Windows version, server roles and comment;
//! a domain announcement names its workgroup.

mod browser;
mod parser;

pub(crate) use browser::windows_version;
pub(crate) use parser::{read_name, Name};

use crate::dhcp::endpoint_of;
use crate::{Ctx, Dissector, Registration};
use palisade_model::{Endpoint, IdentityField, Protocol, ViolationKind};
use std::net::IpAddr;

/// The name service port.
const NAME_PORT: u16 = 137;
/// The datagram service port.
const DATAGRAM_PORT: u16 = 138;

/// NetBIOS name and datagram service dissector; stateless.
#[derive(Default)]
pub struct Nbns;

impl Dissector for Nbns {
    const REGISTRATION: Registration =
        Registration { udp_ports: &[NAME_PORT, DATAGRAM_PORT], probe: Some(probe), ..Registration::new(Protocol::Nbns) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        if is_datagram_service(ctx, data) {
            datagram_service(ctx, data);
        } else {
            name_service(ctx, data);
        }
    }
}

/// Recognises either service on any UDP port.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && (parser::looks_like_nbns(payload) || browser::looks_like_datagram(payload))
}

/// Which service a datagram belongs to: by port, else by content.
fn is_datagram_service(ctx: &Ctx<'_>, data: &[u8]) -> bool {
    let ports = [ctx.client.port, ctx.server.port];
    if ports.contains(&DATAGRAM_PORT) {
        true
    } else if ports.contains(&NAME_PORT) {
        false
    } else {
        !parser::looks_like_nbns(data) && browser::looks_like_datagram(data)
    }
}

fn name_service(ctx: &mut Ctx<'_>, data: &[u8]) {
    let Some(msg) = parser::message(data) else {
        return ctx.violation(ViolationKind::Malformed, "NBNS message with a bad header, name or record");
    };
    let h = msg.header;
    let op = h.opcode();
    if !h.is_response() {
        let registers = op == parser::OP_REGISTRATION || op == parser::OP_MULTIHOMED || parser::OP_REFRESH.contains(&op);
        if let (true, Some(name), Some(record)) = (registers, msg.question, msg.additional) {
            if record.rtype == parser::TYPE_NB {
                nb_owners(ctx, name, record.rdata);
            }
        }
    } else if op == parser::OP_QUERY && h.rcode() == 0 {
        match msg.answer {
            Some(record) if record.rtype == parser::TYPE_NB => nb_owners(ctx, record.name, record.rdata),
            Some(record) if record.rtype == parser::TYPE_NBSTAT => {
                let sender = ctx.sender();
                for (group, name) in parser::node_status_names(record.rdata) {
                    name_facts(ctx, sender, name, group);
                }
            }
            _ => {}
        }
    }
}

/// Facts about the owners of `name` listed in NB record data.
fn nb_owners(ctx: &mut Ctx<'_>, name: parser::Name, rdata: &[u8]) {
    for (group, addr) in parser::nb_entries(rdata) {
        if !addr.is_unspecified() {
            let owner = endpoint_of(ctx, IpAddr::V4(addr));
            name_facts(ctx, owner, name, group);
        }
    }
}

/// Host name or workgroup/domain facts from one NetBIOS name of `subject`.
fn name_facts(ctx: &mut Ctx<'_>, subject: Endpoint, name: parser::Name, group: bool) {
    let Some(text) = name.text() else { return };
    match (group, name.suffix) {
        (false, 0x00 | 0x20) => ctx.identity(subject, IdentityField::Hostname, text),
        (true, 0x00 | 0x1e) => ctx.identity(subject, IdentityField::Domain, text),
        (true, 0x1c) => {
            ctx.identity(subject, IdentityField::Domain, text);
            ctx.identity(subject, IdentityField::Role, "domain-controller");
        }
        _ => {}
    }
}

fn datagram_service(ctx: &mut Ctx<'_>, data: &[u8]) {
    if !browser::looks_like_datagram(data) {
        return ctx.violation(ViolationKind::Malformed, "malformed NetBIOS datagram");
    }
    let Some(d) = browser::data_datagram(data) else { return };
    let sender = endpoint_of(ctx, IpAddr::V4(d.source_ip));
    name_facts(ctx, sender, d.source, false);
    if d.user_data.starts_with(b"\xffSMB") {
        // Mailslot writes (browser announcements among them) are SMB.
        ctx.carries(Protocol::Smb);
    }
    let Some(a) = browser::browse_mailslot(d.user_data).and_then(browser::announcement) else { return };
    if a.opcode == browser::DOMAIN_ANNOUNCEMENT {
        return ctx.identity(sender, IdentityField::Domain, a.name);
    }
    ctx.identity(sender, IdentityField::Hostname, a.name);
    if let Some(os) = browser::windows_version(a.os_major, a.os_minor) {
        ctx.identity(sender, IdentityField::Os, os);
    }
    // Announcements go to the workgroup's master browser name.
    if let (0x1d | 0x1e, Some(workgroup)) = (d.destination.suffix, d.destination.text()) {
        ctx.identity(sender, IdentityField::Domain, workgroup);
    }
    for role in browser::roles(a.server_type) {
        ctx.identity(sender, IdentityField::Role, role);
    }
    if let Some(comment) = a.comment {
        ctx.identity(sender, IdentityField::Description, comment);
    }
}

#[cfg(test)]
mod tests {
    use super::browser::tests::{announcement_bytes, datagram_bytes};
    use super::parser::tests::{encode, registration};
    use super::*;
    use crate::testing::{port_ep, subject_facts as facts, Flow};
    use palisade_flow::Direction;
    use palisade_model::{Event, MacAddr};

    const MAC: MacAddr = MacAddr([0, 0x1c, 0xc4, 0x10, 0x79, 0x0f]);

    fn sender(ip: [u8; 4], port: u16) -> Endpoint {
        Endpoint { mac: Some(MAC), ip: Some(IpAddr::from(ip)), port }
    }

    /// Runs one datagram from `from` to port `to_port`.
    fn run(data: &[u8], from: Endpoint, to_port: u16) -> Vec<Event> {
        Flow::<Nbns>::new(from, port_ep(to_port)).datagrams(&[(Direction::ToServer, data)]).events()
    }

    fn at(ip: [u8; 4]) -> Endpoint {
        Endpoint { mac: None, ip: Some(IpAddr::from(ip)), port: 0 }
    }

    #[test]
    fn registrations_name_the_owner() {
        let me = sender([10, 0, 0, 7], 137);
        let unique = run(&registration("PLC-7", 0x00, false, [10, 0, 0, 7]), me, 137);
        let group = run(&registration("PLANT", 0x00, true, [10, 0, 0, 7]), me, 137);
        let other = run(&registration("SRV", 0x20, false, [10, 0, 0, 8]), me, 0);
        let service = run(&registration("PLC-7", 0x03, false, [10, 0, 0, 7]), me, 137);
        let me = Endpoint { port: 0, ..me };
        assert_eq!(facts(&unique), vec![(me, IdentityField::Hostname, "PLC-7".into())]);
        assert_eq!(facts(&group), vec![(me, IdentityField::Domain, "PLANT".into())]);
        assert_eq!(facts(&other), vec![(at([10, 0, 0, 8]), IdentityField::Hostname, "SRV".into())]);
        assert!(service.is_empty());
    }

    #[test]
    fn queries_say_nothing_and_responses_name_the_owner() {
        let mut query = vec![0x20, 0xa8, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend(encode("GUNNAR", 0));
        query.extend([0, 0x20, 0, 1]);
        assert!(run(&query, sender([10, 0, 4, 165], 137), 137).is_empty());
        let mut response = vec![0x20, 0xa8, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
        response.extend(encode("GUNNAR", 0));
        response.extend([0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0, 10, 0, 4, 24]);
        let from = sender([10, 0, 4, 24], 137);
        assert_eq!(facts(&run(&response, from, 137)), vec![(Endpoint { port: 0, ..from }, IdentityField::Hostname, "GUNNAR".into())]);
    }

    #[test]
    fn node_status_lists_the_responders_names() {
        let mut response = vec![0x20, 0xa8, 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
        let mut wildcard = encode("*", 0);
        wildcard[3..33].fill(b'A');
        response.extend(wildcard);
        let mut rdata = vec![3];
        for (name, suffix, flags) in [("GUNNAR", 0u8, 0x0400u16), ("VIGILANT_GROUP", 0, 0x8400), ("VIGILANT_GROUP", 0x1c, 0x8400)] {
            let mut raw = [b' '; 16];
            raw[..name.len()].copy_from_slice(name.as_bytes());
            raw[15] = suffix;
            rdata.extend(raw);
            rdata.extend(flags.to_be_bytes());
        }
        rdata.extend([0; 46]);
        response.extend([0, 0x21, 0, 1, 0, 0, 0, 0]);
        response.extend((rdata.len() as u16).to_be_bytes());
        response.extend(rdata);
        let from = sender([10, 0, 4, 24], 137);
        let me = Endpoint { port: 0, ..from };
        assert_eq!(
            facts(&run(&response, from, 137)),
            vec![
                (me, IdentityField::Hostname, "GUNNAR".into()),
                (me, IdentityField::Domain, "VIGILANT_GROUP".into()),
                (me, IdentityField::Role, "domain-controller".into()),
            ]
        );
    }

    #[test]
    fn host_announcement() {
        let data = announcement_bytes(browser::HOST_ANNOUNCEMENT, "NVR9", (6, 1), 0x0001_1007, "");
        let p = datagram_bytes(("NVR9", 0x20), ("VIGILANT_GROUP", 0x1d), &data);
        let from = sender([10, 0, 5, 9], 138);
        let me = Endpoint { port: 0, ..from };
        assert_eq!(
            facts(&run(&p, from, 138)),
            vec![
                (me, IdentityField::Hostname, "NVR9".into()),
                (me, IdentityField::Os, "Windows 7 / Server 2008 R2".into()),
                (me, IdentityField::Domain, "VIGILANT_GROUP".into()),
            ]
        );
        // The same on a port of neither service, recognised by content.
        assert_eq!(facts(&run(&p, Endpoint { port: 40000, ..from }, 40001)).len(), 3);
        assert!(probe(&p, false));
        assert!(!probe(&p, true));
    }

    #[test]
    fn domain_announcement_names_the_workgroup() {
        let data = announcement_bytes(browser::DOMAIN_ANNOUNCEMENT, "WORKGROUP", (3, 10), 0x8000_1000, "SCADA-PC-060839");
        let p = datagram_bytes(("SCADA-PC-060839", 0), ("\u{1}\u{2}__MSBROWSE__\u{2}", 0x01), &data);
        let from = sender([10, 0, 5, 9], 138);
        let me = Endpoint { port: 0, ..from };
        assert_eq!(
            facts(&run(&p, from, 138)),
            vec![(me, IdentityField::Hostname, "SCADA-PC-060839".into()), (me, IdentityField::Domain, "WORKGROUP".into())]
        );
    }

    #[test]
    fn malformed_messages_are_violations() {
        let from = sender([10, 0, 0, 1], 137);
        for (data, port) in [(&[0u8; 20][..], 137), (&[0x11, 0x02, 0, 0][..], 138)] {
            let events = run(data, from, port);
            assert!(matches!(&events[..], [Event::Violation(v)] if v.kind == ViolationKind::Malformed), "{events:?}");
        }
    }
}
