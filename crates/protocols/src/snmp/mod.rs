//! SNMP (UDP 161, traps and informs on 162), versions 1, 2c and 3.
//!
//! Requests are reported as operations once their response arrives (get,
//! get-next and get-bulk: `read`; set: `configuration-change`; inform:
//! `other`; target: the first OID), with the error status as the result;
//! traps as `other` at once. The credential is reported as one `login`
//! operation per flow: a v1/v2c community masked to its first character and
//! length (a cleartext community was used), or the v3 user name with its
//! security level. A v3 Report answering a request is its error (code: the
//! usmStats counter's arc). Responses naming the system group (sysDescr,
//! sysObjectID, sysContact, sysName, sysLocation) give identity facts on the
//! agent. Encrypted v3 PDUs are not decoded.

mod parser;

use crate::ber::{Oid, Tlv};
use crate::lldp::{hints, text};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{tag, Pdu, Security};
use std::fmt;

/// Requests awaiting their response per flow.
const PENDING: usize = 4;
/// Bytes of a request's first OID kept for its target (longer ones are
/// shown cut, ending in "…").
const OID_BYTES: usize = 40;
/// Bytes of a v3 user name kept (USM names have at most 32).
const USER_BYTES: usize = 32;
/// 1.3.6.1.2.1.1 (the MIB-2 system group).
const SYSTEM: &[u8] = &[0x2b, 6, 1, 2, 1, 1];
/// 1.3.6.1.4.1 (private enterprises).
const ENTERPRISES: &[u8] = &[0x2b, 6, 1, 4, 1];
/// 1.3.6.1.6.3.1.1.4.1.0 (snmpTrapOID.0).
const SNMP_TRAP_OID: &[u8] = &[0x2b, 6, 1, 6, 3, 1, 1, 4, 1, 0];
/// error-status authorizationError (v2).
const AUTHORIZATION_ERROR: i64 = 16;

/// A request waiting for its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    id: i64,
    tag: u32,
    oid: [u8; OID_BYTES],
    oid_len: u8,
    cut: bool,
}

impl Pending {
    fn oid(&self) -> Option<Oid<'_>> {
        self.oid.get(..usize::from(self.oid_len)).filter(|o| !o.is_empty()).map(Oid)
    }
}

/// The credential a flow uses.
#[derive(Clone, Copy, Debug)]
enum Credential {
    /// A v1/v2c community: its first byte and length.
    Community { first: u8, len: usize },
    /// A v3 user: (a prefix of) its name and the security level.
    User { name: [u8; USER_BYTES], len: u8, level: u8 },
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Credential::Community { len: 0, .. } => f.write_str("community (empty)"),
            Credential::Community { first, len } => {
                let first = if first.is_ascii_graphic() { char::from(first) } else { '?' };
                write!(f, "community {first}")?;
                for _ in 1..len.min(64) {
                    f.write_str("*")?;
                }
                write!(f, " ({len} chars)")
            }
            Credential::User { name, len, level } => {
                let level = match level {
                    0 => "noAuthNoPriv",
                    1 => "authNoPriv",
                    3 => "authPriv",
                    _ => "invalid security level",
                };
                write!(f, "user {} {level}", text(name.get(..usize::from(len)).unwrap_or_default()))
            }
        }
    }
}

impl Credential {
    /// The credential of a message, if it names one (not v3 discovery).
    fn of(security: Security<'_>) -> Option<Self> {
        match security {
            Security::Community(c) => Some(Credential::Community { first: c.first().copied().unwrap_or(b'?'), len: c.len() }),
            Security::User { name: [], .. } => None,
            Security::User { name, level } => {
                let mut buf = [0; USER_BYTES];
                let len = name.len().min(USER_BYTES);
                buf.get_mut(..len)?.copy_from_slice(name.get(..len)?);
                Some(Credential::User { name: buf, len: len as u8, level })
            }
        }
    }
}

/// SNMP dissector: requests awaiting responses and the flow's credential.
#[derive(Default)]
pub struct Snmp {
    pending: [Option<Pending>; PENDING],
    next: usize,
    credential: Option<Credential>,
    login_reported: bool,
}

