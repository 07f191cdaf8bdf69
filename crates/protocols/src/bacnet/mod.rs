//! BACnet/IP (UDP 47808): BVLC, NPDU and APDU, with the confirmed services
//! reported as operations (matched to their ACK, Error, Reject or Abort by
//! invoke id) and device identity taken from I-Am, I-Have and the
//! ReadProperty(Multiple) ACKs of the Device object.
//!
//! Both peers of a BACnet flow may send requests, so a request is matched
//! with a response travelling the other way, and the operation's client is
//! whoever sent the request. Facts in a Forwarded-NPDU belong to the
//! original source the BBMD names, not to the BBMD. A message routed from
//! another BACnet network (SNET present) can only be attributed to the IP
//! address that carries it, i.e. the router, which gets Role "gateway".

mod names;
mod parser;
mod vendors;

use crate::dnp3::{operation_from, Reporter};
use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{Endpoint, IdentityField, OperationKind, OperationResult, Protocol, Timestamp, ViolationKind};
use parser::{confirmed, unconfirmed, Apdu, Detail, ObjectId, Problem, Request, Value, BVLC_IPV6, OBJECT_DEVICE};
use std::fmt;
use std::net::IpAddr;

/// Outstanding confirmed requests remembered per flow.
const PENDING: usize = 16;
/// Undecodable datagrams before a flow that never carried BACnet is dropped.
const GIVE_UP: u8 = 8;
/// Role bits: the sender issued reads/writes.
const ROLE_CLIENT: u8 = 1;
/// Role bits: the sender answered requests or announced itself.
const ROLE_CONTROLLER: u8 = 2;
/// Role bits: the sender routed messages from another BACnet network.
const ROLE_GATEWAY: u8 = 4;
/// Network layer message I-Am-Router-To-Network.
const I_AM_ROUTER: u8 = 0x01;

/// Recognises BACnet/IP on any UDP port (see [`parser::looks_like_bvlc`]).
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::looks_like_bvlc(payload)
}

/// A confirmed request waiting for its response.
#[derive(Clone, Copy)]
struct Pending {
    dir: Direction,
    ts: Timestamp,
    invoke: u8,
    service: u8,
    request: Request,
}

/// Per-flow state of the BACnet dissector.
#[derive(Default)]
pub struct Bacnet {
    /// Outstanding requests, allocated at the first confirmed request.
    pending: Option<Box<[Option<Pending>; PENDING]>>,
    /// Next slot to reuse when the table is full.
    evict: u8,
    /// A response was matched to a request (so unmatched ones are suspect).
    paired: bool,
    /// Role bits reported per direction.
    roles: [u8; 2],
    /// A vendor-name property was seen from this direction.
    vendor_named: [bool; 2],
    /// Violation limit.
    reporter: Reporter,
    /// A BVLC was decoded in this flow.
    seen: bool,
    /// Undecodable datagrams so far.
    bad: u8,
}

impl Dissector for Bacnet {
    const REGISTRATION: Registration = Registration { udp_ports: &[47808], probe: Some(probe), ..Registration::new(Protocol::Bacnet) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let (bvlc, mismatch) = match parser::bvlc(data) {
            Ok(b) => b,
            Err(Problem::BvlcType(BVLC_IPV6)) => return,
            Err(p) => {
                self.bad = self.bad.saturating_add(1);
                self.problem(ctx, p);
                return;
            }
        };
        self.seen = true;
        if let Some(p) = mismatch {
            self.problem(ctx, p);
        }
        let Some(npdu) = bvlc.npdu else { return };
        let origin = bvlc.origin.map(|(ip, port)| Endpoint { mac: None, ip: Some(IpAddr::V4(ip)), port });
        let npdu = match parser::npdu(npdu) {
            Ok(n) => n,
            Err(p) => return self.problem(ctx, p),
        };
        if npdu.snet.is_some() || npdu.message == Some(I_AM_ROUTER) {
            self.role(ctx, origin, ROLE_GATEWAY, "gateway");
        }
        if npdu.message.is_some() {
            return;
        }
        match parser::apdu(npdu.payload) {
            Ok(apdu) => self.apdu(ctx, origin, apdu),
            Err(p) => self.problem(ctx, p),
        }
    }

    fn finished(&self) -> bool {
        !self.seen && self.bad >= GIVE_UP
    }
}

