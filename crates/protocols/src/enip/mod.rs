//! EtherNet/IP (encapsulation on TCP/UDP 44818) with the CIP explicit
//! messages it carries, and CIP class-1 I/O on UDP 2222.
//!
//! Identity comes from ListIdentity replies and from Identity object reads
//! (Get_Attributes_All / Get_Attribute_Single / Get_Attribute_List on class
//! 1), reported on the device that answered. CIP services become operations
//! (reads, writes, start/stop, reset, program upload/download, sessions),
//! matched to their responses by sender context (unconnected) or sequence
//! count (connected); Multiple Service Packets and Unconnected Sends are
//! unwrapped to the requests they carry.

mod cip;
mod parser;
mod vendors;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{Endpoint, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{command, item, Header, HEADER_LEN};
use std::fmt;

/// EtherNet/IP encapsulation port (TCP and UDP).
const PORT: u16 = 44818;
/// Class-1 I/O port (UDP).
const IO_PORT: u16 = 2222;
/// Outstanding CIP requests remembered per flow.
const PENDING_MAX: usize = 16;
/// Violations reported per flow at most.
const MAX_VIOLATIONS: u8 = 16;
/// Bit that keeps connected-message keys apart from sender contexts.
const CONNECTED_KEY: u64 = 1 << 63;
/// I/O datagrams checked before an I/O flow needs no more payload.
const IO_PACKETS_CHECKED: u8 = 8;

/// A CIP request waiting for its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// Sender context (unconnected) or CONNECTED_KEY | sequence count.
    key: u64,
    /// Position in a Multiple Service Packet.
    index: u8,
    service: u8,
    kind: OperationKind,
    path: cip::Path,
}

/// EtherNet/IP flow state.
#[derive(Default)]
pub struct Enip {
    /// Whether each direction (to server, to client) is at a message boundary.
    synced: [bool; 2],
    /// Outstanding requests (allocated on the first request).
    pending: Vec<Option<Pending>>,
    /// Next slot to reuse once `pending` is full.
    next_slot: usize,
    requests_seen: bool,
    overflowed: bool,
    violations: u8,
    /// A role from a device type was reported in this flow.
    type_role: bool,
    /// The "controller" role was considered in this flow.
    controller_role: bool,
}

impl Dissector for Enip {
    const REGISTRATION: Registration =
        Registration { tcp_ports: &[PORT], udp_ports: &[PORT], probe: Some(probe), ..Registration::new(Protocol::Enip) };

    fn stream(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> usize {
        let d = usize::from(ctx.dir == Direction::ToClient);
        let mut off = 0;
        loop {
            let Some(rest) = data.get(off..) else { return data.len() };
            let Some(h) = parser::header(rest) else { return off };
            if !h.plausible() {
                if self.synced.get(d).copied().unwrap_or(false) {
                    self.bad_header(ctx, &h);
                }
                if let Some(s) = self.synced.get_mut(d) {
                    *s = false;
                }
                match (1..rest.len()).find(|&i| rest.get(i..).and_then(parser::header).is_some_and(|h| h.starts_exchange())) {
                    Some(i) => {
                        off += i;
                        continue;
                    }
                    None => return data.len().saturating_sub(HEADER_LEN - 1).max(off),
                }
            }
            let Some(msg) = rest.get(..h.total()) else { return off };
            if let Some(s) = self.synced.get_mut(d) {
                *s = true;
            }
            self.message(ctx, &h, msg.get(HEADER_LEN..).unwrap_or_default());
            off += h.total();
        }
    }

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let Some(h) = parser::header(data) else {
            self.violation(ctx, ViolationKind::LengthMismatch, "datagram shorter than the encapsulation header");
            return;
        };
        if !h.plausible() {
            self.bad_header(ctx, &h);
            return;
        }
        match data.get(..h.total()) {
            Some(msg) => {
                if msg.len() != data.len() {
                    self.violation(ctx, ViolationKind::LengthMismatch, "bytes after the encapsulated message");
                }
                self.message(ctx, &h, msg.get(HEADER_LEN..).unwrap_or_default());
            }
            None => self.violation(ctx, ViolationKind::LengthMismatch, "encapsulation length runs past the datagram"),
        }
    }
}

