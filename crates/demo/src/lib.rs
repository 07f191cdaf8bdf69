//! A deterministic, self-contained generator of a realistic sample capture of a small
//! industrial plant next to its office network.
//!
//! `palisade demo` analyses the capture it writes and the project's tests use it as a
//! fixture. Every frame is built here (Ethernet, 802.1Q, ARP, IPv4, TCP, UDP, ICMP with
//! correct lengths and checksums; TCP connections with full handshakes, exact
//! sequence/acknowledgement numbers and teardowns), so the same options always give the
//! same bytes.
//!
//! The network: an office subnet 10.10.10.0/24 (native VLAN, untagged) with a Cisco router
//! to the Internet, a domain controller (DNS, DHCP), a file server, an NMS, a printer, two
//! cameras and 24 Windows PCs; and a plant subnet 10.20.20.0/24 (VLAN 20, tagged) behind a
//! Fortinet firewall with SCADA, historian, HMIs, an engineering workstation, Schneider,
//! WAGO, Siemens and Rockwell controllers, BACnet building controllers, a DNP3 relay, an
//! IEC 104 RTU and Siemens / Hirschmann switches.
//!
//! Scripted incidents (as fractions of the capture's duration; later detection features
//! and their tests rely on them):
//! - 55 %: an unknown laptop (`DESKTOP-R8J3K2V`, 10.20.20.180, Intel NIC) joins the plant
//!   subnet via DHCP; at 57 % it ARP-sweeps the /24 and then SYN-scans every live host on
//!   ports 21, 22, 23, 80, 102, 443, 502, 2404, 3389, 20000 and 44818.
//! - 62 %: the same laptop writes Modbus registers of the M340 (FC 6, then FC 16): a
//!   Modbus write from a host that is not the SCADA server.
//! - 75 %: the engineering workstation sends an S7comm PLC STOP (function 0x29) to the
//!   S7-300, then a hot start (PI service, function 0x28) 20 s later.
//! - 80 %: a Telnet login from the engineering workstation to the Hirschmann switch with
//!   the cleartext password `private`.
//! - 85 %: a burst of twenty IEC 104 single commands (C_SC_NA_1) from the SCADA to the RTU.
//!
//! [`write_scenario`] writes the detection scenarios: the same plant learning for half of
//! the capture, then either attacks and changes on top of its normal traffic (every alert
//! category; the list is in the `scenario` module) or nothing but normal traffic.

mod admin;
mod arp;
mod bacnet;
mod discovery;
mod dnp3;
mod encode;
mod enip;
mod iec104;
mod incidents;
mod modbus;
mod names;
mod plant;
mod rng;
mod s7;
mod scenario;
mod sim;
mod web;
mod wire;

pub use scenario::{ScenarioKind, ScenarioOptions, SCENARIO_INTEL};

use palisade_capture::write::PcapWriter;
use palisade_capture::LinkType;
use palisade_model::{MacAddr, Timestamp};
use sim::{Sim, SEC};
use std::io::Write;
use std::net::Ipv4Addr;

/// Shortest capture generated; shorter requests are raised to it so every incident fits.
pub const MIN_DURATION_SECS: u32 = 60;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// Seed of the pseudo-random jitter, identifiers and payload bytes.
    pub seed: u64,
    /// Length of the capture in seconds (at least [`MIN_DURATION_SECS`]).
    pub duration_secs: u32,
    /// Time of the first packet, in seconds since the Unix epoch.
    pub start_unix: i64,
}

impl Default for DemoOptions {
    /// Seed 7, ten minutes, starting 2025-01-14T10:00:00Z.
    fn default() -> Self {
        DemoOptions { seed: 7, duration_secs: 600, start_unix: 1_736_848_800 }
    }
}

/// A local host present in the capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoHost {
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// Its MAC address (the vendor's real OUI).
    pub mac: MacAddr,
    /// The name the capture reveals (DHCP, NetBIOS, mDNS, LLDP, DCP or SNMP), if any.
    pub hostname: Option<&'static str>,
    /// Device type, a `palisade_model::DeviceType` name such as "plc", "hmi" or "router".
    pub role: &'static str,
    /// Vendor name.
    pub vendor: &'static str,
}

/// What [`write_demo_capture`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    /// Number of frames.
    pub packets: u64,
    /// Sum of the frames' lengths (bytes on the wire, without pcap headers).
    pub bytes: u64,
    /// Every local host of the capture.
    pub hosts: Vec<DemoHost>,
}

/// Every local host the generator uses, in address order per subnet.
pub fn demo_hosts() -> Vec<DemoHost> {
    plant::all_hosts()
        .into_iter()
        .map(|h| DemoHost { ip: h.ip, mac: h.mac, hostname: h.hostname, role: h.role, vendor: h.vendor })
        .collect()
}

