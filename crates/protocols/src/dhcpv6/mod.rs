//! DHCPv6 on UDP 546/547 (and wherever a strict probe recognises it).
//!
//! Client messages name the client: the client FQDN (option 39) as its
//! host name and domain, the vendor class (option 16) as "<class>
//! (enterprise <number>)" with the OS a well-known class implies, and the
//! option request option as a `dhcp_fingerprint` "v6:<codes>". The facts
//! are about the sender, or, for a message relayed to the server, about
//! the client's link-local address the relay agent saw, with the MAC of
//! its DUID-LLT or DUID-LL. A server's ADVERTISE or REPLY makes the sender
//! a "dhcpv6-server" (`service`) and the DNS servers it hands out
//! "dns-server"s (`role`). Lease renewals are operations of the client
//! (`other`, code 5 RENEW or 6 REBIND, target the first address or prefix
//! of the lease, e.g. "renew 2001:db8::5"), with the result of the REPLY
//! when it comes back on the same flow (a unicast renewal); a renewal sent
//! to the multicast group is answered on another flow and stays unknown.
//! Roles come from the messages, not from the flow: the sensor takes the
//! higher port of a UDP flow for its client, which here is the server.

mod parser;

use crate::dhcp::parser::{code_list, os_from_vendor_class, text, wire_name};
use crate::dhcp::{endpoint_of, report_fqdn};
use crate::text::Text;
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{Endpoint, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{Fields, Lease, Message, REBIND, RENEW, REPLY};
use std::net::IpAddr;

/// A renewal waiting for the server's REPLY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Renewal {
    /// [`RENEW`] or [`REBIND`].
    kind: u8,
    transaction: u32,
    lease: Option<Lease>,
    /// The direction the client sent it in: the sensor orders a UDP flow
    /// by its ports (546 is below 547), so the flow's client may be the
    /// DHCPv6 server or the multicast group.
    sent: Direction,
}

/// DHCPv6 flow state.
#[derive(Default)]
pub struct Dhcpv6 {
    /// The client's renewal awaiting its reply.
    pending: Option<Renewal>,
    /// A malformed message was reported on this flow.
    malformed: bool,
}

