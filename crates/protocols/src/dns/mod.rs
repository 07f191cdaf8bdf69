//! DNS (RFC 1035) on UDP and TCP port 53.
//!
//! Each question of a query is a `read` operation on the name (code: the
//! query type). Facts: a host that answers is a DNS server; for a response from a local
//! server, A/AAAA answers and reverse (PTR) answers about local addresses
//! name those addresses. Malformed messages are reported once per flow.
//! The wire format in [`parser`] is shared with mDNS and LLMNR, and so are
//! [`each_entry`] and [`stream`].

pub(crate) mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{is_local_ip, Endpoint, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Entry, Frame, Header, Message, Rdata, Section};
use std::net::IpAddr;

/// DNS flow state.
#[derive(Default)]
pub struct Dns {
    /// A malformed message was already reported on this flow.
    malformed: bool,
    /// The sender of each direction was already reported as a DNS server.
    answered: [bool; 2],
}

impl Dissector for Dns {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[53], udp_ports: &[53], probe: Some(probe), ..Registration::new(Protocol::Dns) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        self.message(ctx, data);
    }

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        stream(data, |msg| self.message(ctx, msg))
    }
}

/// Recognises a DNS message (UDP) or a length-prefixed one (TCP).
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    if !is_tcp {
        return parser::looks_like_message(payload, payload.len());
    }
    let (Some(len), Some(msg)) = (palisade_decode::be16(payload, 0), payload.get(2..)) else { return false };
    parser::looks_like_message(msg, usize::from(len))
}

impl Dns {
    /// Handles one DNS message.
    fn message(&mut self, ctx: &mut Ctx<'_>, msg: &[u8]) {
        let local_server = ctx.sender().ip.is_some_and(is_local_ip);
        let Some(header) = each_entry(ctx, msg, &mut self.malformed, |ctx, header, entry, data| {
            if !header.is_response() && entry.section == Section::Question {
                // A lookup: reading a name (threat intelligence matches domains on it).
                if let Some(name) = entry.name.text().as_str().filter(|n| !n.is_empty()) {
                    ctx.operation(OperationKind::Read, u32::from(entry.rtype), Some(format_args!("{name}")), OperationResult::Unknown);
                }
                return;
            }
            if !(header.is_response() && header.rcode() == 0 && local_server && entry.section != Section::Question) {
                return;
            }
            match data {
                Rdata::A(a) => name_address(ctx, IpAddr::V4(a), entry.name.text().as_str()),
                Rdata::Aaaa(a) => name_address(ctx, IpAddr::V6(a), entry.name.text().as_str()),
                Rdata::Ptr(target) => {
                    if let Some(ip) = entry.name.reverse_ip() {
                        name_address(ctx, ip, target.text().as_str());
                    }
                }
                _ => {}
            }
        }) else {
            return;
        };
        if header.is_response() {
            if let Some(answered @ false) = self.answered.get_mut(ctx.dir.index()) {
                *answered = true;
                ctx.sender_identity(IdentityField::Service, "dns-server");
            }
        }
    }
}

/// Reports `name` as the hostname of the device at `ip` if that is a local
/// (site) address: public addresses are not devices of the site.
fn name_address(ctx: &mut Ctx<'_>, ip: IpAddr, name: Option<&str>) {
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        if is_local_ip(ip) && !ip.is_loopback() && !ip.is_unspecified() {
            ctx.identity(Endpoint { ip: Some(ip), ..Endpoint::default() }, IdentityField::Hostname, name);
        }
    }
}

/// Reads a message and hands every question and record with its decoded
/// data to `each`. The first malformation ends the walk and is reported as
/// a violation (once per flow, tracked by `reported`). Returns the header
/// of a well-formed message.
pub(crate) fn each_entry<'m>(
    ctx: &mut Ctx<'_>,
    msg: &'m [u8],
    reported: &mut bool,
    mut each: impl FnMut(&mut Ctx<'_>, &Header, &Entry<'m>, Rdata<'m>),
) -> Option<Header> {
    let parsed = Message::read(msg).and_then(|m| {
        for entry in m.entries() {
            let entry = entry?;
            each(ctx, &m.header, &entry, entry.data()?);
        }
        Ok(m.header)
    });
    match parsed {
        Ok(header) => Some(header),
        Err(e) => {
            if !*reported {
                *reported = true;
                ctx.violation(ViolationKind::Malformed, e.to_string());
            }
            None
        }
    }
}

