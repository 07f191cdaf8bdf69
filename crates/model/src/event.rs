//! Events: the only thing that crosses from the sensor workers to the
//! analysis side (inventory and detection).

use crate::{IdentityField, MacAddr, OperationKind, Protocol, ProtocolSet, Timestamp, ViolationKind};
use std::net::IpAddr;

/// One side of a conversation as seen on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Link-layer address paired with this side in the frame, if the link has one.
    pub mac: Option<MacAddr>,
    /// Network address, for IP traffic and ARP.
    pub ip: Option<IpAddr>,
    /// Transport port (0 where there is none).
    pub port: u16,
}

/// The transport a conversation used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Another IP protocol number.
    Ip(u8),
    /// A layer-2 protocol, by ethertype.
    Ethernet(u16),
}

/// Who talked to whom, how much and when. Workers send one when a flow is
/// created, periodically while it lives, and when it ends; counts are the
/// totals since the previous report of the same flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact {
    /// First packet time covered by this report.
    pub first_seen: Timestamp,
    /// Last packet time covered by this report.
    pub last_seen: Timestamp,
    /// The side that started the conversation (or sent the first packet seen).
    pub client: Endpoint,
    /// The other side. Its `ip` is `None` where the frame had no target address
    /// that counts as a host (for example an ARP request).
    pub server: Endpoint,
    /// The MAC that frames *to* the client were sent to, when it differs from
    /// the one the client sends from (a router's virtual MAC, for instance).
    pub client_mac_inbound: Option<MacAddr>,
    /// The same for the server.
    pub server_mac_inbound: Option<MacAddr>,
    /// Transport.
    pub transport: Transport,
    /// Application protocol, once identified.
    pub protocol: Option<Protocol>,
    /// Protocols carried inside it (CIP inside EtherNet/IP, for instance).
    pub also: ProtocolSet,
    /// Packets from client to server.
    pub packets_to_server: u64,
    /// Packets from server to client.
    pub packets_to_client: u64,
    /// Bytes (whole frames) from client to server.
    pub bytes_to_server: u64,
    /// Bytes (whole frames) from server to client.
    pub bytes_to_client: u64,
    /// Destination was the Ethernet broadcast address (used to spot directed broadcasts).
    pub link_broadcast: bool,
}

/// A fact about a device's identity, reported by the device itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityFact {
    /// When it was seen.
    pub ts: Timestamp,
    /// The device the fact is about (usually the sender).
    pub subject: Endpoint,
    /// Which protocol told us.
    pub protocol: Protocol,
    /// What kind of fact.
    pub field: IdentityField,
    /// The value, as text.
    pub value: String,
}

/// The outcome of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationResult {
    /// No response seen (yet).
    Unknown,
    /// Success.
    Success,
    /// Refused, with the protocol's exception or error code.
    Error(u32),
}

/// An operation one device asked of another (read, write, stop...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// When the request was seen.
    pub ts: Timestamp,
    /// Who asked.
    pub client: Endpoint,
    /// Who was asked.
    pub server: Endpoint,
    /// Protocol.
    pub protocol: Protocol,
    /// What it does.
    pub kind: OperationKind,
    /// The protocol's own function or service code.
    pub code: u32,
    /// The object or address range touched, in the protocol's terms (e.g. `holding:100-109`).
    pub target: Option<String>,
    /// The result.
    pub result: OperationResult,
    /// How many identical operations (same pair, kind, code, target and
    /// result) this event stands for: repeats within a minute are folded.
    pub count: u32,
}

/// Something a dissector found wrong with the traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// When it was seen.
    pub ts: Timestamp,
    /// Sender of the offending packet.
    pub client: Endpoint,
    /// Receiver of the offending packet.
    pub server: Endpoint,
    /// Protocol.
    pub protocol: Protocol,
    /// Kind.
    pub kind: ViolationKind,
    /// What was wrong, in plain words.
    pub detail: String,
}

/// An event from a sensor worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Identity fact.
    Identity(IdentityFact),
    /// Operation.
    Operation(Operation),
    /// Protocol violation.
    Violation(Violation),
    /// Conversation summary.
    Contact(Contact),
}
