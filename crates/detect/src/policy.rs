//! The policy engine: deviations from the learned baseline (new devices,
//! connections, protocols, operations, internet access, remote access) and
//! the user's policy rules.

use crate::alert::Draft;
use crate::baseline::{BaselineKey, Service};
use crate::detector::{Check, Detector, Ev};
use crate::dispatch::{draft, protocol_name, who};
use crate::host::{is_host_ip, HostKey};
use crate::operational::operational_category;
use crate::rules::{Action, PolicyRule};
use palisade_model::{
    is_local_ip, AlertCategory, Contact, DetectionEngine, Endpoint, Operation, OperationKind, Protocol, Severity, Transport,
};

/// Protocols of network plumbing: their new pairs are not news.
pub(crate) fn is_infrastructure(p: Protocol) -> bool {
    use Protocol::*;
    matches!(p, Dhcp | Dhcpv6 | Dns | Mdns | Llmnr | Nbns | Ssdp | Lldp | Cdp | Arp | Icmp | Ntp)
}

/// Remote-access protocols.
pub(crate) fn is_remote_protocol(p: Protocol) -> bool {
    matches!(p, Protocol::Ssh | Protocol::Telnet | Protocol::Rdp | Protocol::Vnc)
}

/// TCP ports of remote-access tools that Palisade has no dissector for
/// (RDP, VNC, TeamViewer, AnyDesk, pcAnywhere, Radmin).
const REMOTE_ACCESS_PORTS: &[u16] = &[22, 23, 3389, 5800, 5900, 5901, 5938, 6568, 7070, 5631, 4899];

/// Server ports from here up are ephemeral: a service there is not a fact worth keeping.
const EPHEMERAL_PORTS: u16 = 49152;

/// The service a contact used, if it is one worth keeping.
pub(crate) fn service_of(c: &Contact) -> Option<Service> {
    if let Some(p) = c.protocol {
        return Some(Service::Protocol(p));
    }
    match c.transport {
        Transport::Tcp | Transport::Udp if c.server.port == 0 || c.server.port >= EPHEMERAL_PORTS => None,
        t @ (Transport::Tcp | Transport::Udp) => Some(Service::Port(t, c.server.port)),
        Transport::Icmp => Some(Service::Protocol(Protocol::Icmp)),
        t => Some(Service::Port(t, 0)),
    }
}

/// True if both sides exchanged traffic (a TCP handshake and more, a UDP
/// answer, or a protocol a dissector recognised).
pub(crate) fn established(c: &Contact) -> bool {
    match c.transport {
        Transport::Tcp => c.packets_to_client > 0 && (c.protocol.is_some() || c.packets_to_server + c.packets_to_client >= 5),
        Transport::Udp => c.protocol.is_some() || c.packets_to_client > 0,
        _ => true,
    }
}

/// True for a remote-access session.
fn is_remote_access(c: &Contact) -> bool {
    match c.protocol {
        Some(p) => is_remote_protocol(p),
        None => c.transport == Transport::Tcp && REMOTE_ACCESS_PORTS.contains(&c.server.port),
    }
}

