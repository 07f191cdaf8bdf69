//! Layer-2 discovery: LLDP from the managed switches and PROFINET DCP Identify.

use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};
use crate::wire::{self, L2};
use palisade_model::MacAddr;

/// LLDP nearest-bridge multicast address.
const LLDP_MULTICAST: MacAddr = MacAddr([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);
/// PROFINET DCP Identify multicast address.
const DCP_MULTICAST: MacAddr = MacAddr([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);

/// A switch and the LLDP description it sends.
struct Switch {
    host: Host,
    port: &'static str,
    port_description: &'static str,
    description: &'static str,
}

const SWITCHES: [Switch; 2] = [
    Switch {
        host: plant::SCALANCE,
        port: "port-008",
        port_description: "Siemens, SIMATIC NET, Ethernet Port, X1 P8",
        description: "Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 1, FW: Version V04.02.00",
    },
    Switch {
        host: plant::HIRSCHMANN,
        port: "1/6",
        port_description: "Module: 1 Port: 6 - 100 Mbit TX",
        description: "Hirschmann Railswitch RS30-0802O6O6SDAEHH, HiOS-07.1.01",
    },
];

/// One LLDP TLV (7-bit type, 9-bit length).
fn lldp_tlv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    let head = (u16::from(kind) << 9) | (value.len() as u16 & 0x01ff);
    out.extend_from_slice(&head.to_be_bytes());
    out.extend_from_slice(value);
}

/// The LLDPDU of a switch.
fn lldpdu(s: &Switch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chassis = vec![4];
    chassis.extend_from_slice(&s.host.mac.0);
    lldp_tlv(&mut out, 1, &chassis);
    let mut port = vec![5];
    port.extend_from_slice(s.port.as_bytes());
    lldp_tlv(&mut out, 2, &port);
    lldp_tlv(&mut out, 3, &120u16.to_be_bytes());
    lldp_tlv(&mut out, 4, s.port_description.as_bytes());
    lldp_tlv(&mut out, 5, s.host.hostname.unwrap_or_default().as_bytes());
    lldp_tlv(&mut out, 6, s.description.as_bytes());
    lldp_tlv(&mut out, 7, &[0x00, 0x04, 0x00, 0x04]);
    let mut mgmt = vec![5, 1];
    mgmt.extend_from_slice(&s.host.ip.octets());
    mgmt.extend_from_slice(&[2, 0, 0, 0, 1, 0]);
    lldp_tlv(&mut out, 8, &mgmt);
    lldp_tlv(&mut out, 0, &[]);
    out
}

/// A PROFINET device and what DCP reports about it.
struct PnDevice {
    host: Host,
    type_of_station: &'static str,
    device_id: u16,
    role: u8,
}

const PN_DEVICES: [PnDevice; 3] = [
    PnDevice { host: plant::S7_300, type_of_station: "S7-300", device_id: 0x0101, role: 0x02 },
    PnDevice { host: plant::S7_1500, type_of_station: "S7-1500", device_id: 0x010e, role: 0x02 },
    PnDevice { host: plant::ET200SP, type_of_station: "ET200SP", device_id: 0x0313, role: 0x01 },
];

/// One DCP block of a response (option, suboption, length, block info, data, padding).
fn dcp_block(out: &mut Vec<u8>, option: u8, suboption: u8, info: u16, data: &[u8]) {
    out.extend_from_slice(&[option, suboption]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&info.to_be_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

/// DCP service identifiers.
const SERVICE_SET: u8 = 0x04;
const SERVICE_IDENTIFY: u8 = 0x05;

/// DCP header (frame ID, service, type, xid, response delay or reserved) and blocks.
fn dcp(frame_id: u16, service: u8, service_type: u8, xid: u32, delay: u16, blocks: &[u8]) -> Vec<u8> {
    let mut out = frame_id.to_be_bytes().to_vec();
    out.extend_from_slice(&[service, service_type]);
    out.extend_from_slice(&xid.to_be_bytes());
    out.extend_from_slice(&delay.to_be_bytes());
    out.extend_from_slice(&(blocks.len() as u16).to_be_bytes());
    out.extend_from_slice(blocks);
    out
}

/// Identify response blocks of a device.
fn identify_blocks(d: &PnDevice) -> Vec<u8> {
    let mut blocks = Vec::new();
    dcp_block(&mut blocks, 2, 1, 0, d.type_of_station.as_bytes());
    dcp_block(&mut blocks, 2, 2, 0, d.host.hostname.unwrap_or_default().as_bytes());
    let mut id = 0x002au16.to_be_bytes().to_vec();
    id.extend_from_slice(&d.device_id.to_be_bytes());
    dcp_block(&mut blocks, 2, 3, 0, &id);
    dcp_block(&mut blocks, 2, 4, 0, &[d.role, 0]);
    let mut ip = d.host.ip.octets().to_vec();
    ip.extend_from_slice(&[255, 255, 255, 0]);
    ip.extend_from_slice(&plant::FIREWALL.ip.octets());
    dcp_block(&mut blocks, 1, 2, 0x0001, &ip);
    blocks
}

/// TIA Portal's "accessible devices": Identify All from the engineering workstation.
fn identify_all(sim: &mut Sim, ts: i64) {
    let vlan = plant::PLANT.vlan;
    let xid = sim.rng.u32();
    let request = dcp(0xfefe, SERVICE_IDENTIFY, 0x00, xid, 0x0001, &[0xff, 0xff, 0x00, 0x00]);
    sim.emit_l2(ts, &L2 { dst: DCP_MULTICAST, src: plant::EWS.mac, vlan }, wire::ETH_PROFINET, &request);
    for d in &PN_DEVICES {
        let response = dcp(0xfeff, SERVICE_IDENTIFY, 0x01, xid, 0, &identify_blocks(d));
        let delay = sim.jitter(2 * MS, 40 * MS);
        sim.emit_l2(ts + delay, &L2 { dst: plant::EWS.mac, src: d.host.mac, vlan }, wire::ETH_PROFINET, &response);
    }
}

/// `station` sets the IP address of `device` with a DCP Set request (unicast), and the device confirms.
pub(crate) fn set_ip(sim: &mut Sim, ts: i64, station: &Host, device: &Host, ip: [u8; 4], mask: [u8; 4], gateway: [u8; 4]) {
    let vlan = plant::PLANT.vlan;
    let xid = sim.rng.u32();
    let mut value = Vec::with_capacity(12);
    value.extend_from_slice(&ip);
    value.extend_from_slice(&mask);
    value.extend_from_slice(&gateway);
    let mut blocks = Vec::new();
    dcp_block(&mut blocks, 0x01, 0x02, 0x0001, &value);
    let request = dcp(0xfefd, SERVICE_SET, 0x00, xid, 0, &blocks);
    sim.emit_l2(ts, &L2 { dst: device.mac, src: station.mac, vlan }, wire::ETH_PROFINET, &request);
    let mut result = Vec::new();
    result.extend_from_slice(&[0x05, 0x04, 0x00, 0x03, 0x01, 0x02, 0x00, 0x00]);
    let response = dcp(0xfefd, SERVICE_SET, 0x01, xid, 0, &result);
    let delay = sim.jitter(2 * MS, 20 * MS);
    sim.emit_l2(ts + delay, &L2 { dst: station.mac, src: device.mac, vlan }, wire::ETH_PROFINET, &response);
}

/// Schedules LLDP (every 30 s per switch) and DCP identification (twice).
pub(crate) fn generate(sim: &mut Sim) {
    for s in &SWITCHES {
        let pdu = lldpdu(s);
        let l2 = L2 { dst: LLDP_MULTICAST, src: s.host.mac, vlan: None };
        let mut t = sim.start + sim.jitter(0, 30 * SEC);
        while t < sim.end {
            sim.emit_l2(t, &l2, wire::ETH_LLDP, &pdu);
            t += 30 * SEC + sim.jitter(-20 * MS, 20 * MS);
        }
    }
    let t = sim.at(0.14);
    identify_all(sim, t);
    let t = sim.at(0.74);
    identify_all(sim, t);
}
