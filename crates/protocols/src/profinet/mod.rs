//! PROFINET: DCP (discovery and basic configuration, on ethertype 0x8892)
//! and IO context management over DCE/RPC (PNIO-CM, UDP 34964).
//!
//! DCP gives names of station, vendor and device ids, roles and IP
//! parameters of devices, and shows Set requests that change them. Cyclic
//! real-time frames share the ethertype; they are only counted. PNIO-CM
//! shows connects, record reads and writes, and I&M0 identification.

mod parser;
mod rpc;
mod vendors;

#[cfg(test)]
mod tests;

use crate::{Ctx, Dissector, Registration};
use palisade_flow::Direction;
use palisade_model::{Endpoint, IdentityField, OperationKind, OperationResult, Protocol, ViolationKind};
use parser::{control, device, ip, option, service, service_type, Dcp, DcpError, FrameKind};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// The PROFINET ethertype.
pub const ETHERTYPE: u16 = 0x8892;
/// The PNIO-CM UDP port.
pub const PORT: u16 = 34964;

/// How many DCP requests a flow waits on at once.
const DCP_PENDING: usize = 4;
/// How many RPC calls a flow waits on at once.
const RPC_PENDING: usize = 8;
/// Result code of a DCP request the device refused as unsupported (DCP
/// block errors are below 0x100).
const DCP_NOT_SUPPORTED: u32 = 0x100;

