//! The anomaly engine: port and address scans, ARP spoofing, traffic spikes
//! against the learned rate, floods of packets, half-open connections or
//! requests, and repeated failed logins.

use crate::alert::Draft;
use crate::baseline::{BaselineKey, Item, ScanKind};
use crate::detector::{Check, Detector, Ev};
use crate::dispatch::{draft, who};
use crate::evidence::Evidence;
use crate::host::{is_host_ip, HostKey};
use crate::policy::is_infrastructure;
use crate::windows::{ScanFinding, SCAN_WINDOW_NS};
use palisade_model::{AlertCategory, Contact, Endpoint, Operation, OperationKind, OperationResult, Protocol, Timestamp, Transport};
use std::net::IpAddr;

/// Two MACs claiming one address within this time conflict (ns).
const ARP_CONFLICT_NS: i64 = 1_800_000_000_000;
/// Half-open connections to one port within this time...
const HALF_OPEN_WINDOW_NS: i64 = 10_000_000_000;
/// ...that make a flood.
const HALF_OPEN_FLOOD: u64 = 500;
/// Failed logins between two hosts within this time...
const FAILED_LOGIN_WINDOW_NS: i64 = 300_000_000_000;
/// ...that make a brute-force attempt.
const FAILED_LOGINS: u64 = 10;
/// A minute's traffic this many times the learned peak is a spike...
const SPIKE_FACTOR: u64 = 10;
/// ...and at least this much above it (bytes, packets).
const SPIKE_MIN_BYTES: u64 = 200_000;
/// Packets per minute above the learned peak that make a flood.
const SPIKE_MIN_PACKETS: u64 = 2_000;
/// Floods are of small packets; spikes of big ones (bytes per packet).
const FLOOD_PACKET_SIZE: u64 = 200;

/// True for a contact that looks like a probe: no protocol, almost no answer.
fn probe_like(c: &Contact) -> bool {
    match c.transport {
        Transport::Tcp => c.protocol.is_none() && c.packets_to_server <= 3 && c.packets_to_client <= 2,
        Transport::Udp => c.protocol.is_none() && c.packets_to_client == 0 && c.packets_to_server <= 2,
        Transport::Icmp => c.packets_to_server <= 3,
        _ => false,
    }
}

/// Packets one side sends...
const ONE_SIDED_FLOOD_PACKETS: u64 = 5_000;
/// ...at this rate (per second) or more...
const ONE_SIDED_FLOOD_RATE: u64 = 1_000;
/// ...of this size (bytes) or less, with almost no answer, are a flood.
const ONE_SIDED_FLOOD_SIZE: u64 = 128;

/// True for a conversation that is a flood whatever the baseline: many small
/// packets a second one way, almost no answer.
fn one_sided_flood(c: &Contact) -> bool {
    let sent = c.packets_to_server;
    let span_secs = (c.last_seen.0.saturating_sub(c.first_seen.0) / 1_000_000_000).max(1) as u64;
    sent >= ONE_SIDED_FLOOD_PACKETS
        && sent / span_secs >= ONE_SIDED_FLOOD_RATE
        && c.bytes_to_server / sent <= ONE_SIDED_FLOOD_SIZE
        && c.packets_to_client.saturating_mul(10) < sent
}

/// Which spike a minute's traffic is against a learned rate, if any.
pub(crate) fn exceeds(item: &Item, bytes: u64, packets: u64) -> Option<AlertCategory> {
    let size = bytes.checked_div(packets).unwrap_or(0);
    let over = |value: u64, peak: u64, min: u64| peak > 0 && value > peak.saturating_mul(SPIKE_FACTOR).max(peak.saturating_add(min));
    if size <= FLOOD_PACKET_SIZE && over(packets, item.peak_packets, SPIKE_MIN_PACKETS) {
        Some(AlertCategory::DosFlood)
    } else if size > FLOOD_PACKET_SIZE && over(bytes, item.peak_bytes, SPIKE_MIN_BYTES) {
        Some(AlertCategory::ExcessiveTraffic)
    } else {
        None
    }
}