/// Recognises an encapsulation message at the start of a flow.
fn probe(payload: &[u8], is_tcp: bool) -> bool {
    let Some(h) = parser::header(payload) else { return false };
    let length_ok = if is_tcp { h.total() <= payload.len() } else { h.total() == payload.len() };
    let body_ok = match h.command {
        command::LIST_IDENTITY | command::LIST_SERVICES | command::LIST_INTERFACES => true,
        command::REGISTER_SESSION => h.length == 4,
        command::UNREGISTER_SESSION => h.length == 0,
        command::SEND_RR_DATA | command::SEND_UNIT_DATA => h.length >= 8,
        _ => false,
    };
    h.starts_exchange() && length_ok && body_ok
}

fn result(status: u32) -> OperationResult {
    if status == 0 {
        OperationResult::Success
    } else {
        OperationResult::Error(status)
    }
}

impl Enip {
    /// Handles one whole encapsulation message.
    fn message(&mut self, ctx: &mut Ctx<'_>, h: &Header, body: &[u8]) {
        let reply = ctx.dir == Direction::ToClient;
        let code = u32::from(h.command);
        match h.command {
            command::LIST_IDENTITY | command::LIST_SERVICES | command::LIST_INTERFACES => {
                if h.command == command::LIST_IDENTITY && !body.is_empty() {
                    self.list_identity(ctx, body);
                }
                if reply && (h.status != 0 || !body.is_empty()) {
                    ctx.operation(OperationKind::Identify, code, None, result(h.status));
                }
            }
            command::REGISTER_SESSION => {
                if body.len() != 4 {
                    self.violation(ctx, ViolationKind::LengthMismatch, "RegisterSession data is not 4 bytes");
                }
                if reply {
                    ctx.operation(OperationKind::Session, code, None, result(h.status));
                }
            }
            command::UNREGISTER_SESSION => {
                if !body.is_empty() {
                    self.violation(ctx, ViolationKind::LengthMismatch, "UnRegisterSession carries data");
                }
                ctx.operation(OperationKind::Session, code, None, OperationResult::Unknown);
            }
            command::SEND_RR_DATA | command::SEND_UNIT_DATA if h.status == 0 => self.send_data(ctx, h, body),
            _ => {}
        }
    }

    fn bad_header(&mut self, ctx: &mut Ctx<'_>, h: &Header) {
        if h.known_command() {
            self.violation(
                ctx,
                ViolationKind::Malformed,
                format!("encapsulation header with status 0x{:x} / options 0x{:x}", h.status, h.options),
            );
        } else {
            self.violation(ctx, ViolationKind::IllegalFunction, format!("unknown encapsulation command 0x{:04x}", h.command));
        }
    }

    fn violation(&mut self, ctx: &mut Ctx<'_>, kind: ViolationKind, detail: impl Into<String>) {
        if self.violations < MAX_VIOLATIONS {
            self.violations += 1;
            ctx.violation(kind, detail);
        }
    }

    fn list_identity(&mut self, ctx: &mut Ctx<'_>, body: &[u8]) {
        let Some(mut items) = parser::items(body) else {
            self.violation(ctx, ViolationKind::Malformed, "ListIdentity reply without an item count");
            return;
        };
        let sender = ctx.sender();
        for it in items.by_ref() {
            if it.kind != item::IDENTITY {
                continue;
            }
            match parser::identity_item_attributes(it.data).and_then(cip::identity_all) {
                Some(id) => self.identity_facts(ctx, sender, &id),
                None => self.violation(ctx, ViolationKind::Malformed, "truncated ListIdentity identity item"),
            }
        }
        if items.malformed() {
            self.violation(ctx, ViolationKind::LengthMismatch, "CPF item longer than the encapsulated data");
        }
    }