/// The plant's normal traffic, with the generators' scripted incidents when `sim.incidents`.
pub(crate) fn normal_traffic(sim: &mut Sim) {
    arp::generate(sim);
    names::generate(sim);
    discovery::generate(sim);
    modbus::generate(sim);
    s7::generate(sim);
    enip::generate(sim);
    bacnet::generate(sim);
    dnp3::generate(sim);
    iec104::generate(sim);
    web::generate(sim);
    admin::generate(sim);
}

/// Writes the capture as classic pcap to `out`.
pub fn write_demo_capture<W: Write>(opts: &DemoOptions, out: W) -> std::io::Result<DemoSummary> {
    let duration = i64::from(opts.duration_secs.max(MIN_DURATION_SECS)) * SEC;
    let mut sim = Sim::new(opts.seed, opts.start_unix.saturating_mul(SEC), duration);
    normal_traffic(&mut sim);
    incidents::generate(&mut sim);
    let (packets, bytes) = write_records(sim, out)?;
    Ok(DemoSummary { packets, bytes, hosts: demo_hosts() })
}

/// What [`write_scenario`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioSummary {
    /// Number of frames.
    pub packets: u64,
    /// Sum of the frames' lengths.
    pub bytes: u64,
    /// Length of the learning period (the first half of the capture), in seconds.
    pub learning_secs: u32,
}

/// Writes a scenario capture (see [`ScenarioOptions`]) as classic pcap to `out`.
pub fn write_scenario<W: Write>(opts: &ScenarioOptions, out: W) -> std::io::Result<ScenarioSummary> {
    let learning_secs = opts.learning_secs.max(MIN_DURATION_SECS / 2);
    let mut sim = Sim::new(opts.seed, opts.start_unix.saturating_mul(SEC), 2 * i64::from(learning_secs) * SEC);
    scenario::generate(&mut sim, opts.kind);
    let (packets, bytes) = write_records(sim, out)?;
    Ok(ScenarioSummary { packets, bytes, learning_secs })
}