impl Detector {
    /// Scans, half-open floods and rate spikes seen in conversation summaries.
    pub(crate) fn anomaly_contact(&mut self, c: &Contact, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        if probe_like(c) {
            if let (Some(src), Some(target)) = (ck, c.server.ip.filter(|ip| is_host_ip(*ip))) {
                let port = if c.transport == Transport::Icmp { 0 } else { c.server.port };
                self.probe(src, &c.client, target, port, c.first_seen, learning, ev, None);
            }
            if c.transport == Transport::Tcp {
                if let Some(server) = sk {
                    let flood = self.windows.half_open.entry((server, c.server.port)).or_default().add(
                        c.first_seen,
                        1,
                        HALF_OPEN_WINDOW_NS,
                        HALF_OPEN_FLOOD,
                    );
                    if flood {
                        let dst = who(&c.server);
                        let port = c.server.port;
                        let mut d = Draft::new(
                            AlertCategory::DosFlood,
                            c.first_seen,
                            format!("SYN flood against {dst} port {port}"),
                            format!(
                                "{HALF_OPEN_FLOOD} connection attempts to {dst} port {port} went unanswered or were reset within {} s (the last from {}).",
                                HALF_OPEN_WINDOW_NS / 1_000_000_000,
                                who(&c.client)
                            ),
                        );
                        d.dst_ip = c.server.ip;
                        d.dst_mac = c.server.mac;
                        d.detail = format!("tcp/{port}");
                        self.propose(d, ev, learning, Vec::new());
                    }
                }
            }
        }
        if one_sided_flood(c) {
            let (src, dst) = (who(&c.client), who(&c.server));
            let span = c.last_seen.0.saturating_sub(c.first_seen.0).max(1_000_000_000) / 1_000_000_000;
            let mut d = draft(
                AlertCategory::DosFlood,
                c.first_seen,
                &c.client,
                &c.server,
                c.protocol,
                format!("Flood of packets from {src} to {dst}"),
                format!(
                    "{src} sent {dst} {} small packets in {span} s with almost no answer: a denial-of-service flood.",
                    c.packets_to_server
                ),
            );
            d.last_seen = c.last_seen;
            d.detail = "packet-flood".into();
            self.propose(d, ev, learning, Vec::new());
        }
        let local = !ck.is_some_and(|k| k.is_public()) && !sk.is_some_and(|k| k.is_public());
        if let (Some(p), Some(ck), Some(sk), true) = (c.protocol.filter(|p| !is_infrastructure(*p)), ck, sk, local) {
            self.rate(c, p, ck, sk, learning, ev);
        }
    }

    /// One probe of a possible scan.
    #[allow(clippy::too_many_arguments)]
    fn probe(
        &mut self,
        src: HostKey,
        scanner: &Endpoint,
        target: IpAddr,
        port: u16,
        ts: Timestamp,
        learning: bool,
        ev: Ev<'_>,
        protocol: Option<Protocol>,
    ) {
        let window = self.windows.scans.entry(src).or_default();
        let finding = window.add(ts, target, port);
        if let Some(mark) = ev.mark {
            if !window.evidence.is_full() {
                window.evidence.add_mark(mark, ev.bytes);
            }
        }
        if !(finding.ports || finding.addresses) {
            return;
        }
        let evidence = window.evidence.clone();
        for kind in [ScanKind::Ports, ScanKind::Addresses] {
            let crossed = if kind == ScanKind::Ports { finding.ports } else { finding.addresses };
            if crossed {
                self.scan(kind, src, scanner, finding, ts, learning, &evidence, protocol);
            }
        }
    }