    fn send_data(&mut self, ctx: &mut Ctx<'_>, h: &Header, body: &[u8]) {
        let Some(mut items) = parser::send_data_items(body) else {
            self.violation(ctx, ViolationKind::LengthMismatch, "send-data message shorter than its header");
            return;
        };
        for it in items.by_ref() {
            match it.kind {
                item::UNCONNECTED_DATA if h.command == command::SEND_RR_DATA => self.cip(ctx, h.context & !CONNECTED_KEY, it.data),
                item::CONNECTED_DATA if h.command == command::SEND_UNIT_DATA => {
                    match (palisade_decode::le16(it.data, 0), it.data.get(2..)) {
                        (Some(seq), Some(msg)) => self.cip(ctx, CONNECTED_KEY | u64::from(seq), msg),
                        _ => self.violation(ctx, ViolationKind::Malformed, "connected data item without a sequence count"),
                    }
                }
                _ => {}
            }
        }
        if items.malformed() {
            self.violation(ctx, ViolationKind::LengthMismatch, "CPF item longer than the encapsulated data");
        }
    }

    /// Handles one CIP explicit message.
    fn cip(&mut self, ctx: &mut Ctx<'_>, key: u64, msg: &[u8]) {
        ctx.carries(Protocol::Cip);
        match cip::message(msg) {
            None => self.violation(ctx, ViolationKind::Malformed, "truncated CIP message"),
            Some(cip::Message::Request(req)) => self.request(ctx, key, req),
            Some(cip::Message::Response(resp)) => self.response(ctx, key, resp),
        }
    }

    fn request(&mut self, ctx: &mut Ctx<'_>, key: u64, req: cip::Request<'_>) {
        self.requests_seen = true;
        if cip::reserved_service(req.service) {
            self.violation(ctx, ViolationKind::ReservedValue, format!("reserved CIP service code 0x{:02x}", req.service));
        }
        let mut bad_path = None;
        let whole = cip::leaves(req, &mut |leaf| {
            let path = leaf.path.unwrap_or_else(|e| {
                bad_path = Some(e);
                cip::Path::default()
            });
            let kind = cip::kind(leaf.service, &path);
            self.insert(ctx, Pending { key, index: leaf.index, service: leaf.service, kind, path });
        });
        if !whole {
            self.violation(ctx, ViolationKind::Malformed, "malformed Multiple Service Packet or Unconnected Send");
        }
        if let Some(e) = bad_path {
            self.violation(ctx, ViolationKind::Malformed, e.to_string());
        }
    }