/// Splits a TCP stream into length-prefixed messages and hands each to
/// `each`; returns the bytes consumed. Bytes that do not start a message
/// (a capture that begins mid-stream) are skipped.
pub(crate) fn stream(data: &[u8], mut each: impl FnMut(&[u8])) -> usize {
    let mut used = 0;
    while let Some(rest) = data.get(used..) {
        match parser::tcp_frame(rest) {
            Frame::Whole { msg, used: n } => {
                each(msg);
                used += n;
            }
            Frame::Incomplete => break,
            Frame::Invalid => return data.len(),
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{feed_messages, header, name, name_data, record};
    use super::parser::{TYPE_A, TYPE_AAAA, TYPE_PTR};
    use super::*;
    use crate::testing::{ep_at, ip_facts, operations, violations, Flow};
    use palisade_flow::Direction;
    use palisade_model::Event;

    /// Runs `msgs` sent in `dir` between 192.168.1.20 and the server `server_ip`.
    fn run(server_ip: &str, dir: Direction, msgs: &[&[u8]], tcp: bool) -> Vec<Event> {
        let mut flow = Flow::<Dns>::new(ep_at("192.168.1.20", 40000), ep_at(server_ip, 53));
        feed_messages(&mut flow, dir, msgs, tcp);
        flow.events()
    }

    /// The facts as (subject IP or "", field, value).
    fn facts(events: &[Event]) -> Vec<(String, IdentityField, String)> {
        ip_facts(events).into_iter().map(|(ip, field, value)| (ip.map(|i| i.to_string()).unwrap_or_default(), field, value)).collect()
    }

    fn response() -> Vec<u8> {
        let mut m = header(0x8180, [1, 4, 0, 0]);
        name(&mut m, "plc1.site.lan");
        m.extend_from_slice(&[0, 1, 0, 1]);
        record(&mut m, "plc1.site.lan", TYPE_A, &[192, 168, 1, 50]);
        record(&mut m, "www.example.com", TYPE_A, &[93, 184, 216, 34]);
        record(&mut m, "hmi.site.lan", TYPE_AAAA, &"fd00::5".parse::<std::net::Ipv6Addr>().unwrap().octets());
        record(&mut m, "51.1.168.192.in-addr.arpa", TYPE_PTR, &name_data("rtu.site.lan"));
        m
    }

    #[test]
    fn local_server_names_local_addresses() {
        for tcp in [false, true] {
            let events = run("192.168.1.1", Direction::ToClient, &[&response()], tcp);
            let facts = facts(&events);
            assert_eq!(
                facts,
                vec![
                    ("192.168.1.50".into(), IdentityField::Hostname, "plc1.site.lan".into()),
                    ("fd00::5".into(), IdentityField::Hostname, "hmi.site.lan".into()),
                    ("192.168.1.51".into(), IdentityField::Hostname, "rtu.site.lan".into()),
                    ("192.168.1.1".into(), IdentityField::Service, "dns-server".into()),
                ]
            );
        }
    }

    #[test]
    fn public_server_only_marks_the_server() {
        let events = run("8.8.8.8", Direction::ToClient, &[&response()], false);
        assert_eq!(facts(&events), vec![("8.8.8.8".into(), IdentityField::Service, "dns-server".into())]);
    }

    #[test]
    fn queries_are_reads_of_the_name_and_give_no_facts() {
        let mut q = header(0x0100, [1, 0, 0, 0]);
        name(&mut q, "plc1.site.lan");
        q.extend_from_slice(&[0, 1, 0, 1]);
        let events = run("192.168.1.1", Direction::ToServer, &[&q], false);
        assert!(facts(&events).is_empty());
        assert_eq!(operations(&events), vec![(OperationKind::Read, 1, Some("plc1.site.lan".into()), OperationResult::Unknown)]);
    }

    #[test]
    fn malformed_reported_once() {
        let mut m = header(0x8180, [1, 0, 0, 0]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let events = run("192.168.1.1", Direction::ToClient, &[&m, &m, &header(0x8180, [9, 9, 0, 0])], false);
        let violations = violations(&events);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].0, ViolationKind::Malformed);
        assert!(violations[0].1.contains("pointer"), "{}", violations[0].1);
    }

    #[test]
    fn stream_resynchronises_and_waits() {
        let m = response();
        let mut s = (m.len() as u16).to_be_bytes().to_vec();
        s.extend_from_slice(&m);
        let mut seen = 0;
        assert_eq!(stream(&s[..20], |_| seen += 1), 0);
        assert_eq!(stream(&s, |_| seen += 1), s.len());
        assert_eq!(seen, 1);
        // Mid-message garbage is skipped whole.
        assert_eq!(stream(&[0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], |_| seen += 1), 14);
        assert_eq!(seen, 1);
    }

    #[test]
    fn single_byte_mutations_never_panic() {
        let mut m = response();
        // Add a compressed SRV, TXT and CNAME so pointers and data get mutated too.
        m[7] = 7;
        m.extend_from_slice(&[0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 80, 0xc0, 17]);
        m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 5, 4, b't', b'y', b'=', b'x']);
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xc0, 17]);
        assert!(Message::read(&m).unwrap().entries().all(|e| e.and_then(|e| e.data()).is_ok()));
        for at in 0..m.len() {
            for value in [0, 1, 0x3f, 0x40, 0x80, 0xc0, 0xff, m[at] ^ 0x01] {
                let mut bad = m.clone();
                bad[at] = value;
                crate::fuzzing::run::<Dns>(&bad);
                crate::fuzzing::run::<crate::mdns::Mdns>(&bad);
                crate::fuzzing::run::<crate::llmnr::Llmnr>(&bad);
                crate::fuzzing::run::<Dns>(&bad[..at]);
            }
        }
    }

    #[test]
    fn probe_handles_both_transports() {
        let mut q = header(0x0100, [1, 0, 0, 0]);
        name(&mut q, "example.com");
        q.extend_from_slice(&[0, 28, 0, 1]);
        assert!(probe(&q, false));
        let mut s = (q.len() as u16).to_be_bytes().to_vec();
        s.extend_from_slice(&q);
        assert!(probe(&s, true));
        assert!(!probe(&q, true));
        assert!(!probe(&s, false));
    }
}