    /// A scan crossed a threshold.
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &mut self,
        kind: ScanKind,
        src: HostKey,
        scanner: &Endpoint,
        f: ScanFinding,
        ts: Timestamp,
        learning: bool,
        evidence: &Evidence,
        protocol: Option<Protocol>,
    ) {
        let key = BaselineKey::Scanner(src, kind);
        self.baseline.observe(key.clone(), ts, learning);
        let who = who(scanner);
        let secs = SCAN_WINDOW_NS / 1_000_000_000;
        let (category, title, description) = match kind {
            ScanKind::Ports => (
                AlertCategory::PortScan,
                format!("Port scan from {who}"),
                format!("{who} probed {} ports on {} hosts within {secs} s, mostly without a real connection.", f.probes, f.hosts),
            ),
            ScanKind::Addresses => (
                AlertCategory::AddressScan,
                match protocol {
                    Some(Protocol::Arp) => format!("ARP sweep from {who}"),
                    _ => format!("Address scan from {who}"),
                },
                format!(
                    "{who} probed {} addresses within {secs} s{}.",
                    f.hosts,
                    if protocol == Some(Protocol::Arp) { " with ARP requests" } else { "" }
                ),
            ),
        };
        let mut d = Draft::new(category, ts, title, description);
        d.src_ip = scanner.ip.filter(|ip| is_host_ip(*ip));
        d.src_mac = scanner.mac;
        d.baseline_items = vec![key.text()];
        let checks = if self.clock.has_baseline() { vec![Check::NotLearned(key)] } else { Vec::new() };
        let evidence = evidence.clone();
        self.propose_with(d, || evidence, learning, checks);
    }

    /// An ARP request: a probe of an address sweep.
    pub(crate) fn arp_request(&mut self, op: &Operation, ev: Ev<'_>) {
        let Some(src) = HostKey::of(&op.client).or(op.client.mac.filter(|m| m.is_unicast()).map(HostKey::Mac)) else { return };
        let Some(target) = op.server.ip.filter(|ip| is_host_ip(*ip)) else { return };
        let learning = self.learning(op.ts, Some(src), None);
        self.probe(src, &op.client, target, 0, op.ts, learning, ev, Some(Protocol::Arp));
    }

    /// An ARP binding: two MACs claiming one address is spoofing (or a conflict).
    pub(crate) fn arp_binding(&mut self, c: &Contact, learning: bool, ev: Ev<'_>) {
        let (Some(ip), Some(mac)) = (c.client.ip, c.client.mac) else { return };
        if !is_host_ip(ip) || !mac.is_unicast() || mac.is_virtual_router() {
            return;
        }
        let ts = c.first_seen;
        let key = BaselineKey::Arp(ip, mac);
        let new_learned = self.baseline.observe(key, ts, learning).0.learned;
        let previous = self.windows.arp.insert(ip, (mac, ts));
        let Some((old_mac, old_ts)) = previous else { return };
        if learning || old_mac == mac || ts.0.abs_diff(old_ts.0) > ARP_CONFLICT_NS as u64 {
            return;
        }
        let old_learned = self.baseline.is_learned(&BaselineKey::Arp(ip, old_mac));
        if old_learned && new_learned {
            return;
        }
        let (suspect, other) = if new_learned { (old_mac, mac) } else { (mac, old_mac) };
        let mut d = Draft::new(
            AlertCategory::ArpSpoofing,
            ts,
            format!("ARP spoofing: {suspect} claims {ip}"),
            format!(
                "{suspect} announced itself in ARP as {ip}, which {other} also claims{}; traffic for {ip} can be diverted to {suspect}.",
                if old_learned || new_learned { " (the learned owner)" } else { "" }
            ),
        );
        d.src_ip = Some(ip);
        d.src_mac = Some(suspect);
        d.dst_mac = Some(other);
        d.protocol = Some(Protocol::Arp);
        d.group_by_destination = false;
        d.baseline_items = vec![BaselineKey::Arp(ip, suspect).text()];
        self.propose(d, ev, learning, Vec::new());
    }

    /// Traffic of an industrial pair against its learned per-minute peaks.
    fn rate(&mut self, c: &Contact, p: Protocol, ck: HostKey, sk: HostKey, learning: bool, ev: Ev<'_>) {
        let bytes = c.bytes_to_server.saturating_add(c.bytes_to_client);
        let packets = c.packets_to_server.saturating_add(c.packets_to_client);
        let span = c.last_seen.0.saturating_sub(c.first_seen.0);
        let (bytes, packets) = if span > 60_000_000_000 {
            let per_minute = |v: u64| (u128::from(v) * 60_000_000_000 / span as u128) as u64;
            (per_minute(bytes), per_minute(packets))
        } else {
            let minute = c.last_seen.secs().div_euclid(60);
            let r = self.windows.rates.entry((ck, sk, p)).or_default();
            if r.minute != minute {
                *r = crate::windows::Rate { minute, bytes: 0, packets: 0 };
            }
            r.bytes = r.bytes.saturating_add(bytes);
            r.packets = r.packets.saturating_add(packets);
            (r.bytes, r.packets)
        };
        let key = BaselineKey::Rate(ck, sk, p);
        if learning {
            let (item, _) = self.baseline.observe(key, c.first_seen, true);
            if bytes > item.peak_bytes || packets > item.peak_packets {
                item.peak_bytes = item.peak_bytes.max(bytes);
                item.peak_packets = item.peak_packets.max(packets);
                item.touch();
            }
            return;
        }
        // Before the learning traffic has settled, the learned peak may still
        // grow: a large minute waits and is judged against the final peak.
        let judged_later = !self.is_settled() && (bytes > SPIKE_MIN_BYTES || packets > SPIKE_MIN_PACKETS);
        let item = self.baseline.get(&key).filter(|i| i.learned).copied();
        let category = match item.and_then(|i| exceeds(&i, bytes, packets)) {
            Some(category) => category,
            None if judged_later => {
                let size = bytes.checked_div(packets).unwrap_or(0);
                if size <= FLOOD_PACKET_SIZE {
                    AlertCategory::DosFlood
                } else {
                    AlertCategory::ExcessiveTraffic
                }
            }
            None => return,
        };
        let (peak_bytes, peak_packets) = item.map_or((0, 0), |i| (i.peak_bytes, i.peak_packets));
        let (src, dst) = (who(&c.client), who(&c.server));
        let peak = |value: u64| if item.is_some() { format!("the learned peak is {value}") } else { "far above the learned peak".into() };
        let (title, description) = if category == AlertCategory::DosFlood {
            (
                format!("Flood of {p} requests from {src} to {dst}"),
                format!("{src} and {dst} exchanged {packets} {p} packets in a minute; {}.", peak(peak_packets)),
            )
        } else {
            (
                format!("{p} traffic spike between {src} and {dst}"),
                format!("{src} and {dst} exchanged {bytes} bytes of {p} in a minute; {}.", peak(peak_bytes)),
            )
        };
        let mut d = draft(category, c.first_seen, &c.client, &c.server, Some(p), title, description);
        d.last_seen = c.last_seen;
        d.baseline_items = vec![key.text()];
        self.propose(d, ev, learning, vec![Check::Exceeds(key, bytes, packets)]);
    }

    /// Repeated failed logins.
    pub(crate) fn anomaly_operation(&mut self, op: &Operation, ck: Option<HostKey>, sk: Option<HostKey>, learning: bool, ev: Ev<'_>) {
        if op.kind != OperationKind::Login || !matches!(op.result, OperationResult::Error(_)) {
            return;
        }
        let (Some(ck), Some(sk)) = (ck, sk) else { return };
        let counter = self.windows.failed_logins.entry((ck, sk)).or_default();
        if !counter.add(op.ts, u64::from(op.count.max(1)), FAILED_LOGIN_WINDOW_NS, FAILED_LOGINS) {
            return;
        }
        let (src, dst, p) = (who(&op.client), who(&op.server), op.protocol);
        let mut d = draft(
            AlertCategory::DosFlood,
            op.ts,
            &op.client,
            &op.server,
            Some(p),
            format!("Repeated failed {p} logins from {src} to {dst}"),
            format!(
                "{src} failed to log in to {dst} over {p} {FAILED_LOGINS} times within {} minutes: password guessing or a misconfigured client.",
                FAILED_LOGIN_WINDOW_NS / 60_000_000_000
            ),
        );
        d.detail = "failed-logins".into();
        self.propose(d, ev, learning, Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::Endpoint;

    fn contact(packets_to_server: u64, bytes_to_server: u64, packets_to_client: u64, secs: i64) -> Contact {
        Contact {
            first_seen: Timestamp(0),
            last_seen: Timestamp(secs * 1_000_000_000),
            client: Endpoint::default(),
            server: Endpoint::default(),
            client_mac_inbound: None,
            server_mac_inbound: None,
            transport: Transport::Udp,
            protocol: None,
            also: Default::default(),
            packets_to_server,
            packets_to_client,
            bytes_to_server,
            bytes_to_client: 0,
            link_broadcast: false,
        }
    }

    #[test]
    fn floods_are_many_small_unanswered_packets() {
        assert!(one_sided_flood(&contact(20_000, 20_000 * 64, 0, 5)));
        assert!(!one_sided_flood(&contact(20_000, 20_000 * 1400, 0, 5)), "a bulk transfer");
        assert!(!one_sided_flood(&contact(20_000, 20_000 * 64, 19_000, 5)), "answered");
        assert!(!one_sided_flood(&contact(20_000, 20_000 * 64, 0, 600)), "slow");
    }

    #[test]
    fn spikes_against_the_learned_peak() {
        let mut item = Item::new(Timestamp(0), true);
        item.peak_bytes = 30_000;
        item.peak_packets = 300;
        assert_eq!(exceeds(&item, 400_000, 700), Some(AlertCategory::ExcessiveTraffic));
        assert_eq!(exceeds(&item, 250_000, 400), None, "not 10 times the peak");
        assert_eq!(exceeds(&item, 500_000, 6_000), Some(AlertCategory::DosFlood));
        assert_eq!(exceeds(&item, 60_000, 600), None);
    }
}
