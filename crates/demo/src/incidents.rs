//! The unknown laptop: it joins the plant network, sweeps it with ARP, SYN-scans the
//! controllers and writes a Modbus register.

use crate::modbus;
use crate::names;
use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};
use crate::wire::{self, TcpHdr};

/// Ports the scan probes.
const SCANNED: [u16; 11] = [21, 22, 23, 80, 102, 443, 502, 2404, 3389, 20000, 44818];

/// Ports a plant host listens on (among the scanned ones).
fn open_ports(host: &Host) -> &'static [u16] {
    let ip = host.ip;
    if ip == plant::M340.ip || ip == plant::M580.ip {
        &[80, 502]
    } else if ip == plant::WAGO_PFC.ip || ip == plant::WAGO_881.ip {
        &[22, 80, 443, 502]
    } else if ip == plant::S7_300.ip {
        &[102]
    } else if ip == plant::S7_1500.ip {
        &[80, 102, 443]
    } else if ip == plant::CONTROLLOGIX.ip || ip == plant::COMPACTLOGIX.ip {
        &[80, 44818]
    } else if ip == plant::DNP3_RELAY.ip {
        &[20000, 23]
    } else if ip == plant::RTU.ip {
        &[80, 2404]
    } else if host.role == "switch" {
        &[22, 23, 80, 443]
    } else if host.role == "firewall" {
        &[22, 443]
    } else if host.ttl == 128 {
        &[3389]
    } else {
        &[]
    }
}

/// One SYN probe and the target's answer (SYN/ACK then the scanner's RST, or RST/ACK).
fn probe(sim: &mut Sim, ts: i64, scanner: &Host, sport: u16, target: &Host, port: u16) {
    let seq = sim.rng.u32();
    let syn = TcpHdr { sport, dport: port, seq, ack: 0, flags: wire::SYN, window: 1024 };
    sim.tcp_segment(ts, scanner.ip, target.ip, &syn, &[2, 4, 0x05, 0xb4], &[]);
    let t = ts + sim.jitter(200_000, 900_000);
    if open_ports(target).contains(&port) {
        let syn_ack =
            TcpHdr { sport: port, dport: sport, seq: sim.rng.u32(), ack: seq.wrapping_add(1), flags: wire::SYN | wire::ACK, window: 8192 };
        sim.tcp_segment(t, target.ip, scanner.ip, &syn_ack, &[2, 4, 0x05, 0xb4], &[]);
        let rst = TcpHdr { sport, dport: port, seq: seq.wrapping_add(1), ack: 0, flags: wire::RST, window: 0 };
        sim.tcp_segment(t + 50_000, scanner.ip, target.ip, &rst, &[], &[]);
    } else {
        let rst = TcpHdr { sport: port, dport: sport, seq: 0, ack: seq.wrapping_add(1), flags: wire::RST | wire::ACK, window: 0 };
        sim.tcp_segment(t, target.ip, scanner.ip, &rst, &[], &[]);
    }
}

/// Schedules the laptop's activity.
pub(crate) fn generate(sim: &mut Sim) {
    let laptop = plant::ROGUE_LAPTOP;
    let t = sim.at(0.55);
    let ready = names::dhcp_dora(sim, t, &laptop, &plant::FIREWALL);
    sim.arp_exchange(ready, &laptop, plant::FIREWALL.ip, Some(&plant::FIREWALL));
    // ARP sweep of the whole /24.
    let hosts = plant::all_hosts();
    let mut alive = Vec::new();
    let mut t = sim.at(0.57);
    for n in 1..=254u8 {
        let ip = plant::PLANT.addr(n);
        if ip == laptop.ip {
            continue;
        }
        let target = hosts.iter().find(|h| h.ip == ip).copied();
        sim.arp_exchange(t, &laptop, ip, target.as_ref());
        alive.extend(target);
        t += sim.jitter(2 * MS, 5 * MS);
    }
    // SYN scan of the live hosts, one source port as scanners do.
    let sport = 40_000 + (sim.rng.u16() % 9000);
    let mut t = t + 2 * SEC;
    for port in SCANNED {
        for target in &alive {
            probe(sim, t, &laptop, sport, target, port);
            t += sim.jitter(300_000, 2 * MS);
        }
    }
    // Modbus write to the M340 from a host that is not the SCADA.
    let t = sim.at(0.62);
    let mut client = modbus::Client::connect(sim, t, &laptop, &plant::M340, 1);
    let done = client.write_single(sim, t + 40 * MS, 42, 0);
    let done = client.write_multiple(sim, done + 1500 * MS, 200, &[0, 0, 0, 0]);
    client.close(sim, done + 300 * MS);
}
