//! Routes each event to the engines that look at it, and small helpers the
//! engines share.

use crate::alert::Draft;
use crate::detector::{Detector, Ev};
use crate::host::HostKey;
use palisade_model::{
    AlertCategory, Contact, Endpoint, Event, IdentityFact, Operation, OperationKind, Protocol, Timestamp, Transport, Violation,
};

/// Ethertype of ARP.
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;

impl Detector {
    /// A conversation summary.
    pub(crate) fn contact(&mut self, c: &Contact, ev: Ev<'_>) {
        let ck = HostKey::of(&c.client);
        let sk = HostKey::of(&c.server);
        let learning = self.learning(c.first_seen, ck, sk);
        self.devices(c, learning, ev);
        if c.transport == Transport::Ethernet(ETHERTYPE_ARP) {
            self.arp_binding(c, learning, ev);
            return;
        }
        if !self.intel.is_empty() {
            self.ioc_contact(c, ev);
        }
        self.anomaly_contact(c, ck, sk, learning, ev);
        self.malware_contact(c, ck, sk, learning, ev);
        self.policy_contact(c, ck, sk, learning, ev);
        self.windows.bound();
    }

    /// An operation one host asked of another.
    pub(crate) fn operation(&mut self, op: &Operation, ev: Ev<'_>) {
        if op.protocol == Protocol::Arp {
            self.arp_request(op, ev);
            return;
        }
        let ck = HostKey::of(&op.client);
        let sk = HostKey::of(&op.server);
        let learning = self.learning(op.ts, ck, sk);
        self.operational(op, ck, sk, learning, ev);
        self.policy_operation(op, ck, sk, learning, ev);
        self.anomaly_operation(op, ck, sk, learning, ev);
        self.malware_operation(op, ck, sk, learning, ev);
    }

    /// A protocol violation.
    pub(crate) fn violation(&mut self, v: &Violation, ev: Ev<'_>) {
        let ck = HostKey::of(&v.client);
        let sk = HostKey::of(&v.server);
        let learning = self.learning(v.ts, ck, sk);
        self.protocol_violation(v, ck, sk, learning, ev);
    }

    /// An identity fact.
    pub(crate) fn identity(&mut self, f: &IdentityFact, ev: Ev<'_>) {
        if !self.intel.is_empty() {
            self.ioc_identity(f, ev);
        }
    }
}

/// True for events the sensor reports only for detection: DNS lookups and
/// ARP requests (operations by the thousand that say little on their own).
/// Activity logs leave them out.
pub fn detection_only(event: &Event) -> bool {
    matches!(event, Event::Operation(op) if op.protocol == Protocol::Arp
        || (op.protocol == Protocol::Dns && op.kind == OperationKind::Read))
}

/// An endpoint in words: its IP, else its MAC.
pub(crate) fn who(ep: &Endpoint) -> String {
    match (ep.ip, ep.mac) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(mac)) => mac.to_string(),
        (None, None) => "an unknown host".into(),
    }
}

/// A draft between two endpoints (source: the client).
pub(crate) fn draft(
    category: AlertCategory,
    ts: Timestamp,
    client: &Endpoint,
    server: &Endpoint,
    protocol: Option<Protocol>,
    title: String,
    description: String,
) -> Draft {
    let mut d = Draft::new(category, ts, title, description);
    d.src_ip = client.ip;
    d.src_mac = client.mac;
    d.dst_ip = server.ip;
    d.dst_mac = server.mac;
    d.protocol = protocol;
    d
}

/// The name of an optional protocol, for messages.
pub(crate) fn protocol_name(p: Option<Protocol>) -> &'static str {
    p.map_or("unidentified traffic", |p| p.as_str())
}
