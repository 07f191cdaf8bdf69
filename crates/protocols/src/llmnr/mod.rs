//! Link-Local Multicast Name Resolution (RFC 4795) on UDP and TCP port
//! 5355, read with the DNS wire-format parser.
//!
//! A query's name is one the sender looks for (not its own), so queries give
//! no facts; a response comes from the host that owns the name, so its
//! A/AAAA answers (and PTR answers to reverse queries) name the responder.

use crate::dns::{
    self,
    parser::{Rdata, Section},
};
use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, Protocol};

/// LLMNR flow state.
#[derive(Default)]
pub struct Llmnr {
    /// A malformed message was already reported on this flow.
    malformed: bool,
}

impl Dissector for Llmnr {
    const REGISTRATION: Registration = Registration { tcp_ports: &[5355], udp_ports: &[5355], ..Registration::new(Protocol::Llmnr) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        message(ctx, data, &mut self.malformed);
    }

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        dns::stream(data, |msg| message(ctx, msg, &mut self.malformed))
    }
}

/// Handles one LLMNR message.
fn message(ctx: &mut Ctx<'_>, msg: &[u8], malformed: &mut bool) {
    dns::each_entry(ctx, msg, malformed, |ctx, header, entry, data| {
        if !header.is_response() || header.rcode() != 0 || entry.section != Section::Answer {
            return;
        }
        let name = match data {
            Rdata::A(_) | Rdata::Aaaa(_) => entry.name.text(),
            Rdata::Ptr(target) if entry.name.reverse_ip().is_some() => target.text(),
            _ => return,
        };
        if let Some(name) = name.as_str() {
            ctx.sender_identity(IdentityField::Hostname, name);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::parser::tests::{feed_messages, header, name, name_data, record};
    use crate::dns::parser::{TYPE_A, TYPE_PTR};
    use crate::testing::{ep_at, ip_facts, Flow};
    use palisade_flow::Direction;

    /// Runs one message sent in `dir` between 10.1.1.5 and 10.1.1.9; returns the facts.
    fn run(dir: Direction, msg: &[u8], tcp: bool) -> Vec<(Option<std::net::IpAddr>, IdentityField, String)> {
        let mut flow = Flow::<Llmnr>::new(ep_at("10.1.1.5", 50000), ep_at("10.1.1.9", 5355));
        feed_messages(&mut flow, dir, &[msg], tcp);
        ip_facts(&flow.events())
    }

    #[test]
    fn query_gives_nothing_response_names_responder() {
        let mut q = header(0, [1, 0, 0, 0]);
        name(&mut q, "fileserver");
        q.extend_from_slice(&[0, 1, 0, 1]);
        assert!(run(Direction::ToServer, &q, false).is_empty());
        let mut r = header(0x8000, [1, 1, 0, 0]);
        name(&mut r, "fileserver");
        r.extend_from_slice(&[0, 1, 0, 1]);
        record(&mut r, "fileserver", TYPE_A, &[10, 1, 1, 9]);
        for tcp in [false, true] {
            assert_eq!(
                run(Direction::ToClient, &r, tcp),
                vec![(Some("10.1.1.9".parse().unwrap()), IdentityField::Hostname, "fileserver".to_string())]
            );
        }
    }

    #[test]
    fn reverse_response_names_responder() {
        let mut r = header(0x8000, [0, 1, 0, 0]);
        record(&mut r, "9.1.1.10.in-addr.arpa", TYPE_PTR, &name_data("WS-042"));
        assert_eq!(
            run(Direction::ToClient, &r, false),
            vec![(Some("10.1.1.9".parse().unwrap()), IdentityField::Hostname, "WS-042".to_string())]
        );
    }
}