    /// Remembers a request; a request it displaces is reported unanswered.
    fn insert(&mut self, ctx: &mut Ctx<'_>, p: Pending) {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PENDING_MAX);
        }
        let same = self.pending.iter().position(|s| s.is_some_and(|e| e.key == p.key && e.index == p.index));
        let slot = match same.or_else(|| self.pending.iter().position(Option::is_none)) {
            Some(i) => i,
            None if self.pending.len() < PENDING_MAX => {
                self.pending.push(Some(p));
                return;
            }
            None => {
                self.overflowed = true;
                let i = self.next_slot % PENDING_MAX;
                self.next_slot = i + 1;
                i
            }
        };
        if let Some(old) = self.pending.get_mut(slot).and_then(|s| s.replace(p)) {
            emit(ctx, &old, OperationResult::Unknown);
        }
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, key: u64, resp: cip::Response<'_>) {
        if !self.pending.iter().flatten().any(|e| e.key == key) {
            if self.requests_seen && !self.overflowed {
                self.violation(ctx, ViolationKind::UnexpectedResponse, "CIP response without a matching request");
            }
            return;
        }
        if resp.service == cip::service::MULTIPLE_SERVICE_PACKET {
            for (i, m) in cip::bundled(resp.data).enumerate() {
                if let (Ok(i), Some(cip::Message::Response(sub))) = (u8::try_from(i), m.and_then(cip::message)) {
                    self.resolve(ctx, key, Some(i), sub);
                }
            }
        }
        self.resolve(ctx, key, None, resp);
    }

    /// Answers the pending requests with `key` (and `index`, if given).
    fn resolve(&mut self, ctx: &mut Ctx<'_>, key: u64, index: Option<u8>, resp: cip::Response<'_>) {
        for i in 0..self.pending.len() {
            let Some(slot) = self.pending.get_mut(i) else { break };
            if !slot.is_some_and(|e| e.key == key && index.is_none_or(|x| x == e.index)) {
                continue;
            }
            if let Some(e) = slot.take() {
                self.answered(ctx, &e, resp);
            }
        }
    }

    fn answered(&mut self, ctx: &mut Ctx<'_>, e: &Pending, resp: cip::Response<'_>) {
        emit(ctx, e, result(u32::from(resp.status)));
        if matches!(e.kind, OperationKind::ProgramUpload | OperationKind::ProgramDownload) {
            ctx.identity(ctx.receiver(), IdentityField::Role, "engineering-workstation");
        }
        if resp.status == cip::STATUS_SERVICE_NOT_SUPPORTED && e.kind == OperationKind::Other {
            self.violation(ctx, ViolationKind::IllegalFunction, format!("CIP service 0x{:02x} not supported by the device", e.service));
        }
        if resp.status != 0 {
            return;
        }
        if e.path.class == Some(cip::class::IDENTITY) && resp.service == e.service {
            let id = match e.service {
                cip::service::GET_ATTRIBUTES_ALL => cip::identity_all(resp.data),
                cip::service::GET_ATTRIBUTE_SINGLE => e.path.attribute.map(|a| cip::identity_single(a, resp.data)),
                cip::service::GET_ATTRIBUTE_LIST => Some(cip::identity_list(resp.data)),
                _ => None,
            };
            if let Some(id) = id {
                self.identity_facts(ctx, ctx.sender(), &id);
            }
        }
        if !self.controller_role {
            self.controller_role = true;
            if !self.type_role {
                ctx.sender_identity(IdentityField::Role, "controller");
            }
        }
    }

    /// Reports identity attributes as facts about `subject`.
    fn identity_facts(&mut self, ctx: &mut Ctx<'_>, subject: Endpoint, id: &cip::Identity<'_>) {
        if let Some(name) = id.vendor.and_then(vendors::vendor_name) {
            ctx.identity(subject, IdentityField::Vendor, name);
        }
        if let Some(role) = id.device_type.and_then(cip::device_role) {
            self.type_role = true;
            ctx.identity(subject, IdentityField::Role, role);
        }
        if let Some((major, minor)) = id.revision {
            ctx.identity(subject, IdentityField::Firmware, StackStr::format(format_args!("{major}.{minor:02}")).as_str());
        }
        if let Some(serial) = id.serial {
            ctx.identity(subject, IdentityField::Serial, StackStr::format(format_args!("0x{serial:08x}")).as_str());
        }
        if !id.product_name.is_empty() {
            ctx.identity(subject, IdentityField::ProductName, &String::from_utf8_lossy(id.product_name));
        }
    }
}

/// Reports a CIP operation.
fn emit(ctx: &mut Ctx<'_>, e: &Pending, result: OperationResult) {
    let code = u32::from(e.service);
    if e.path.has_target() {
        ctx.operation_as(Protocol::Cip, e.kind, code, Some(format_args!("{}", e.path)), result);
    } else {
        ctx.operation_as(Protocol::Cip, e.kind, code, None, result);
    }
}

/// A short string formatted on the stack (no allocation).
struct StackStr {
    buf: [u8; 24],
    len: usize,
}

impl StackStr {
    fn format(args: fmt::Arguments<'_>) -> StackStr {
        let mut s = StackStr { buf: [0; 24], len: 0 };
        let _ = fmt::write(&mut s, args);
        s
    }

    fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// CIP class-1 (implicit I/O) flow state: checks the first datagrams, then
/// only counting goes on.
#[derive(Default)]
pub struct CipIo {
    packets: u8,
    violations: u8,
}

impl Dissector for CipIo {
    const REGISTRATION: Registration = Registration { udp_ports: &[IO_PORT], probe: Some(probe_io), ..Registration::new(Protocol::Cip) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        if parser::is_io_packet(data) {
            self.packets = self.packets.saturating_add(1);
        } else if self.packets > 0 && self.violations < 4 {
            self.violations += 1;
            ctx.violation(ViolationKind::Malformed, "malformed CIP I/O datagram");
        }
    }

    fn finished(&self) -> bool {
        self.packets >= IO_PACKETS_CHECKED
    }
}

/// Recognises a class-1 I/O datagram.
fn probe_io(payload: &[u8], is_tcp: bool) -> bool {
    !is_tcp && parser::is_io_packet(payload)
}

#[cfg(test)]
mod tests;