/// Writes the simulation's frames in time order; returns the frame and byte counts.
fn write_records<W: Write>(sim: Sim, out: W) -> std::io::Result<(u64, u64)> {
    let end = sim.end;
    let mut writer = PcapWriter::new(out, LinkType::Ethernet, 65535)?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    // Conversations still running at the end are cut there, as a real capture would.
    for record in sim.into_records().into_iter().filter(|r| r.ts < end) {
        writer.write_packet(Timestamp(record.ts), &record.frame)?;
        packets += 1;
        bytes += record.frame.len() as u64;
    }
    writer.finish()?;
    Ok((packets, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::DeviceType;
    use std::collections::HashSet;
    use std::sync::OnceLock;

    /// One frame read back from the pcap: time in nanoseconds and bytes.
    type Frame = (i64, Vec<u8>);

    fn generate(opts: &DemoOptions) -> (Vec<u8>, DemoSummary) {
        let mut out = Vec::new();
        let summary = write_demo_capture(opts, &mut out).expect("writing to memory");
        (out, summary)
    }

    /// The default capture, generated once for all tests.
    fn default_capture() -> &'static (Vec<u8>, DemoSummary) {
        static CAPTURE: OnceLock<(Vec<u8>, DemoSummary)> = OnceLock::new();
        CAPTURE.get_or_init(|| generate(&DemoOptions::default()))
    }

    fn u32_le(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
    }

    /// Minimal classic-pcap reader (little-endian, nanosecond timestamps, Ethernet).
    fn read_pcap(file: &[u8]) -> Vec<Frame> {
        assert!(file.len() >= 24, "pcap header present");
        assert_eq!(u32_le(file, 0), 0xa1b2_3c4d, "nanosecond magic");
        assert_eq!(u32_le(file, 20), 1, "link type Ethernet");
        let mut frames = Vec::new();
        let mut at = 24;
        while at < file.len() {
            let secs = i64::from(u32_le(file, at));
            let nanos = i64::from(u32_le(file, at + 4));
            let incl = u32_le(file, at + 8) as usize;
            let orig = u32_le(file, at + 12) as usize;
            assert!(nanos < 1_000_000_000);
            assert_eq!(incl, orig, "nothing truncated");
            let data = file[at + 16..at + 16 + incl].to_vec();
            frames.push((secs * 1_000_000_000 + nanos, data));
            at += 16 + incl;
        }
        assert_eq!(at, file.len(), "no trailing bytes");
        frames
    }

    /// The IPv4 header of a frame, after an optional 802.1Q tag.
    fn ipv4_header(frame: &[u8]) -> Option<&[u8]> {
        let (ethertype, offset) = match (frame[12], frame[13]) {
            (0x81, 0x00) => ((u16::from(frame[16]) << 8) | u16::from(frame[17]), 18),
            (a, b) => ((u16::from(a) << 8) | u16::from(b), 14),
        };
        (ethertype == 0x0800).then(|| &frame[offset..offset + 20])
    }

    #[test]
    fn same_seed_gives_the_same_bytes() {
        let opts = DemoOptions { duration_secs: 120, ..DemoOptions::default() };
        let (a, sa) = generate(&opts);
        let (b, sb) = generate(&opts);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let (c, _) = generate(&DemoOptions { seed: 8, ..opts });
        assert_ne!(a, c, "another seed changes the jitter and payloads");
    }

    #[test]
    fn capture_parses_and_matches_the_summary() {
        let (file, summary) = default_capture();
        let frames = read_pcap(file);
        assert_eq!(frames.len() as u64, summary.packets);
        assert_eq!(frames.iter().map(|(_, f)| f.len() as u64).sum::<u64>(), summary.bytes);
        assert!((20_000..60_000).contains(&summary.packets), "{} packets", summary.packets);
        let opts = DemoOptions::default();
        let start = opts.start_unix * 1_000_000_000;
        let end = start + i64::from(opts.duration_secs) * 1_000_000_000;
        let mut last = start;
        for (ts, frame) in &frames {
            assert!(*ts >= last && *ts < end, "time-ordered, inside the capture");
            last = *ts;
            assert!(frame.len() >= 60, "padded to the Ethernet minimum");
            if let Some(ip) = ipv4_header(frame) {
                let sum: u32 = ip.chunks(2).map(|w| (u32::from(w[0]) << 8) | u32::from(w[1])).sum();
                let folded = (sum & 0xffff) + (sum >> 16);
                assert_eq!(folded, 0xffff, "IPv4 header checksum");
            }
        }
        assert!(last - start > (end - start) * 9 / 10, "traffic spreads over the whole duration");
    }

    #[test]
    fn hosts_are_consistent_with_the_capture() {
        let (file, summary) = default_capture();
        let frames = read_pcap(file);
        let text = latin1(file);
        let sources: HashSet<[u8; 6]> = frames.iter().map(|(_, f)| f[6..12].try_into().expect("six bytes")).collect();
        let mut ips = HashSet::new();
        let mut macs = HashSet::new();
        assert!(summary.hosts.len() >= 50);
        for h in &summary.hosts {
            assert!(ips.insert(h.ip), "duplicate IP {}", h.ip);
            assert!(macs.insert(h.mac), "duplicate MAC {}", h.mac);
            assert!(h.mac.is_unicast());
            assert!(h.ip.is_private(), "{} is local", h.ip);
            assert!(DeviceType::from_name(h.role).is_some(), "role {} is a device type", h.role);
            assert!(!h.vendor.is_empty());
            assert!(sources.contains(&h.mac.0), "{} ({}) sends frames", h.ip, h.mac);
            if let Some(name) = h.hostname {
                let netbios = encode::netbios_name(name, 0);
                assert!(text.contains(name) || text.contains(&netbios), "hostname {name} appears in the capture");
            }
        }
        assert_eq!(summary.hosts, demo_hosts());
    }

    /// Bytes as Latin-1 text, so the (optimised) standard string search can look for byte patterns.
    fn latin1(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char::from(b)).collect()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        latin1(haystack).contains(&latin1(needle))
    }

    #[test]
    fn incidents_are_present() {
        let (file, _) = default_capture();
        let text = latin1(file);
        let has = |needle: &[u8]| text.contains(&latin1(needle));
        assert!(has(b"DESKTOP-R8J3K2V"), "unknown laptop's DHCP hostname");
        assert!(has(&[0x29, 0, 0, 0, 0, 0, 9, b'P', b'_']), "S7 PLC STOP");
        assert!(has(&[0x28, 0, 0, 0, 0, 0, 0, 0xfd]), "S7 hot start");
        assert!(has(b"private\r\n"), "Telnet password");
        assert!(has(b"1756-L61/B LOGIX5561"));
        assert!(has(b"6ES7 315-2EH14-0AB0"));
    }

    #[test]
    fn short_durations_are_raised_to_the_minimum() {
        let opts = DemoOptions { duration_secs: 1, ..DemoOptions::default() };
        let (file, summary) = generate(&opts);
        let frames = read_pcap(&file);
        let start = opts.start_unix * 1_000_000_000;
        let limit = start + i64::from(MIN_DURATION_SECS) * 1_000_000_000;
        assert!(frames.iter().all(|(ts, _)| *ts >= start && *ts < limit));
        assert!(summary.packets > 1000);
        assert!(contains(&file, b"private\r\n"), "incidents fit in the minimum duration");
    }
}
