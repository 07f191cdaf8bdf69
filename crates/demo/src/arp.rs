//! Background ARP: every host resolves its gateway and its usual peers, gateways refresh
//! their caches, and the gateways announce themselves.

use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};

/// Hosts that talk to the plant's controllers and resolve them at the start.
const OT_CLIENTS: [Host; 6] = [plant::SCADA, plant::HISTORIAN, plant::HMI1, plant::HMI2, plant::PANEL, plant::EWS];

/// Schedules the ARP traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    let hosts: Vec<Host> = plant::all_hosts().into_iter().filter(|h| h.ip != plant::ROGUE_LAPTOP.ip).collect();
    for gw in [plant::ROUTER, plant::FIREWALL] {
        let t = sim.start + sim.jitter(0, SEC);
        sim.gratuitous_arp(t, &gw);
    }
    for host in &hosts {
        let Some(gw) = plant::gateway_of(host.ip) else { continue };
        if gw.ip == host.ip {
            continue;
        }
        // The host resolves its gateway early on.
        let t = sim.start + sim.jitter(SEC, 8 * SEC);
        sim.arp_exchange(t, host, gw.ip, Some(&gw));
        // The gateway refreshes its entry for the host every four to six minutes.
        let mut t = sim.start + sim.jitter(10 * SEC, 240 * SEC);
        while t < sim.end {
            sim.arp_exchange(t, &gw, host.ip, Some(host));
            t += sim.jitter(240 * SEC, 360 * SEC);
        }
    }
    for client in &OT_CLIENTS {
        let mut t = sim.start + sim.jitter(0, 500 * MS);
        for peer in hosts.iter().filter(|h| plant::PLANT.contains(h.ip) && h.ip != client.ip) {
            sim.arp_exchange(t, client, peer.ip, Some(peer));
            t += sim.jitter(2 * MS, 20 * MS);
        }
    }
    let servers = [plant::DC, plant::FILESERVER, plant::CAMERA_AXIS, plant::CAMERA_HIK];
    for pc in plant::office_pcs() {
        for server in &servers {
            let t = sim.start + sim.jitter(0, 20 * SEC);
            sim.arp_exchange(t, &pc, server.ip, Some(server));
        }
    }
}