/// The violation kind of a problem.
fn violation_kind(p: Problem) -> ViolationKind {
    match p {
        Problem::BvlcFunction(_) => ViolationKind::IllegalFunction,
        Problem::BvlcLength { .. } | Problem::BvlcSize { .. } => ViolationKind::LengthMismatch,
        Problem::NpduReserved(_) | Problem::NetworkMessage(_) | Problem::ApduType(_) => ViolationKind::ReservedValue,
        Problem::Truncated(_)
        | Problem::BvlcType(_)
        | Problem::NpduVersion(_)
        | Problem::SourceLength
        | Problem::EmptyApdu
        | Problem::Encoding(_) => ViolationKind::Malformed,
    }
}

/// Confirmed services whose requests come from the device to a subscriber
/// (event and COV notifications): neither operations nor client behaviour.
fn is_notification(service: u8) -> bool {
    matches!(service, 1 | 2 | 31 | 32)
}

/// The operation kind of a confirmed request, `None` for notifications.
fn confirmed_kind(service: u8, request: &Request) -> Option<OperationKind> {
    use OperationKind::*;
    Some(match service {
        s if is_notification(s) => return None,
        3 | 4 | 5 | 12 | 13 | 14 | 26 | 28 | 29 | 30 | 33 => Read,
        6 => ProgramUpload,
        7 => ProgramDownload,
        8 | 9 | 15 | 16 | 27 => Write,
        10 | 11 | 17 => ConfigurationChange,
        20 => match request.detail {
            Detail::Reinitialize(0) => ColdRestart,
            Detail::Reinitialize(1) => WarmRestart,
            // startbackup, endbackup: the device's configuration is read out.
            Detail::Reinitialize(2 | 3) => ProgramUpload,
            // startrestore, endrestore, abortrestore: a configuration is loaded.
            Detail::Reinitialize(4..=6) => ProgramDownload,
            Detail::Reinitialize(7) => ConfigurationChange,
            _ => DeviceReset,
        },
        21..=23 => Session,
        24 | 25 => Login,
        _ => Other,
    })
}

/// The operation kind of an unconfirmed request that acts on devices.
fn unconfirmed_kind(service: u8) -> Option<OperationKind> {
    Some(match service {
        7 | 8 | 13 => OperationKind::Identify,
        6 | 9 => OperationKind::TimeSet,
        4 => OperationKind::Other,
        10 => OperationKind::Write,
        14 => OperationKind::ConfigurationChange,
        _ => return None,
    })
}

/// An operation's target, formatted only when reported.
struct Target<'a>(&'a Request);

impl Target<'_> {
    fn is_empty(&self) -> bool {
        self.0.object.is_none() && self.0.property.is_none() && self.0.detail == Detail::None
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let mut sep = "";
        if let Some(o) = r.object {
            write!(f, "{o}")?;
            sep = " ";
        }
        if let Some(p) = r.property {
            write!(f, "{sep}{}", names::Property(p))?;
            sep = " ";
        }
        if r.more > 0 {
            write!(f, "{sep}(+{} more)", r.more)?;
            sep = " ";
        }
        match r.detail {
            Detail::None => Ok(()),
            Detail::Communication { state, minutes } => {
                let s = match state {
                    0 => "enable",
                    1 => "disable",
                    2 => "disable-initiation",
                    _ => "state-unknown",
                };
                write!(f, "{sep}{s}")?;
                match minutes {
                    Some(m) => write!(f, " for {m} min"),
                    None => Ok(()),
                }
            }
            Detail::Reinitialize(state) => {
                const STATES: [&str; 8] = [
                    "coldstart",
                    "warmstart",
                    "startbackup",
                    "endbackup",
                    "startrestore",
                    "endrestore",
                    "abortrestore",
                    "activate-changes",
                ];
                match usize::try_from(state).ok().and_then(|i| STATES.get(i)) {
                    Some(s) => write!(f, "{sep}{s}"),
                    None => write!(f, "{sep}state {state}"),
                }
            }
            Detail::Private { vendor, service } => write!(f, "{sep}vendor {vendor} service {service}"),
            Detail::ObjectType(kind) => match u16::try_from(kind).ok().and_then(names::object_type) {
                Some(name) => write!(f, "{sep}{name}"),
                None => write!(f, "{sep}object-type-{kind}"),
            },
            Detail::Range { low, high } => write!(f, "{sep}device,{low}-{high}"),
        }
    }
}

/// Reports an operation with its target (if any).
fn emit(ctx: &mut Ctx<'_>, dir: Direction, ts: Timestamp, kind: OperationKind, service: u8, request: &Request, result: OperationResult) {
    let target = Target(request);
    let shown: Option<&dyn fmt::Display> = if target.is_empty() { None } else { Some(&target) };
    operation_from(ctx, dir, ts, kind, u32::from(service), shown, result);
}