/// Reports an operation requested by the side sending in direction
/// `requester` (a layer-2 flow's client is just whoever spoke first).
fn operation_by(
    ctx: &mut Ctx<'_>,
    requester: Direction,
    kind: OperationKind,
    code: u32,
    target: Option<std::fmt::Arguments<'_>>,
    result: OperationResult,
) {
    let swap = requester == Direction::ToClient;
    if swap {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
    ctx.operation(kind, code, target, result);
    if swap {
        std::mem::swap(&mut ctx.client, &mut ctx.server);
    }
}

/// Reports what a PROFINET vendor and device id say about `subject`.
fn device_ids(ctx: &mut Ctx<'_>, subject: Endpoint, vendor: u16, device: u16) {
    if let Some(name) = vendors::vendor_name(vendor) {
        ctx.identity(subject, IdentityField::Vendor, name);
    }
    ctx.identity(subject, IdentityField::Description, &format!("profinet vendor 0x{vendor:04x} device 0x{device:04x}"));
}

/// Readable text of a name or label field.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// A DCP request waiting for its response.
struct DcpPending {
    xid: u32,
    service: u8,
    requester: Direction,
    kind: OperationKind,
    target: String,
}

/// PROFINET DCP flow state (one MAC pair on ethertype 0x8892).
#[derive(Default)]
pub struct ProfinetDcp {
    pending: [Option<DcpPending>; DCP_PENDING],
    next: usize,
    /// A Set or Get request was seen, so unmatched responses are suspicious.
    requested: bool,
    /// Hash of the name of station this sender looked for with Identify.
    asked_name: Option<u64>,
    /// The sender looked for more than one name (a controller, not a
    /// device checking its own name).
    asked_many: bool,
}

impl Dissector for ProfinetDcp {
    const REGISTRATION: Registration = Registration { ethertypes: &[ETHERTYPE], ..Registration::new(Protocol::Profinet) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let Some((frame_id, rest)) = parser::frame(data) else {
            ctx.violation(ViolationKind::Malformed, "PROFINET frame shorter than its frame id");
            return;
        };
        if parser::frame_kind(frame_id) != FrameKind::Dcp {
            return;
        }
        let msg = match parser::dcp(rest) {
            Ok(m) => m,
            Err(DcpError::Length) => return ctx.violation(ViolationKind::LengthMismatch, "DCP data length runs past the frame"),
            Err(_) => return ctx.violation(ViolationKind::Malformed, "truncated DCP header"),
        };
        match (msg.service, msg.service_type) {
            (service::IDENTIFY, service_type::REQUEST) => self.identify_request(ctx, &msg),
            (service::SET, service_type::REQUEST) => self.set_request(ctx, &msg),
            (service::GET, service_type::REQUEST) => self.get_request(ctx, &msg),
            (service::HELLO, service_type::REQUEST) => device_facts(ctx, &msg),
            (service::GET..=service::IDENTIFY, service_type::SUCCESS | service_type::NOT_SUPPORTED) => self.response(ctx, &msg),
            (1 | 2, _) => {} // manufacturer specific services
            (s, t) => ctx.violation(ViolationKind::ReservedValue, format!("reserved DCP service {s} or service type {t}")),
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        for p in self.pending.iter_mut().filter_map(Option::take) {
            operation_by(ctx, p.requester, p.kind, u32::from(p.service), Some(format_args!("{}", p.target)), OperationResult::Unknown);
        }
    }
}

impl ProfinetDcp {
    fn wait(&mut self, ctx: &mut Ctx<'_>, p: DcpPending) {
        let slot = self.next % DCP_PENDING;
        self.next = self.next.wrapping_add(1);
        if let Some(old) = self.pending.get_mut(slot).and_then(|s| s.replace(p)) {
            operation_by(
                ctx,
                old.requester,
                old.kind,
                u32::from(old.service),
                Some(format_args!("{}", old.target)),
                OperationResult::Unknown,
            );
        }
    }

    /// Identify: a multicast search (answered in other flows, so reported
    /// now) or a unicast one (answered here).
    fn identify_request(&mut self, ctx: &mut Ctx<'_>, msg: &Dcp<'_>) {
        let mut target = String::new();
        for block in msg.blocks() {
            let Ok(block) = block else {
                return ctx.violation(ViolationKind::Malformed, "DCP block runs past the data");
            };
            if !target.is_empty() {
                target.push_str(", ");
            }
            if (block.option, block.suboption) == (option::DEVICE, device::NAME_OF_STATION) {
                self.asked_for(ctx, block.value);
                let _ = write!(target, "name of station {}", text(block.value));
            } else {
                target.push_str(parser::option_name(block.option, block.suboption));
            }
        }
        let p = DcpPending { xid: msg.xid, service: msg.service, requester: ctx.dir, kind: OperationKind::Identify, target };
        if ctx.to_group {
            operation_by(ctx, p.requester, p.kind, u32::from(p.service), Some(format_args!("{}", p.target)), OperationResult::Unknown);
        } else {
            self.wait(ctx, p);
        }
    }

    /// A device looks for its own name of station at start-up (to detect a
    /// duplicate); a controller looks for the names of its devices. A
    /// sender asking for a single name is taken to be the device itself.
    fn asked_for(&mut self, ctx: &mut Ctx<'_>, name: &[u8]) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut h);
        let hash = h.finish();
        match self.asked_name {
            Some(seen) if seen != hash => self.asked_many = true,
            _ => self.asked_name = Some(hash),
        }
        if !self.asked_many {
            ctx.sender_identity(IdentityField::DeviceName, &text(name));
        }
    }

    fn set_request(&mut self, ctx: &mut Ctx<'_>, msg: &Dcp<'_>) {
        self.requested = true;
        let mut kind = None;
        let mut target = String::new();
        for block in msg.blocks() {
            let Ok(block) = block else {
                return ctx.violation(ViolationKind::Malformed, "DCP block runs past the data");
            };
            let value = block.split_prefix().map_or(&[][..], |(_, v)| v);
            let before = target.len();
            if before > 0 {
                target.push_str("; ");
            }
            let this = match (block.option, block.suboption) {
                (option::CONTROL, control::START | control::END) => {
                    target.truncate(before);
                    continue;
                }
                (option::IP, ip::PARAMETER | ip::FULL_SUITE) => {
                    let _ = match parser::ip_parameter(value) {
                        Some(p) => write!(target, "set ip {}/{} gw {}", p.ip, p.mask, p.gateway),
                        None => write!(target, "set ip"),
                    };
                    OperationKind::ConfigurationChange
                }
                (option::DEVICE, device::NAME_OF_STATION) => {
                    let _ = write!(target, "set name of station {}", text(value));
                    OperationKind::ConfigurationChange
                }
                (option::CONTROL, control::SIGNAL) => {
                    target.push_str("signal (flash led)");
                    OperationKind::Diagnostics
                }
                (option::CONTROL, control::FACTORY_RESET | control::RESET_TO_FACTORY) => {
                    target.push_str("reset to factory");
                    OperationKind::DeviceReset
                }
                (o, s) => {
                    let _ = write!(target, "set {}", parser::option_name(o, s));
                    OperationKind::ConfigurationChange
                }
            };
            kind = Some(match (kind, this) {
                (Some(OperationKind::DeviceReset), _) | (_, OperationKind::DeviceReset) => OperationKind::DeviceReset,
                (Some(OperationKind::ConfigurationChange), _) => OperationKind::ConfigurationChange,
                _ => this,
            });
        }
        let kind = kind.unwrap_or(OperationKind::ConfigurationChange);
        self.wait(ctx, DcpPending { xid: msg.xid, service: msg.service, requester: ctx.dir, kind, target });
    }

    /// Get requests list bare option/suboption pairs.
    fn get_request(&mut self, ctx: &mut Ctx<'_>, msg: &Dcp<'_>) {
        self.requested = true;
        let mut target = String::from("get ");
        for (i, pair) in msg.data.chunks_exact(2).enumerate() {
            if i > 0 {
                target.push_str(", ");
            }
            if let [o, s] = pair {
                target.push_str(parser::option_name(*o, *s));
            }
        }
        self.wait(ctx, DcpPending { xid: msg.xid, service: msg.service, requester: ctx.dir, kind: OperationKind::Read, target });
    }

    fn response(&mut self, ctx: &mut Ctx<'_>, msg: &Dcp<'_>) {
        if msg.service != service::SET {
            device_facts(ctx, msg);
        }
        let found = self
            .pending
            .iter_mut()
            .find(|p| p.as_ref().is_some_and(|p| p.xid == msg.xid && p.service == msg.service))
            .and_then(Option::take);
        let Some(p) = found else {
            if self.requested && msg.service != service::IDENTIFY {
                ctx.violation(ViolationKind::UnexpectedResponse, format!("DCP response with xid 0x{:08x} matches no request", msg.xid));
            }
            return;
        };
        let result = if msg.service_type == service_type::NOT_SUPPORTED {
            OperationResult::Error(DCP_NOT_SUPPORTED)
        } else {
            let error = msg.blocks().filter_map(Result::ok).filter_map(|b| parser::set_result(&b)).map(|(_, _, e)| e).find(|e| *e != 0);
            error.map_or(OperationResult::Success, |e| OperationResult::Error(u32::from(e)))
        };
        operation_by(ctx, p.requester, p.kind, u32::from(p.service), Some(format_args!("{}", p.target)), result);
    }
}

/// Reports what a device says about itself (Identify and Get responses,
/// Hello requests). With an IP parameter, the facts name the device by its
/// MAC and IP address together.
fn device_facts(ctx: &mut Ctx<'_>, msg: &Dcp<'_>) {
    let (info, err) = parser::device_info(msg);
    if err.is_some() {
        ctx.violation(ViolationKind::Malformed, "DCP block runs past the data");
    }
    let mut subject = ctx.sender();
    if let Some(p) = info.ip.filter(|p| !p.ip.is_unspecified()) {
        subject.ip = Some(IpAddr::V4(p.ip));
    }
    if let Some(name) = info.name {
        ctx.identity(subject, IdentityField::DeviceName, &text(name));
    }
    if let Some(kind) = info.type_of_station {
        ctx.identity(subject, IdentityField::ProductName, &text(kind));
    }
    if let Some((vendor, device)) = info.ids {
        device_ids(ctx, subject, vendor, device);
    }
    if let Some(role) = info.role {
        for (bit, name) in [(0x01, "io-device"), (0x02, "io-controller"), (0x04, "io-device"), (0x08, "supervisor")] {
            if role & bit != 0 {
                ctx.identity(subject, IdentityField::Role, name);
            }
        }
    }
}

/// A PNIO-CM call waiting for its reply.
#[derive(Clone, Copy)]
struct RpcPending {
    activity: [u8; 16],
    seq: u32,
    opnum: u16,
    interface: rpc::Interface,
    requester: Direction,
    index: Option<u16>,
}

/// PROFINET IO context management flow state (DCE/RPC over UDP 34964).
#[derive(Default)]
pub struct ProfinetRpc {
    pending: [Option<RpcPending>; RPC_PENDING],
    next: usize,
    /// The device's vendor and device id (from the object UUID) were reported.
    described: bool,
}

impl Dissector for ProfinetRpc {
    const REGISTRATION: Registration = Registration {
        udp_ports: &[PORT],
        probe: Some(|payload, is_tcp| !is_tcp && rpc::looks_like_pnio(payload)),
        ..Registration::new(Protocol::Profinet)
    };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let msg = match rpc::rpc(data) {
            Ok(m) => m,
            Err(rpc::RpcError::NotRpc) => return,
            Err(rpc::RpcError::Truncated) => return ctx.violation(ViolationKind::Malformed, "truncated DCE/RPC header"),
            Err(rpc::RpcError::Length) => {
                return ctx.violation(ViolationKind::LengthMismatch, "DCE/RPC body length runs past the datagram")
            }
        };
        if msg.fragment != 0 {
            return;
        }
        match msg.ptype {
            rpc::ptype::REQUEST if msg.interface != rpc::Interface::Other => self.call(ctx, &msg),
            rpc::ptype::RESPONSE | rpc::ptype::FAULT | rpc::ptype::REJECT => self.reply(ctx, &msg),
            _ => {}
        }
    }

    fn end(&mut self, ctx: &mut Ctx<'_>) {
        for p in self.pending.iter_mut().filter_map(Option::take) {
            emit_rpc(ctx, &p, OperationResult::Unknown);
        }
    }
}

impl ProfinetRpc {
    fn call(&mut self, ctx: &mut Ctx<'_>, msg: &rpc::Rpc<'_>) {
        if msg.interface == rpc::Interface::Device && !self.described {
            if let Some((vendor, device)) = msg.object_ids {
                self.described = true;
                device_ids(ctx, ctx.receiver(), vendor, device);
            }
        }
        let stub = rpc::stub(msg);
        let blocks = stub.map_or(&[][..], |s| s.blocks);
        let index = match msg.opnum {
            rpc::opnum::READ | rpc::opnum::READ_IMPLICIT | rpc::opnum::WRITE => rpc::record(blocks).map(|r| r.index),
            _ => None,
        };
        if msg.opnum == rpc::opnum::CONNECT {
            if let Some(name) = rpc::initiator_name(blocks) {
                ctx.sender_identity(IdentityField::DeviceName, &text(name));
            }
        }
        let p = RpcPending { activity: msg.activity, seq: msg.seq, opnum: msg.opnum, interface: msg.interface, requester: ctx.dir, index };
        // A retransmitted call replaces its earlier copy.
        let slot = match self.pending.iter().position(|e| e.is_some_and(|e| e.activity == p.activity && e.seq == p.seq)) {
            Some(i) => i,
            None => {
                let i = self.next % RPC_PENDING;
                self.next = self.next.wrapping_add(1);
                i
            }
        };
        if let Some(old) = self.pending.get_mut(slot).and_then(|s| s.replace(p)) {
            if (old.activity, old.seq) != (p.activity, p.seq) {
                emit_rpc(ctx, &old, OperationResult::Unknown);
            }
        }
    }

    fn reply(&mut self, ctx: &mut Ctx<'_>, msg: &rpc::Rpc<'_>) {
        let found =
            self.pending.iter_mut().find(|e| e.is_some_and(|e| e.activity == msg.activity && e.seq == msg.seq)).and_then(Option::take);
        let Some(p) = found else { return };
        let stub = if msg.ptype == rpc::ptype::RESPONSE { rpc::stub(msg) } else { None };
        let status = match msg.ptype {
            rpc::ptype::RESPONSE => stub.and_then(|s| s.status),
            _ => parser::be32(msg.body, 0).map(|s| if msg.little_endian { s.swap_bytes() } else { s }),
        };
        let ok = msg.ptype == rpc::ptype::RESPONSE && status == Some(0);
        let result = match status {
            Some(0) if ok => OperationResult::Success,
            Some(code) => OperationResult::Error(code),
            None => OperationResult::Unknown,
        };
        emit_rpc(ctx, &p, result);
        if !ok {
            return;
        }
        match p.interface {
            rpc::Interface::Device => ctx.sender_identity(IdentityField::Role, "io-device"),
            rpc::Interface::Controller => ctx.sender_identity(IdentityField::Role, "io-controller"),
            _ => {}
        }
        if p.opnum == rpc::opnum::CONNECT && p.interface == rpc::Interface::Device {
            ctx.identity(ctx.receiver(), IdentityField::Role, "io-controller");
        }
        let record = stub.and_then(|s| rpc::record(s.blocks));
        if let Some(im) = record.filter(|r| r.index == rpc::INDEX_IM0).and_then(|r| rpc::im0(r.data)) {
            im0_facts(ctx, &im);
        }
    }
}

/// Reports an I&M0 record as facts about its sender.
fn im0_facts(ctx: &mut Ctx<'_>, im: &rpc::Im0<'_>) {
    if let Some(name) = vendors::vendor_name(im.vendor) {
        ctx.sender_identity(IdentityField::Vendor, name);
    }
    ctx.sender_identity(IdentityField::OrderNumber, &text(im.order_id));
    ctx.sender_identity(IdentityField::Serial, &text(im.serial));
    ctx.sender_identity(IdentityField::HardwareVersion, &im.hardware.to_string());
    let (prefix, a, b, c) = im.software;
    if prefix.is_ascii_alphabetic() {
        ctx.sender_identity(IdentityField::Firmware, &format!("{}{a}.{b}.{c}", char::from(prefix)));
    }
}

/// Reports a PNIO-CM call.
fn emit_rpc(ctx: &mut Ctx<'_>, p: &RpcPending, result: OperationResult) {
    let code = u32::from(p.opnum);
    let (kind, verb) = match p.opnum {
        rpc::opnum::CONNECT => (OperationKind::Session, "connect"),
        rpc::opnum::RELEASE => (OperationKind::Session, "release"),
        rpc::opnum::READ | rpc::opnum::READ_IMPLICIT => (OperationKind::Read, "record"),
        rpc::opnum::WRITE => (OperationKind::Write, "record"),
        rpc::opnum::CONTROL => (OperationKind::Other, "control"),
        _ => (OperationKind::Other, "call"),
    };
    match (p.index, p.index.and_then(rpc::index_name)) {
        (Some(i), Some(name)) => operation_by(ctx, p.requester, kind, code, Some(format_args!("record 0x{i:04X} {name}")), result),
        (Some(i), None) => operation_by(ctx, p.requester, kind, code, Some(format_args!("record 0x{i:04X}")), result),
        (None, _) => operation_by(ctx, p.requester, kind, code, Some(format_args!("{verb}")), result),
    }
}
