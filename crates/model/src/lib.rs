//! Shared vocabularies and event types of Palisade.
//!
//! Everything that crosses a crate boundary lives here once: protocol names,
//! operation kinds, identity fields, addresses, capture timestamps and the
//! [`Event`] enum that the sensor workers send to the analysis side.

mod addr;
mod event;
mod evidence;
mod tcp_signature;
mod time;
mod vocab;

pub use addr::{is_local_ip, MacAddr};
pub use event::{Contact, Endpoint, Event, IdentityFact, Operation, OperationResult, Transport, Violation};
pub use evidence::{EvidenceMark, PacketRef, EVIDENCE_PACKETS};
pub use tcp_signature::{initial_ttl, OptionLayout, SynKind, TcpSignature, MAX_TCP_OPTIONS};
pub use time::Timestamp;
pub use vocab::{
    AlertCategory, AlertStatus, DetectionEngine, DeviceType, IdentityField, OperationKind, Protocol, ProtocolSet, Severity, ViolationKind,
};