/// A character string value as text without control characters.
fn text<'a>(value: Option<Value<'a>>) -> Option<std::borrow::Cow<'a, str>> {
    let Some(Value::Text(t)) = value else { return None };
    t.decode().filter(|s| !s.chars().any(|c| c.is_control() && c != '\0'))
}

impl Bacnet {
    /// Reports a problem as a violation (within the flow's limit).
    fn problem(&mut self, ctx: &mut Ctx<'_>, p: Problem) {
        self.reporter.flag(ctx, violation_kind(p), p.to_string());
    }

    /// Reports a role of the sender (or of a forwarded message's origin).
    fn role(&mut self, ctx: &mut Ctx<'_>, origin: Option<Endpoint>, bit: u8, role: &str) {
        if let Some(subject) = origin {
            ctx.identity(subject, IdentityField::Role, role);
            return;
        }
        if let Some(bits) = self.roles.get_mut(ctx.dir.index()).filter(|b| **b & bit == 0) {
            *bits |= bit;
            ctx.sender_identity(IdentityField::Role, role);
        }
    }

    fn apdu(&mut self, ctx: &mut Ctx<'_>, origin: Option<Endpoint>, apdu: Apdu<'_>) {
        match apdu {
            Apdu::Confirmed { invoke, service, sequence, more, data } => {
                if service > confirmed::LAST {
                    self.reporter.flag(ctx, ViolationKind::IllegalFunction, format!("unknown confirmed service {service}"));
                }
                if sequence != 0 {
                    return;
                }
                let request = parser::request(service, data, !more).unwrap_or_else(|p| {
                    self.problem(ctx, p);
                    Request::default()
                });
                if confirmed_kind(service, &request).is_some() {
                    self.role(ctx, origin, ROLE_CLIENT, "scada-client");
                }
                self.remember(ctx, Pending { dir: ctx.dir, ts: ctx.ts, invoke, service, request });
            }
            Apdu::Unconfirmed { service, data } => self.unconfirmed(ctx, origin, service, data),
            Apdu::SimpleAck { invoke, service } => {
                self.answered(ctx, origin, service);
                self.response(ctx, invoke, OperationResult::Success, true);
            }
            Apdu::ComplexAck { invoke, service, sequence, more, data } => {
                if sequence != 0 {
                    return;
                }
                self.answered(ctx, origin, service);
                self.ack_identity(ctx, origin, service, data, more);
                self.response(ctx, invoke, OperationResult::Success, true);
            }
            Apdu::Error { invoke, service, error } => {
                self.answered(ctx, origin, service);
                let code = error.map_or(0, |(_, code)| code);
                self.response(ctx, invoke, OperationResult::Error(code), true);
            }
            Apdu::Reject { invoke, reason } | Apdu::Abort { invoke, reason } => {
                self.response(ctx, invoke, OperationResult::Error(u32::from(reason)), false);
            }
            Apdu::SegmentAck { .. } => {}
        }
    }

    /// The sender answered a confirmed request: it acts as a controller.
    fn answered(&mut self, ctx: &mut Ctx<'_>, origin: Option<Endpoint>, service: u8) {
        if !is_notification(service) {
            self.role(ctx, origin, ROLE_CONTROLLER, "building-controller");
        }
    }

    fn unconfirmed(&mut self, ctx: &mut Ctx<'_>, origin: Option<Endpoint>, service: u8, data: &[u8]) {
        let subject = origin.unwrap_or_else(|| ctx.sender());
        match service {
            unconfirmed::I_AM => match parser::i_am(data) {
                Ok(i) => {
                    self.role(ctx, origin, ROLE_CONTROLLER, "building-controller");
                    if let Some(vendor) = vendors::name(i.vendor) {
                        ctx.identity(subject, IdentityField::Vendor, vendor);
                    }
                }
                Err(p) => self.problem(ctx, p),
            },
            unconfirmed::I_HAVE => match parser::i_have(data) {
                Ok((device, object, name)) => {
                    self.role(ctx, origin, ROLE_CONTROLLER, "building-controller");
                    if device == object {
                        if let Some(name) = text(Some(Value::Text(name))) {
                            ctx.identity(subject, IdentityField::DeviceName, &name);
                        }
                    }
                }
                Err(p) => self.problem(ctx, p),
            },
            s if s > unconfirmed::LAST => {
                self.reporter.flag(ctx, ViolationKind::IllegalFunction, format!("unknown unconfirmed service {s}"));
            }
            s => {
                if let Some(kind) = unconfirmed_kind(s) {
                    let request = match s {
                        8 => parser::who_is(data),
                        4 => parser::request(18, data, true).unwrap_or_default(),
                        _ => Request::default(),
                    };
                    emit(ctx, ctx.dir, ctx.ts, kind, s, &request, OperationResult::Unknown);
                }
            }
        }
    }

