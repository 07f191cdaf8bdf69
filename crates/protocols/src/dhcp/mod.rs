//! DHCP (BOOTP with options) on UDP 67/68: who the clients are (host name,
//! FQDN, vendor class and the OS it implies, parameter-request fingerprint,
//! MUD URL), and which devices serve addresses, route and resolve names.
//!
//! Client facts are about the client hardware address (chaddr), with the
//! IPv4 address the message proves: the address an ACK assigns, the client's
//! own (ciaddr) or the one a REQUEST asks for.

pub(crate) mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{Endpoint, IdentityField, Protocol, ViolationKind};
use std::net::{IpAddr, Ipv4Addr};

/// DHCP dissector; stateless, every message stands alone.
#[derive(Default)]
pub struct Dhcp;

impl Dissector for Dhcp {
    const REGISTRATION: Registration = Registration { udp_ports: &[67, 68], probe: Some(probe), ..Registration::new(Protocol::Dhcp) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let msg = match parser::message(data) {
            Ok(msg) => msg,
            Err(problem) => return ctx.violation(ViolationKind::Malformed, problem.to_string()),
        };
        let (fields, problem) = parser::fields(&msg);
        if let Some(problem) = problem {
            ctx.violation(ViolationKind::Malformed, problem.to_string());
        }
        if msg.op == parser::BOOTREQUEST {
            client_request(ctx, &msg, &fields);
        } else {
            server_reply(ctx, &msg, &fields);
        }
    }
}

/// Recognises a DHCP message on any UDP port.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::looks_like_dhcp(payload)
}

/// The endpoint that owns `ip`: the sender itself (with its MAC) when it
/// has that address, else the bare address.
pub(crate) fn endpoint_of(ctx: &Ctx<'_>, ip: IpAddr) -> Endpoint {
    let sender = ctx.sender();
    if sender.ip == Some(ip) {
        sender
    } else {
        Endpoint { mac: None, ip: Some(ip), port: 0 }
    }
}

fn assigned(ip: Ipv4Addr) -> Option<Ipv4Addr> {
    (!ip.is_unspecified()).then_some(ip)
}

/// A client's message: everything it says about itself.
fn client_request(ctx: &mut Ctx<'_>, msg: &parser::Message<'_>, f: &parser::Fields<'_>) {
    let Some(mac) = msg.chaddr else { return };
    // A DISCOVER's or DECLINE's option 50 is not (yet) the client's address.
    let requested = if f.message_type == Some(parser::REQUEST) { f.requested_ip } else { None };
    let ip = assigned(msg.ciaddr).or(requested);
    let client = Endpoint { mac: Some(mac), ip: ip.map(IpAddr::V4), port: 0 };
    client_names(ctx, client, f);
    if let Some(class) = f.vendor_class.and_then(parser::text) {
        ctx.identity(client, IdentityField::VendorClass, class);
        if let Some(os) = parser::os_from_vendor_class(class) {
            ctx.identity(client, IdentityField::Os, os);
        }
    }
    if let Some(list) = f.parameter_list {
        let mut buf = crate::text::Text::default();
        if let Some(fingerprint) = parser::fingerprint(list, &mut buf) {
            ctx.identity(client, IdentityField::DhcpFingerprint, fingerprint);
        }
    }
    if let Some(url) = f.mud_url.and_then(parser::text) {
        ctx.identity(client, IdentityField::MudUrl, url);
    }
}

/// Host name (option 12) and client FQDN (option 81, split into host and domain).
fn client_names(ctx: &mut Ctx<'_>, client: Endpoint, f: &parser::Fields<'_>) {
    if let Some(name) = f.hostname.and_then(parser::text) {
        ctx.identity(client, IdentityField::Hostname, name);
    }
    let mut buf = [0; 256];
    if let Some(fqdn) = f.client_fqdn.and_then(|v| parser::client_fqdn(v, &mut buf)) {
        report_fqdn(ctx, client, fqdn);
    }
}

/// Reports a client's fully qualified name as its host name and domain.
pub(crate) fn report_fqdn(ctx: &mut Ctx<'_>, client: Endpoint, fqdn: &str) {
    let (host, domain) = fqdn.split_once('.').unwrap_or((fqdn, ""));
    ctx.identity(client, IdentityField::Hostname, host);
    ctx.identity(client, IdentityField::Domain, domain);
}