impl Detector {
    /// Devices: a new MAC, or a new address behind a router, after learning.
    pub(crate) fn devices(&mut self, c: &Contact, learning: bool, ev: Ev<'_>) {
        let has_baseline = self.clock.has_baseline();
        for ep in [&c.client, &c.server] {
            let key = HostKey::of(ep);
            if key.is_some_and(|k| k.is_public()) {
                continue;
            }
            let host_new = match key {
                Some(k) => !self.baseline.observe(BaselineKey::Host(k), c.first_seen, learning).0.learned,
                None => false,
            };
            let Some(mac) = ep.mac.filter(|m| m.is_unicast() && !m.is_virtual_router()) else { continue };
            let mac_new = !self.baseline.observe(BaselineKey::Device(mac), c.first_seen, learning).0.learned;
            let mut behind_router = None;
            if let Some(ip) = ep.ip.filter(|ip| ip.is_ipv4() && is_local_ip(*ip) && is_host_ip(*ip)) {
                self.baseline.observe(BaselineKey::Address(ip, mac), c.first_seen, learning);
                let router = self.baseline.addresses_behind(mac) >= 3;
                if router {
                    behind_router = host_new.then_some(ip);
                } else {
                    self.mac_ip.entry(mac).or_insert(ip);
                    self.own_mac.insert(ip);
                }
            }
            if learning || !has_baseline {
                continue;
            }
            if mac_new {
                let vendor = palisade_oui::vendor(mac).map(|v| format!(" ({v})")).unwrap_or_default();
                let mut d = Draft::new(
                    AlertCategory::NewDevice,
                    c.first_seen,
                    format!("New device {mac}{vendor}"),
                    format!(
                        "MAC address {mac}{vendor} appeared on the network ({} with {}); it was not seen during learning.",
                        protocol_name(c.protocol),
                        if std::ptr::eq(ep, &c.client) { who(&c.server) } else { who(&c.client) }
                    ),
                );
                d.src_mac = Some(mac);
                d.baseline_items = vec![BaselineKey::Device(mac).text()];
                self.propose(d, ev, learning, vec![Check::NotLearned(BaselineKey::Device(mac))]);
            } else if let Some(ip) = behind_router {
                let mut d = Draft::new(
                    AlertCategory::NewDevice,
                    c.first_seen,
                    format!("New device {ip}"),
                    format!("Address {ip} appeared behind router MAC {mac}; it was not seen during learning."),
                );
                d.src_ip = Some(ip);
                let host = BaselineKey::Host(HostKey::Ip(ip));
                d.baseline_items = vec![host.text()];
                self.propose(d, ev, learning, vec![Check::NotLearned(host), Check::NoOwnMac(ip)]);
            }
        }
    }

    /// Connections between local hosts, internet access, remote access and the rules about them.
    pub(crate) fn policy_contact(&mut self, c: &Contact, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        let (Some(ck), Some(sk)) = (ck, sk) else { return };
        if ck.is_public() || sk.is_public() {
            self.internet(c, ck, sk, learning, ev);
            return;
        }
        if c.protocol.is_some_and(is_infrastructure) || !established(c) {
            return;
        }
        let Some(svc) = service_of(c) else { return };
        let ts = c.first_seen;
        let remote = is_remote_access(c);
        let pair = BaselineKey::Connection(ck, sk);
        let service = BaselineKey::Service(ck, sk, svc);
        let server_role = BaselineKey::Role(sk, svc, true);
        let pair_learned = self.baseline.observe(pair.clone(), ts, learning).0.learned;
        self.baseline.observe(service.clone(), ts, learning);
        let server_role_learned = self.baseline.observe(server_role.clone(), ts, learning).0.learned;
        let client_role = c.protocol.map(|p| BaselineKey::Role(ck, Service::Protocol(p), false));
        let client_role_learned = client_role.clone().is_none_or(|k| self.baseline.observe(k, ts, learning).0.learned);
        let remote_key = remote.then_some(BaselineKey::RemoteAccess(ck, sk, svc));
        let remote_learned = remote_key.clone().is_none_or(|k| self.baseline.observe(k, ts, learning).0.learned);
        if !self.rules.policies.is_empty() {
            self.rules_contact(c, learning, ev);
        }
        if learning || !self.clock.has_baseline() {
            return;
        }
        let known_hosts = || vec![Check::Learned(BaselineKey::Host(ck)), Check::Learned(BaselineKey::Host(sk))];
        let (src, dst) = (who(&c.client), who(&c.server));
        let proto = svc.to_string();
        if let Some(key) = remote_key.filter(|_| !remote_learned) {
            let mut d = draft(
                AlertCategory::RemoteAccess,
                ts,
                &c.client,
                &c.server,
                c.protocol,
                format!("New remote-access session from {src} to {dst} ({proto})"),
                format!("{src} opened a {proto} remote-access session to {dst}; the baseline has no remote access between these hosts."),
            );
            d.detail = proto;
            d.baseline_items = vec![key.text(), pair.text()];
            let mut checks = known_hosts();
            checks.push(Check::NotLearned(key));
            self.propose(d, ev, learning, checks);
            return;
        }
        if !pair_learned {
            let mut d = draft(
                AlertCategory::NewConnection,
                ts,
                &c.client,
                &c.server,
                c.protocol,
                format!("New connection from {src} to {dst} ({proto})"),
                format!("{src} connected to {dst} over {proto}; these devices never talked to each other during learning."),
            );
            d.baseline_items = vec![pair.text(), service.text()];
            let mut checks = known_hosts();
            checks.push(Check::NotLearned(pair));
            checks.push(Check::NotShared(sk, svc));
            self.propose(d, ev, learning, checks);
            return;
        }
        let role = if !server_role_learned {
            Some((server_role, format!("{dst} serves {proto} for the first time (to {src}); it did not during learning."), dst))
        } else if !client_role_learned && c.protocol.is_some_and(|p| p.is_industrial()) {
            client_role.map(|k| (k, format!("{src} uses {proto} for the first time (with {dst}); it did not during learning."), src))
        } else {
            None
        };
        if let Some((key, description, host)) = role {
            let mut d = draft(
                AlertCategory::NewProtocol,
                ts,
                &c.client,
                &c.server,
                c.protocol,
                format!("New protocol {proto} on {host}"),
                description,
            );
            d.detail = proto;
            d.baseline_items = vec![key.text(), service.text()];
            let mut checks = known_hosts();
            checks.push(Check::NotLearned(key));
            checks.push(Check::Learned(pair));
            self.propose(d, ev, learning, checks);
        }
    }