    /// Identity facts from the ACK of a ReadProperty(Multiple) of a Device
    /// object. A first segment (`more`) may end mid-value: no violation then.
    fn ack_identity(&mut self, ctx: &mut Ctx<'_>, origin: Option<Endpoint>, service: u8, data: &[u8], more: bool) {
        let subject = origin.unwrap_or_else(|| ctx.sender());
        let dir = ctx.dir.index();
        let result = match service {
            confirmed::READ_PROPERTY => parser::read_property_ack(data).map(|(object, property, value)| {
                self.device_property(ctx, subject, dir, object, property, value);
            }),
            confirmed::READ_PROPERTY_MULTIPLE => parser::read_property_multiple_ack(data, |object, property, value| {
                self.device_property(ctx, subject, dir, object, property, value);
            }),
            _ => Ok(()),
        };
        if let Err(p) = result {
            if !more {
                self.problem(ctx, p);
            }
        }
    }

    fn device_property(
        &mut self,
        ctx: &mut Ctx<'_>,
        subject: Endpoint,
        dir: usize,
        object: ObjectId,
        property: u32,
        value: Option<Value<'_>>,
    ) {
        if object.kind != OBJECT_DEVICE {
            return;
        }
        let field = match property {
            121 => {
                if let Some(named) = self.vendor_named.get_mut(dir) {
                    *named = true;
                }
                IdentityField::Vendor
            }
            70 => IdentityField::Model,
            44 => IdentityField::Firmware,
            77 => IdentityField::DeviceName,
            28 => IdentityField::Description,
            58 => IdentityField::Location,
            12 => {
                if let Some(v) = text(value) {
                    ctx.identity(subject, IdentityField::Description, &format!("application software {}", v.trim()));
                }
                return;
            }
            120 => {
                let named = self.vendor_named.get(dir).copied().unwrap_or(false);
                if let (false, Some(Value::Unsigned(id))) = (named, value) {
                    if let Some(vendor) = vendors::name(id) {
                        ctx.identity(subject, IdentityField::Vendor, vendor);
                    }
                }
                return;
            }
            _ => return,
        };
        if let Some(v) = text(value) {
            ctx.identity(subject, field, &v);
        }
    }

    /// Puts a request in the table; one it displaces is reported unanswered.
    fn remember(&mut self, ctx: &mut Ctx<'_>, new: Pending) {
        let table = self.pending.get_or_insert_with(|| Box::new([None; PENDING]));
        let slot = table
            .iter()
            .position(|p| p.is_some_and(|p| p.invoke == new.invoke && p.dir == new.dir))
            .or_else(|| table.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                self.evict = (self.evict + 1) % PENDING as u8;
                usize::from(self.evict)
            });
        if let Some(entry) = table.get_mut(slot) {
            if let Some(old) = entry.replace(new) {
                report(ctx, &old, OperationResult::Unknown);
            }
        }
    }

    /// Matches a response to the request with its invoke id that went the
    /// other way, and reports the operation. `strict` responses (ACK and
    /// Error) without a request are flagged once the flow has paired one.
    fn response(&mut self, ctx: &mut Ctx<'_>, invoke: u8, result: OperationResult, strict: bool) {
        let dir = ctx.dir;
        let found = self
            .pending
            .as_mut()
            .and_then(|t| t.iter_mut().find(|p| p.is_some_and(|p| p.invoke == invoke && p.dir != dir)))
            .and_then(Option::take);
        match found {
            Some(p) => {
                self.paired = true;
                report(ctx, &p, result);
            }
            None if strict && self.paired => {
                self.reporter.flag(ctx, ViolationKind::UnexpectedResponse, format!("response with invoke id {invoke} matches no request"));
            }
            None => {}
        }
    }
}

/// Reports the operation of a confirmed request with its result.
fn report(ctx: &mut Ctx<'_>, p: &Pending, result: OperationResult) {
    if let Some(kind) = confirmed_kind(p.service, &p.request) {
        emit(ctx, p.dir, p.ts, kind, p.service, &p.request, result);
    }
}

#[cfg(test)]
mod tests;