/// A server's OFFER, ACK or NAK: the server itself; in an ACK also the
/// routers and DNS servers it hands out, and the client's names it echoes.
fn server_reply(ctx: &mut Ctx<'_>, msg: &parser::Message<'_>, f: &parser::Fields<'_>) {
    let Some(kind @ (parser::OFFER | parser::ACK | parser::NAK)) = f.message_type else { return };
    let server = f.server_id.map_or_else(|| ctx.sender(), |id| endpoint_of(ctx, IpAddr::V4(id)));
    ctx.identity(server, IdentityField::Service, "dhcp-server");
    if kind != parser::ACK {
        return;
    }
    for (list, role) in [(f.routers, "router"), (f.dns_servers, "dns-server")] {
        for ip in parser::addresses(list) {
            let subject = endpoint_of(ctx, IpAddr::V4(ip));
            ctx.identity(subject, IdentityField::Role, role);
        }
    }
    if let Some(mac) = msg.chaddr {
        let ip = assigned(msg.yiaddr).or(assigned(msg.ciaddr));
        client_names(ctx, Endpoint { mac: Some(mac), ip: ip.map(IpAddr::V4), port: 0 }, f);
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::build;
    use super::*;
    use crate::EventSink;
    use palisade_flow::Direction;
    use palisade_model::{Event, IdentityFact, MacAddr, Timestamp};

    const CLIENT_MAC: [u8; 6] = [0xb8, 0x27, 0xeb, 1, 2, 3];

    fn run(data: &[u8], sender: Endpoint) -> Vec<Event> {
        let mut sink = EventSink::default();
        let mut ctx = Ctx::new(Timestamp(1), Direction::ToServer, sender, Endpoint::default(), Protocol::Dhcp, &mut sink);
        Dhcp.datagram(&mut ctx, data);
        let mut out = Vec::new();
        sink.swap(&mut out);
        out
    }

    fn facts(events: &[Event]) -> Vec<(Endpoint, IdentityField, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Identity(IdentityFact { subject, field, value, .. }) => Some((*subject, *field, value.clone())),
                _ => None,
            })
            .collect()
    }

    fn ep(mac: Option<[u8; 6]>, ip: [u8; 4]) -> Endpoint {
        Endpoint { mac: mac.map(MacAddr), ip: Some(IpAddr::from(ip)), port: 0 }
    }

    #[test]
    fn request_names_the_client() {
        let mut opts = vec![53, 1, 3, 50, 4, 10, 0, 0, 5, 12, 11];
        opts.extend_from_slice(b"raspberrypi");
        opts.extend_from_slice(&[60, 8]);
        opts.extend_from_slice(b"MSFT 5.0");
        opts.extend_from_slice(&[55, 4, 1, 3, 6, 252, 161, 7]);
        opts.extend_from_slice(b"http://");
        opts.extend_from_slice(&[81, 9, 0x04, 0, 0, 2, b'p', b'c', 1, b'x', 0, 255]);
        let data = build(1, CLIENT_MAC, [0; 4], [0; 4], &opts);
        let got = facts(&run(&data, Endpoint::default()));
        let client = ep(Some(CLIENT_MAC), [10, 0, 0, 5]);
        let want = [
            (IdentityField::Hostname, "raspberrypi"),
            (IdentityField::Hostname, "pc"),
            (IdentityField::Domain, "x"),
            (IdentityField::VendorClass, "MSFT 5.0"),
            (IdentityField::Os, "Windows"),
            (IdentityField::DhcpFingerprint, "1,3,6,252"),
            (IdentityField::MudUrl, "http://"),
        ];
        assert_eq!(got, want.iter().map(|(f, v)| (client, *f, v.to_string())).collect::<Vec<_>>());
    }

    #[test]
    fn discover_has_no_client_address() {
        let data = build(1, CLIENT_MAC, [0; 4], [0; 4], &[53, 1, 1, 50, 4, 10, 0, 0, 5, 12, 2, b'p', b'c', 255]);
        let got = facts(&run(&data, Endpoint::default()));
        assert_eq!(got, vec![(Endpoint { mac: Some(MacAddr(CLIENT_MAC)), ip: None, port: 0 }, IdentityField::Hostname, "pc".into())]);
    }

    #[test]
    fn ack_names_server_router_and_dns() {
        let opts = [53, 1, 5, 54, 4, 10, 0, 0, 1, 3, 8, 10, 0, 0, 254, 0, 0, 0, 0, 6, 4, 10, 0, 0, 1, 12, 2, b'p', b'c', 255];
        let data = build(2, CLIENT_MAC, [0; 4], [10, 0, 0, 5], &opts);
        let server_mac = [0, 0x23, 0x54, 1, 1, 1];
        let sender = Endpoint { mac: Some(MacAddr(server_mac)), ip: Some(IpAddr::from([10, 0, 0, 1])), port: 67 };
        let got = facts(&run(&data, sender));
        let server = ep(Some(server_mac), [10, 0, 0, 1]);
        assert_eq!(
            got,
            vec![
                (server, IdentityField::Service, "dhcp-server".into()),
                (ep(None, [10, 0, 0, 254]), IdentityField::Role, "router".into()),
                (server, IdentityField::Role, "dns-server".into()),
                (ep(Some(CLIENT_MAC), [10, 0, 0, 5]), IdentityField::Hostname, "pc".into()),
            ]
        );
    }

    #[test]
    fn relayed_offer_names_the_server_identifier() {
        let data = build(2, CLIENT_MAC, [0; 4], [10, 0, 0, 5], &[53, 1, 2, 54, 4, 10, 9, 9, 9, 3, 4, 10, 0, 0, 254, 255]);
        let relay = Endpoint { mac: Some(MacAddr([0, 1, 1, 1, 1, 1])), ip: Some(IpAddr::from([10, 0, 0, 254])), port: 67 };
        let got = facts(&run(&data, relay));
        assert_eq!(got, vec![(ep(None, [10, 9, 9, 9]), IdentityField::Service, "dhcp-server".into())]);
    }

    #[test]
    fn malformed_messages_are_violations() {
        let mut data = build(1, CLIENT_MAC, [0; 4], [0; 4], &[12, 40, b'x']);
        let events = run(&data, Endpoint::default());
        assert!(matches!(&events[..], [Event::Violation(v)] if v.kind == ViolationKind::Malformed && v.detail.contains("option 12")));
        data[236] = 1;
        let events = run(&data, Endpoint::default());
        assert!(matches!(&events[..], [Event::Violation(v)] if v.detail.contains("cookie")));
        assert!(matches!(&run(&data[..100], Endpoint::default())[..], [Event::Violation(_)]));
    }

    #[test]
    fn probe_is_strict() {
        let data = build(1, CLIENT_MAC, [0; 4], [0; 4], &[255]);
        assert!(probe(&data, false));
        assert!(!probe(&data, true));
        assert!(!probe(&data[..239], false));
        assert!(!probe(&[0u8; 300], false));
    }
}