impl Dissector for Snmp {
    const REGISTRATION: Registration = Registration {
        udp_ports: &[161, 162],
        probe: Some(|payload, is_tcp| !is_tcp && parser::looks_like(payload)),
        ..Registration::new(Protocol::Snmp)
    };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let m = match parser::parse(data) {
            Ok(m) => m,
            Err(e) => {
                let kind = match e {
                    parser::Error::Version(_) => ViolationKind::ReservedValue,
                    parser::Error::PduType(_) => ViolationKind::IllegalFunction,
                    _ => ViolationKind::Malformed,
                };
                return ctx.violation(kind, e.to_string());
            }
        };
        if self.credential.is_none() {
            self.credential = Credential::of(m.security);
        }
        let Some(pdu) = m.pdu else {
            // An encrypted v3 PDU: an answer from the agent means the user was accepted.
            if ctx.dir == Direction::ToClient {
                self.login(ctx, OperationResult::Success);
            }
            return;
        };
        match pdu.tag {
            tag::GET | tag::GET_NEXT | tag::GET_BULK | tag::SET | tag::INFORM => self.request(ctx, &pdu),
            tag::RESPONSE => self.response(ctx, &pdu),
            tag::REPORT => self.refusal(ctx, &pdu),
            tag::TRAP_V1 | tag::TRAP_V2 => {
                trap(ctx, &pdu);
                self.login(ctx, OperationResult::Unknown);
            }
            _ => {}
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        for p in self.pending.iter_mut().filter_map(Option::take) {
            report(ctx, &p, OperationResult::Unknown);
        }
        self.login(ctx, OperationResult::Unknown);
    }
}

impl Snmp {
    /// Remembers a request until its response (the oldest is reported
    /// unanswered when the ring is full).
    fn request(&mut self, ctx: &mut Ctx<'_>, pdu: &Pdu<'_>) {
        let mut oid = [0; OID_BYTES];
        let first = parser::bindings(pdu).next().map_or(&[][..], |(name, _)| name);
        let oid_len = first.len().min(OID_BYTES);
        if let (Some(dst), Some(src)) = (oid.get_mut(..oid_len), first.get(..oid_len)) {
            dst.copy_from_slice(src);
        }
        let new = Pending { id: pdu.request_id, tag: pdu.tag, oid, oid_len: oid_len as u8, cut: first.len() > OID_BYTES };
        let slot = self.pending.iter().position(Option::is_none).unwrap_or(self.next);
        if let Some(s) = self.pending.get_mut(slot) {
            if let Some(old) = s.replace(new) {
                report(ctx, &old, OperationResult::Unknown);
            }
        }
        self.next = (slot + 1) % PENDING;
    }

    /// Completes the matching request and reads the agent's facts.
    fn response(&mut self, ctx: &mut Ctx<'_>, pdu: &Pdu<'_>) {
        let result = match pdu.error_status {
            0 => OperationResult::Success,
            e => OperationResult::Error(u32::try_from(e).unwrap_or(u32::MAX)),
        };
        if let Some(p) = self.pending.iter_mut().find(|p| p.is_some_and(|p| p.id == pdu.request_id)).and_then(Option::take) {
            report(ctx, &p, result);
        }
        let login = if pdu.error_status == AUTHORIZATION_ERROR { result } else { OperationResult::Success };
        self.login(ctx, login);
        for (name, value) in parser::bindings(pdu) {
            system_fact(ctx, name, &value);
        }
    }

    /// A v3 Report answers a request the agent refused (its first binding
    /// names the usmStats/mpdStats counter, whose arc is the error code),
    /// or an engine discovery (a request without bindings), which is not
    /// an operation.
    fn refusal(&mut self, ctx: &mut Ctx<'_>, pdu: &Pdu<'_>) {
        let Some(p) = self.pending.iter_mut().find(|p| p.is_some_and(|p| p.id == pdu.request_id)).and_then(Option::take) else { return };
        if p.oid().is_none() {
            return;
        }
        let counter = parser::bindings(pdu).next().and_then(|(name, _)| name.len().checked_sub(2).and_then(|i| name.get(i)).copied());
        let result = OperationResult::Error(counter.map_or(u32::MAX, u32::from));
        report(ctx, &p, result);
        self.login(ctx, result);
    }

    /// Reports the flow's credential once.
    fn login(&mut self, ctx: &mut Ctx<'_>, result: OperationResult) {
        if self.login_reported {
            return;
        }
        if let Some(c) = self.credential {
            self.login_reported = true;
            ctx.operation(OperationKind::Login, 0, Some(format_args!("{c}")), result);
        }
    }
}

/// Reports a request with its result.
fn report(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    let kind = match p.tag {
        tag::SET => OperationKind::ConfigurationChange,
        tag::INFORM => OperationKind::Other,
        _ => OperationKind::Read,
    };
    match p.oid() {
        Some(oid) => ctx.operation(kind, p.tag, Some(format_args!("{oid}{}", if p.cut { "…" } else { "" })), result),
        None => ctx.operation(kind, p.tag, None, result),
    }
}