    /// Traffic between a local host and an internet address.
    fn internet(&mut self, c: &Contact, ck: HostKey, sk: HostKey, learning: bool, ev: Ev<'_>) {
        let (local_ep, local, remote_ep) = match (ck.is_public(), sk.is_public()) {
            (false, true) => (&c.client, ck, &c.server),
            (true, false) => (&c.server, sk, &c.client),
            _ => return,
        };
        let ts = c.first_seen;
        let key = BaselineKey::Internet(local);
        let learned = self.baseline.observe(key.clone(), ts, learning).0.learned;
        if !self.rules.policies.is_empty() {
            let rules: Vec<PolicyRule> = self.rules.policies.iter().filter(|r| r.action == Action::Internet).cloned().collect();
            for rule in rules {
                if rule.forbids((local_ep.ip, local_ep.mac), (remote_ep.ip, remote_ep.mac), &self.rules.levels) {
                    let d = self.rule_draft(&rule, AlertCategory::UnauthorizedInternet, ts, local_ep, remote_ep, c.protocol);
                    self.propose(d, ev, learning, Vec::new());
                }
            }
        }
        if ck.is_public() && is_remote_access(c) && established(c) {
            let svc = service_of(c).unwrap_or(Service::Port(c.transport, c.server.port));
            let remote_key = BaselineKey::RemoteAccess(ck, sk, svc);
            let remote_learned = self.baseline.observe(remote_key.clone(), ts, learning).0.learned;
            if !learning && self.clock.has_baseline() && !remote_learned {
                let (src, dst) = (who(&c.client), who(&c.server));
                let mut d = draft(
                    AlertCategory::RemoteAccess,
                    ts,
                    &c.client,
                    &c.server,
                    c.protocol,
                    format!("Remote-access session from the internet ({src}) to {dst} ({svc})"),
                    format!("Internet address {src} opened a {svc} remote-access session to {dst}."),
                );
                d.detail = svc.to_string();
                d.baseline_items = vec![remote_key.text()];
                self.propose(d, ev, learning, vec![Check::NotLearned(remote_key)]);
            }
        }
        if learning || !self.clock.has_baseline() || learned {
            return;
        }
        let (Some(local_ip), Some(remote_ip)) = (local.ip(), remote_ep.ip) else { return };
        let mut d = Draft::new(
            AlertCategory::UnauthorizedInternet,
            ts,
            format!("{local_ip} reached the internet"),
            format!(
                "{local_ip} exchanged {} with internet address {remote_ip}; it did not reach the internet during learning, nor did its neighbours.",
                protocol_name(c.protocol)
            ),
        );
        d.src_ip = Some(local_ip);
        d.src_mac = local_ep.mac;
        d.dst_ip = Some(remote_ip);
        d.protocol = c.protocol;
        d.group_by_destination = false;
        d.baseline_items = vec![key.text()];
        self.propose(d, ev, learning, vec![Check::NotLearned(key), Check::FewInternetNeighbours(local_ip)]);
    }