impl Dissector for Dhcpv6 {
    const REGISTRATION: Registration = Registration { udp_ports: &[546, 547], probe: Some(probe), ..Registration::new(Protocol::Dhcpv6) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let msg = match parser::parse(data) {
            Ok(msg) => msg,
            Err(problem) => {
                if !self.malformed {
                    self.malformed = true;
                    ctx.violation(ViolationKind::Malformed, problem.to_string());
                }
                return;
            }
        };
        let fields = msg.fields();
        if msg.sent_by_client() {
            client_facts(ctx, &msg, &fields);
            if matches!(msg.kind, RENEW | REBIND) && msg.relayed_from.is_none() {
                let renewal = Renewal { kind: msg.kind, transaction: msg.transaction, lease: fields.lease, sent: ctx.dir };
                if let Some(earlier) = self.pending.replace(renewal) {
                    report(ctx, earlier, OperationResult::Unknown);
                }
            }
        } else {
            server_facts(ctx, &fields);
            let answers = |r: &Renewal| r.transaction == msg.transaction && r.sent != ctx.dir;
            if msg.kind == REPLY && self.pending.as_ref().is_some_and(answers) {
                if let Some(renewal) = self.pending.take() {
                    let result = fields.status.map_or(OperationResult::Success, |code| OperationResult::Error(u32::from(code)));
                    report(ctx, renewal, result);
                }
            }
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(renewal) = self.pending.take() {
            report(ctx, renewal, OperationResult::Unknown);
        }
    }
}

/// The device a client message is about.
fn client_of(ctx: &Ctx<'_>, msg: &Message<'_>, f: &Fields<'_>) -> Endpoint {
    let duid_mac = f.client_id.and_then(parser::duid_mac);
    match msg.relayed_from {
        Some(peer) => Endpoint { mac: duid_mac, ip: Some(IpAddr::V6(peer)), port: 0 },
        None => {
            let sender = ctx.sender();
            Endpoint { mac: sender.mac.or(duid_mac), port: 0, ..sender }
        }
    }
}

/// Host name and domain, vendor class (and OS), and option request fingerprint of a client.
fn client_facts(ctx: &mut Ctx<'_>, msg: &Message<'_>, f: &Fields<'_>) {
    let client = client_of(ctx, msg, f);
    let mut name = [0; 256];
    if let Some(fqdn) = f.client_fqdn.and_then(parser::fqdn_name).and_then(|n| wire_name(n, &mut name)) {
        report_fqdn(ctx, client, fqdn);
    }
    if let Some((enterprise, class)) = f.vendor_class.and_then(parser::vendor_class) {
        if let Some(class) = text(class) {
            let described = Text::<256>::format(format_args!("{class} (enterprise {enterprise})"));
            ctx.identity(client, IdentityField::VendorClass, described.as_str());
            if let Some(os) = os_from_vendor_class(class) {
                ctx.identity(client, IdentityField::Os, os);
            }
        }
    }
    let mut buf = Text::<1024>::default();
    if let Some(fingerprint) = f.requested.and_then(|list| code_list("v6:", parser::requested_codes(list), &mut buf)) {
        ctx.identity(client, IdentityField::DhcpFingerprint, fingerprint);
    }
}

/// A server's message: the sender serves DHCPv6, and the DNS servers it names serve DNS.
fn server_facts(ctx: &mut Ctx<'_>, f: &Fields<'_>) {
    ctx.sender_identity(IdentityField::Service, "dhcpv6-server");
    for ip in parser::addresses(f.dns_servers) {
        let subject = endpoint_of(ctx, IpAddr::V6(ip));
        ctx.identity(subject, IdentityField::Role, "dns-server");
    }
}

/// Reports a renewal as an operation of the DHCPv6 client that sent it
/// (turning the flow's sides around for the report when needed).
fn report(ctx: &mut Ctx<'_>, r: Renewal, result: OperationResult) {
    let verb = if r.kind == RENEW { "renew" } else { "rebind" };
    let code = u32::from(r.kind);
    let turned = r.sent == Direction::ToClient;
    if turned {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
    match r.lease {
        Some(lease) => ctx.operation(OperationKind::Other, code, Some(format_args!("{verb} {lease}")), result),
        None => ctx.operation(OperationKind::Other, code, Some(format_args!("{verb}")), result),
    }
    if turned {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
}

/// Recognises DHCPv6 on any UDP port.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::looks_like_dhcpv6(payload)
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{duid_llt, ia_na, message, opt};
    use super::*;
    use crate::testing::{operation_events, operations, subject_facts, violations, Flow};
    use palisade_model::MacAddr;
    use std::net::Ipv6Addr;

    const UP: Direction = Direction::ToServer;
    const DOWN: Direction = Direction::ToClient;
    const CLIENT_MAC: [u8; 6] = [0x00, 0x0c, 0x29, 0x11, 0x22, 0x33];
    const SERVER_MAC: [u8; 6] = [0x00, 0x50, 0x56, 1, 2, 3];

    fn endpoint(mac: Option<[u8; 6]>, ip: &str, port: u16) -> Endpoint {
        Endpoint { mac: mac.map(MacAddr), ip: Some(ip.parse().unwrap()), port }
    }

    fn client() -> Endpoint {
        endpoint(Some(CLIENT_MAC), "fe80::20c:29ff:fe11:2233", 546)
    }

    fn server() -> Endpoint {
        endpoint(Some(SERVER_MAC), "fe80::1", 547)
    }

    fn solicit() -> Vec<u8> {
        let vendor = [&311u32.to_be_bytes()[..], &[0, 8], b"MSFT 5.0"].concat();
        let fqdn = opt(39, b"\x00\x06DESK-7\x04corp\x05local\x00");
        message(1, &[opt(1, &duid_llt(CLIENT_MAC)), opt(8, &[0, 0]), fqdn, opt(16, &vendor), opt(6, &[0, 17, 0, 23, 0, 24, 0, 39])])
    }

    fn server_id() -> Vec<u8> {
        opt(2, &[&[0u8, 3, 0, 1][..], &SERVER_MAC].concat())
    }

    #[test]
    fn solicit_names_the_client() {
        let ev = Flow::<Dhcpv6>::new(client(), server()).datagrams(&[(UP, solicit())]).events();
        let who = endpoint(Some(CLIENT_MAC), "fe80::20c:29ff:fe11:2233", 0);
        assert_eq!(
            subject_facts(&ev),
            [
                (who, IdentityField::Hostname, "DESK-7".to_string()),
                (who, IdentityField::Domain, "corp.local".to_string()),
                (who, IdentityField::VendorClass, "MSFT 5.0 (enterprise 311)".to_string()),
                (who, IdentityField::Os, "Windows".to_string()),
                (who, IdentityField::DhcpFingerprint, "v6:17,23,24,39".to_string()),
            ]
        );
    }

    #[test]
    fn relayed_solicit_names_the_peer_with_the_duid_mac() {
        let mut relay = vec![12, 0];
        relay.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        relay.extend_from_slice(&"fe80::aa".parse::<Ipv6Addr>().unwrap().octets());
        relay.extend(opt(9, &message(1, &[opt(1, &duid_llt(CLIENT_MAC)), opt(6, &[0, 23])])));
        let relay_agent = endpoint(None, "2001:db8::1", 547);
        let ev = Flow::<Dhcpv6>::new(relay_agent, server()).datagrams(&[(UP, relay)]).events();
        let who = endpoint(Some(CLIENT_MAC), "fe80::aa", 0);
        assert_eq!(subject_facts(&ev), [(who, IdentityField::DhcpFingerprint, "v6:23".to_string())]);
    }

    #[test]
    fn unicast_renewal_gets_its_reply() {
        let addr: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let renew = message(5, &[opt(1, &duid_llt(CLIENT_MAC)), server_id(), ia_na(addr, None)]);
        let mut rebind = renew.clone();
        rebind[0] = 6;
        rebind[3] = 0x57;
        let dns = opt(23, &"2001:db8::53".parse::<Ipv6Addr>().unwrap().octets());
        let reply = message(7, &[server_id(), ia_na(addr, None), dns]);
        let mut no_binding = message(7, &[server_id(), ia_na(addr, Some(3))]);
        no_binding[3] = 0x57;
        let mut other_reply = reply.clone();
        other_reply[3] = 0x99;
        let mut f = Flow::<Dhcpv6>::new(client(), server());
        f.datagrams(&[(UP, &renew), (DOWN, &other_reply), (DOWN, &reply), (UP, &rebind), (DOWN, &no_binding), (UP, &renew)]).end();
        let ev = f.events();
        assert_eq!(
            subject_facts(&ev),
            [
                (endpoint(Some(SERVER_MAC), "fe80::1", 0), IdentityField::Service, "dhcpv6-server".to_string()),
                (endpoint(None, "2001:db8::53", 0), IdentityField::Role, "dns-server".to_string()),
            ]
        );
        let renew = |result| (OperationKind::Other, 5, Some("renew 2001:db8::5".to_string()), result);
        assert_eq!(
            operations(&ev),
            [
                renew(OperationResult::Success),
                (OperationKind::Other, 6, Some("rebind 2001:db8::5".to_string()), OperationResult::Error(3)),
                renew(OperationResult::Unknown),
            ]
        );
    }

    #[test]
    fn renewal_sent_from_the_flows_server_side() {
        // The flow's client is the port-547 side: the RENEW goes "to the client".
        let renew = message(5, &[opt(1, &duid_llt(CLIENT_MAC)), ia_na("2001:db8::5".parse().unwrap(), None)]);
        let reply = message(7, &[server_id()]);
        let ev = Flow::<Dhcpv6>::new(server(), client()).datagrams(&[(DOWN, &renew), (UP, &reply)]).events();
        let ops = operation_events(&ev);
        assert_eq!(ops.len(), 1);
        assert_eq!((ops[0].client, ops[0].server, ops[0].result), (client(), server(), OperationResult::Success));
    }

    #[test]
    fn malformed_is_reported_once() {
        let ev = Flow::<Dhcpv6>::new(client(), server()).datagrams(&[(UP, vec![1, 0, 0, 0, 0, 1, 0, 9]), (UP, vec![99])]).events();
        assert_eq!(violations(&ev), [(ViolationKind::Malformed, "DHCPv6 option 1 runs past the end of the message".to_string())]);
    }

    #[test]
    fn probe_is_udp_only() {
        assert!(probe(&solicit(), false));
        assert!(!probe(&solicit(), true));
    }
}