/// Reports a trap: the v1 enterprise and trap numbers, or the v2 snmpTrapOID.
fn trap(ctx: &mut Ctx<'_>, pdu: &Pdu<'_>) {
    if let Some((enterprise, generic, specific)) = pdu.trap_v1 {
        let target = format_args!("trap {} generic {generic} specific {specific}", Oid(enterprise));
        return ctx.operation(OperationKind::Other, pdu.tag, Some(target), OperationResult::Unknown);
    }
    match parser::bindings(pdu).find(|(name, v)| *name == SNMP_TRAP_OID && v.is_universal(6)) {
        Some((_, v)) => ctx.operation(OperationKind::Other, pdu.tag, Some(format_args!("trap {}", Oid(v.value))), OperationResult::Unknown),
        None => ctx.operation(OperationKind::Other, pdu.tag, None, OperationResult::Unknown),
    }
}

/// Reports a system-group value of a response on the agent.
fn system_fact(ctx: &mut Ctx<'_>, name: &[u8], value: &Tlv<'_>) {
    let Some([object, 0]) = name.strip_prefix(SYSTEM) else { return };
    let agent = ctx.sender();
    if *object == 2 {
        if value.is_universal(6) {
            ctx.identity(agent, IdentityField::Description, &format!("sysObjectID {}", Oid(value.value)));
            if let Some(vendor) = enterprise(value.value).and_then(vendor) {
                ctx.identity(agent, IdentityField::Vendor, vendor);
            }
        }
        return;
    }
    if !value.is_universal(4) {
        return;
    }
    let field = match object {
        1 => IdentityField::Description,
        4 => IdentityField::Contact,
        5 => IdentityField::Hostname,
        6 => IdentityField::Location,
        _ => return,
    };
    let text = text(value.value);
    if field == IdentityField::Description {
        hints::report(ctx, agent, &text);
    }
    ctx.identity(agent, field, &text);
}