    /// The connection and protocol rules.
    fn rules_contact(&mut self, c: &Contact, learning: bool, ev: Ev<'_>) {
        let matching: Vec<(PolicyRule, AlertCategory)> = self
            .rules
            .policies
            .iter()
            .filter_map(|r| match r.action {
                Action::Connect => Some((r.clone(), AlertCategory::NewConnection)),
                Action::Protocol(p) if c.protocol == Some(p) || c.also.contains(p) => {
                    Some((r.clone(), if is_remote_protocol(p) { AlertCategory::RemoteAccess } else { AlertCategory::NewProtocol }))
                }
                _ => None,
            })
            .filter(|(r, _)| r.forbids((c.client.ip, c.client.mac), (c.server.ip, c.server.mac), &self.rules.levels))
            .collect();
        for (rule, category) in matching {
            let d = self.rule_draft(&rule, category, c.first_seen, &c.client, &c.server, c.protocol);
            self.propose(d, ev, learning, Vec::new());
        }
    }

    /// An alert for a broken policy rule.
    fn rule_draft(
        &self,
        rule: &PolicyRule,
        category: AlertCategory,
        ts: palisade_model::Timestamp,
        src: &Endpoint,
        dst: &Endpoint,
        protocol: Option<Protocol>,
    ) -> Draft {
        let (s, t) = (who(src), who(dst));
        let mut d = draft(
            category,
            ts,
            src,
            dst,
            protocol,
            format!("Policy rule broken: {}", rule.text),
            format!("{s} → {t} ({}) breaks policy rule {} (line {}): \"{}\".", protocol_name(protocol), rule.line, rule.line, rule.text),
        );
        d.engine = DetectionEngine::Policy;
        d.severity = d.severity.max(Severity::High);
        d.detail = format!("rule {}", rule.line);
        d
    }

    /// New operations and function codes between industrial devices, and the operation rules.
    pub(crate) fn policy_operation(&mut self, op: &Operation, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        if !self.rules.policies.is_empty() {
            let matching: Vec<PolicyRule> = self
                .rules
                .policies
                .iter()
                .filter(|r| r.action.covers_operation(op.kind))
                .filter(|r| r.forbids((op.client.ip, op.client.mac), (op.server.ip, op.server.mac), &self.rules.levels))
                .cloned()
                .collect();
            for rule in matching {
                let category = operational_category(op).unwrap_or(AlertCategory::UnauthorizedWrite);
                let d = self.rule_draft(&rule, category, op.ts, &op.client, &op.server, Some(op.protocol));
                self.propose(d, ev, learning, Vec::new());
            }
        }
        if !op.protocol.is_industrial() {
            return;
        }
        let (Some(ck), Some(sk)) = (ck, sk) else { return };
        let key = BaselineKey::Operation(ck, sk, op.protocol, op.kind, op.code);
        let learned = self.baseline.observe(key.clone(), op.ts, learning).0.learned;
        if let Some(target) = &op.target {
            self.baseline.observe(BaselineKey::Object(ck, sk, op.protocol, op.kind, target.clone()), op.ts, learning);
        }
        if learning || learned || !self.clock.has_baseline() || operational_category(op).is_some() {
            return;
        }
        let (src, dst, proto) = (who(&op.client), who(&op.server), op.protocol);
        let target = op.target.as_deref().map(|t| format!(" on {t}")).unwrap_or_default();
        let (category, title, description, mut checks) = if op.kind == OperationKind::Write {
            (
                AlertCategory::UnauthorizedWrite,
                format!("Unauthorized {proto} write from {src} to {dst}"),
                format!(
                    "{src} wrote to {dst} over {proto} (function code {}){target}; the baseline has no such write between these devices.",
                    op.code
                ),
                Vec::new(),
            )
        } else {
            (
                AlertCategory::NewProtocol,
                format!("New {proto} function code {} ({}) from {src} to {dst}", op.code, op.kind),
                format!("{src} asked {dst} for a {} operation over {proto} with function code {}{target}; these devices never used it during learning.", op.kind, op.code),
                vec![Check::Learned(BaselineKey::Connection(ck, sk))],
            )
        };
        let mut d = draft(category, op.ts, &op.client, &op.server, Some(proto), title, description);
        d.detail = op.kind.as_str().into();
        d.count = u64::from(op.count.max(1));
        d.baseline_items = vec![key.text()];
        checks.push(Check::NotLearned(key));
        self.propose(d, ev, learning, checks);
    }
}