/// The enterprise number of an OID under 1.3.6.1.4.1.
fn enterprise(oid: &[u8]) -> Option<u32> {
    let rest = oid.strip_prefix(ENTERPRISES)?;
    let mut n: u32 = 0;
    for &b in rest.iter().take(5) {
        n = n.checked_mul(128)? | u32::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Vendors of a few well-known enterprise numbers (IANA registry).
fn vendor(enterprise: u32) -> Option<&'static str> {
    Some(match enterprise {
        9 => "Cisco",
        11 => "Hewlett-Packard",
        311 => "Microsoft",
        1916 => "Extreme Networks",
        1991 => "Foundry Networks",
        2011 => "Huawei",
        2636 => "Juniper Networks",
        4329 => "Siemens",
        4526 => "Netgear",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{message, tlv, SYS_NAME};
    use super::*;
    use crate::testing::{ep_at, ip_facts, operation_events as ops, violation_kinds, Flow};
    use palisade_model::Event;

    const MANAGER: &str = "10.0.0.1";
    const AGENT: &str = "10.0.0.2";

    /// Runs datagrams between the manager and the agent, then ends the flow.
    fn run(packets: &[(Direction, Vec<u8>)]) -> Vec<Event> {
        Flow::<Snmp>::new(ep_at(MANAGER, 40000), ep_at(AGENT, 161)).datagrams(packets).end().events()
    }

    #[test]
    fn get_response_facts_and_login() {
        let descr: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
        let object_id: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 2, 0];
        let ev = run(&[
            (Direction::ToServer, message(1, b"private", 0xa0, 5, 0, &[(SYS_NAME, vec![5, 0])])),
            (
                Direction::ToClient,
                message(
                    1,
                    b"private",
                    0xa2,
                    5,
                    0,
                    &[
                        (SYS_NAME, tlv(4, b"ubuntu-512mb-sfo2-01")),
                        (descr, tlv(4, b"Linux ubuntu 4.4.0-31-generic x86_64")),
                        (object_id, tlv(6, &[0x2b, 6, 1, 4, 1, 9, 1, 0x84, 0x04])),
                    ],
                ),
            ),
            (Direction::ToServer, message(1, b"private", 0xa3, 6, 0, &[(SYS_NAME, tlv(4, b"x"))])),
            (Direction::ToClient, message(1, b"private", 0xa2, 6, 17, &[(SYS_NAME, tlv(4, b"x"))])),
        ]);
        let facts = ip_facts(&ev);
        let agent = Some(AGENT.parse().expect("ip"));
        assert!(facts.contains(&(agent, IdentityField::Hostname, "ubuntu-512mb-sfo2-01".into())));
        assert!(facts.contains(&(agent, IdentityField::Os, "Linux".into())));
        assert!(facts.contains(&(agent, IdentityField::Description, "sysObjectID 1.3.6.1.4.1.9.1.516".into())));
        assert!(facts.contains(&(agent, IdentityField::Vendor, "Cisco".into())));
        let ops = ops(&ev);
        let summary: Vec<_> = ops.iter().map(|o| (o.kind, o.code, o.target.as_deref(), o.result)).collect();
        assert_eq!(
            summary,
            vec![
                (OperationKind::Read, 0, Some("1.3.6.1.2.1.1.5.0"), OperationResult::Success),
                (OperationKind::Login, 0, Some("community p****** (7 chars)"), OperationResult::Success),
                (OperationKind::ConfigurationChange, 3, Some("1.3.6.1.2.1.1.5.0"), OperationResult::Error(17)),
            ]
        );
    }

    #[test]
    fn unanswered_requests_and_traps() {
        let ev = run(&[
            (Direction::ToServer, message(0, b"public", 0xa1, 1, 0, &[(SYS_NAME, vec![5, 0])])),
            (Direction::ToServer, message(1, b"public", 0xa7, 2, 0, &[(SNMP_TRAP_OID, tlv(6, &[0x2b, 6, 1, 6, 3, 1, 1, 5, 1]))])),
        ]);
        let summary: Vec<_> = ops(&ev).iter().map(|o| (o.kind, o.target.clone(), o.result)).collect();
        assert!(summary.contains(&(OperationKind::Other, Some("trap 1.3.6.1.6.3.1.1.5.1".into()), OperationResult::Unknown)));
        assert!(summary.contains(&(OperationKind::Login, Some("community p***** (6 chars)".into()), OperationResult::Unknown)));
        assert!(summary.contains(&(OperationKind::Read, Some("1.3.6.1.2.1.1.5.0".into()), OperationResult::Unknown)));
    }

    #[test]
    fn malformed_is_a_violation_and_probe_is_strict() {
        let ev = run(&[(Direction::ToServer, vec![0x30, 0x03, 0x02, 0x01])]);
        assert!(violation_kinds(&ev).contains(&ViolationKind::Malformed));
        let probe = Snmp::REGISTRATION.probe.expect("probe");
        let get = message(1, b"public", 0xa0, 1, 0, &[(SYS_NAME, vec![5, 0])]);
        assert!(probe(&get, false));
        assert!(!probe(&get, true));
        assert!(!probe(b"GET / HTTP/1.1\r\n", false));
        let mut trailing = get.clone();
        trailing.push(0);
        assert!(!probe(&trailing, false));
    }

    #[test]
    fn reports_refuse_requests_and_end_discovery() {
        let unknown_user: &[u8] = &[0x2b, 6, 1, 6, 3, 15, 1, 1, 3, 0];
        let ev = run(&[
            (Direction::ToServer, message(1, b"public", 0xa0, 1, 0, &[])),
            (Direction::ToClient, message(1, b"public", 0xa8, 1, 0, &[(unknown_user, tlv(0x41, &[1]))])),
            (Direction::ToServer, message(1, b"public", 0xa0, 2, 0, &[(SYS_NAME, vec![5, 0])])),
            (Direction::ToClient, message(1, b"public", 0xa8, 2, 0, &[(unknown_user, tlv(0x41, &[2]))])),
        ]);
        let summary: Vec<_> = ops(&ev).iter().map(|o| (o.kind, o.target.clone(), o.result)).collect();
        assert_eq!(
            summary,
            vec![
                (OperationKind::Read, Some("1.3.6.1.2.1.1.5.0".into()), OperationResult::Error(3)),
                (OperationKind::Login, Some("community p***** (6 chars)".into()), OperationResult::Error(3)),
            ]
        );
    }

    #[test]
    fn enterprises() {
        assert_eq!(enterprise(&[0x2b, 6, 1, 4, 1, 0xa0, 0x49, 1]), Some(4169));
        assert_eq!(enterprise(&[0x2b, 6, 1, 4, 1, 9]).and_then(vendor), Some("Cisco"));
        assert_eq!(enterprise(&[0x2b, 6, 1, 2, 1]), None);
    }
}
