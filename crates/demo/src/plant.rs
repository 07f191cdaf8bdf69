//! The simulated plant: subnets and hosts.

use crate::wire::Vlan;
use palisade_model::MacAddr;
use std::net::Ipv4Addr;

/// One local host.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Host {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    /// The name the capture reveals (DHCP, NetBIOS, mDNS, LLDP, DCP, SNMP), if any.
    pub hostname: Option<&'static str>,
    /// A `palisade_model::DeviceType` name.
    pub role: &'static str,
    pub vendor: &'static str,
    /// Initial TTL of the host's IP stack.
    pub ttl: u8,
}

/// A local IPv4 /24 subnet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subnet {
    /// First three octets.
    pub prefix: [u8; 3],
    /// 802.1Q tag on the mirrored trunk (`None`: native VLAN, untagged).
    pub vlan: Option<Vlan>,
}

impl Subnet {
    /// True if `ip` is in the subnet.
    pub(crate) fn contains(&self, ip: Ipv4Addr) -> bool {
        ip.octets()[..3] == self.prefix
    }

    /// Address `.n` of the subnet.
    pub(crate) fn addr(&self, n: u8) -> Ipv4Addr {
        Ipv4Addr::new(self.prefix[0], self.prefix[1], self.prefix[2], n)
    }

    /// The directed broadcast address.
    pub(crate) fn broadcast(&self) -> Ipv4Addr {
        self.addr(255)
    }
}

/// The office (IT) subnet, native VLAN 10, untagged on the trunk.
pub(crate) const OFFICE: Subnet = Subnet { prefix: [10, 10, 10], vlan: None };
/// The plant (OT) subnet, VLAN 20, tagged on the trunk.
pub(crate) const PLANT: Subnet = Subnet { prefix: [10, 20, 20], vlan: Some(Vlan { id: 20, pcp: 0 }) };

/// Windows stacks start at TTL 128, embedded and Linux ones at 64, Cisco at 255.
const WIN: u8 = 128;
const EMB: u8 = 64;

/// A MAC address from a vendor OUI and a device-specific tail.
const fn mac(oui: [u8; 3], tail: [u8; 3]) -> MacAddr {
    MacAddr([oui[0], oui[1], oui[2], tail[0], tail[1], tail[2]])
}

const fn host(net: Subnet, n: u8, mac: MacAddr, hostname: Option<&'static str>, role: &'static str, vendor: &'static str, ttl: u8) -> Host {
    Host { ip: Ipv4Addr::new(net.prefix[0], net.prefix[1], net.prefix[2], n), mac, hostname, role, vendor, ttl }
}

const CISCO: [u8; 3] = [0x00, 0x1e, 0x49];
const DELL: [u8; 3] = [0xd4, 0xbe, 0xd9];
const DELL2: [u8; 3] = [0xa4, 0xba, 0xdb];
const HP: [u8; 3] = [0x3c, 0x52, 0x82];
const HP2: [u8; 3] = [0xf4, 0xce, 0x46];
const VMWARE: [u8; 3] = [0x00, 0x50, 0x56];
const SCHNEIDER: [u8; 3] = [0x00, 0x80, 0xf4];
const SIEMENS: [u8; 3] = [0x00, 0x1b, 0x1b];

/// Router of the office subnet and the way to the Internet.
pub(crate) const ROUTER: Host = host(OFFICE, 1, mac(CISCO, [0x7a, 0x31, 0x01]), None, "router", "Cisco", 255);
/// Office access switch (SNMP-managed).
pub(crate) const OFFICE_SWITCH: Host = host(OFFICE, 2, mac(CISCO, [0x7a, 0x52, 0x80]), Some("sw-office-01"), "switch", "Cisco", 255);
/// Domain controller, DNS and DHCP server of the office.
pub(crate) const DC: Host = host(OFFICE, 10, mac(DELL, [0x1c, 0x44, 0x0a]), Some("DC01"), "server", "Dell", WIN);
/// File server (SMB).
pub(crate) const FILESERVER: Host = host(OFFICE, 11, mac(VMWARE, [0x9a, 0x11, 0x2b]), Some("FS01"), "server", "VMware", WIN);
/// Network management station (SNMP, ping).
pub(crate) const NMS: Host = host(OFFICE, 12, mac(VMWARE, [0x9a, 0x11, 0x5c]), Some("NMS01"), "server", "VMware", WIN);
/// Network printer announcing itself over mDNS.
pub(crate) const PRINTER: Host =
    host(OFFICE, 30, mac([0x00, 0x80, 0x77], [0x5c, 0x21, 0x9e]), Some("BRN0080775C219E"), "printer", "Brother", EMB);
/// Axis camera (mDNS, web UI).
pub(crate) const CAMERA_AXIS: Host =
    host(OFFICE, 31, mac([0xac, 0xcc, 0x8e], [0x12, 0x34, 0x56]), Some("axis-accc8e123456"), "camera", "Axis Communications", EMB);
/// Hikvision camera (web UI).
pub(crate) const CAMERA_HIK: Host = host(OFFICE, 32, mac([0x28, 0x57, 0xbe], [0x0b, 0x7d, 0x41]), None, "camera", "Hikvision", EMB);

/// Office PCs (DHCP clients) and their names.
const PC_NAMES: [&str; 24] = [
    "PC-ACC-01",
    "PC-ACC-02",
    "PC-ACC-03",
    "PC-HR-01",
    "PC-HR-02",
    "PC-SALES-01",
    "PC-SALES-02",
    "PC-SALES-03",
    "PC-SALES-04",
    "PC-PURCH-01",
    "PC-PURCH-02",
    "PC-MGMT-01",
    "PC-MGMT-02",
    "PC-QA-01",
    "PC-QA-02",
    "PC-QA-03",
    "PC-MAINT-01",
    "PC-MAINT-02",
    "PC-PLAN-01",
    "PC-PLAN-02",
    "PC-LOG-01",
    "PC-LOG-02",
    "PC-RECEP-01",
    "PC-IT-01",
];

/// The office PCs, addresses 10.10.10.101 and up.
pub(crate) fn office_pcs() -> Vec<Host> {
    PC_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let i = i as u8;
            let (oui, vendor) = match i % 4 {
                0 => (DELL, "Dell"),
                1 => (HP, "HP"),
                2 => (DELL2, "Dell"),
                _ => (HP2, "HP"),
            };
            host(OFFICE, 101 + i, mac(oui, [0x3e, 0x90 + i, 0x17 ^ i]), Some(*name), "workstation", vendor, WIN)
        })
        .collect()
}

/// OT firewall, default gateway and DHCP server of the plant subnet.
pub(crate) const FIREWALL: Host = host(PLANT, 1, mac([0x00, 0x09, 0x0f], [0x09, 0x00, 0x14]), None, "firewall", "Fortinet", 255);
/// Siemens SCALANCE core switch of the plant (LLDP, SNMP).
pub(crate) const SCALANCE: Host =
    host(PLANT, 2, mac([0x00, 0x0e, 0x8c], [0x9d, 0x4a, 0x10]), Some("scalance-core"), "switch", "Siemens", EMB);
/// Hirschmann field switch (LLDP, SNMP, Telnet).
pub(crate) const HIRSCHMANN: Host =
    host(PLANT, 3, mac([0x00, 0x80, 0x63], [0xe2, 0x05, 0x8a]), Some("rs30-line2"), "switch", "Hirschmann", EMB);
/// SCADA server (Modbus, S7, DNP3, IEC 104 master).
pub(crate) const SCADA: Host = host(PLANT, 10, mac(DELL, [0x2f, 0x60, 0x01]), Some("SCADA01"), "scada-server", "Dell", WIN);
/// Historian (BACnet reader).
pub(crate) const HISTORIAN: Host = host(PLANT, 11, mac(DELL, [0x2f, 0x60, 0x02]), Some("HIST01"), "historian", "Dell", WIN);
/// Line 1 operator HMI (Windows).
pub(crate) const HMI1: Host = host(PLANT, 20, mac(DELL2, [0x51, 0x0c, 0x21]), Some("HMI-LINE1"), "hmi", "Dell", WIN);
/// Line 2 operator HMI (Windows).
pub(crate) const HMI2: Host = host(PLANT, 21, mac(DELL2, [0x51, 0x0c, 0x22]), Some("HMI-LINE2"), "hmi", "Dell", WIN);
/// Schneider Magelis operator panel.
pub(crate) const PANEL: Host = host(PLANT, 22, mac(SCHNEIDER, [0x1f, 0x33, 0x90]), None, "hmi", "Schneider Electric", EMB);
/// Engineering workstation (TIA Portal, Studio 5000, Unity).
pub(crate) const EWS: Host = host(PLANT, 50, mac(HP2, [0x77, 0x10, 0x3a]), Some("EWS-01"), "engineering-workstation", "HP", WIN);
/// Schneider Modicon M340.
pub(crate) const M340: Host = host(PLANT, 100, mac(SCHNEIDER, [0x0c, 0x51, 0x3d]), None, "plc", "Schneider Electric", EMB);
/// Schneider Modicon M580.
pub(crate) const M580: Host = host(PLANT, 101, mac(SCHNEIDER, [0x0e, 0x7a, 0x62]), None, "plc", "Schneider Electric", EMB);
/// WAGO PFC200 controller.
pub(crate) const WAGO_PFC: Host = host(PLANT, 102, mac([0x00, 0x30, 0xde], [0x41, 0x9b, 0x07]), None, "plc", "WAGO", EMB);
/// WAGO 750-881 controller.
pub(crate) const WAGO_881: Host = host(PLANT, 103, mac([0x00, 0x30, 0xde], [0x0a, 0x12, 0xc4]), None, "plc", "WAGO", EMB);
/// Siemens S7-300 (CPU 315-2 PN/DP).
pub(crate) const S7_300: Host = host(PLANT, 110, mac(SIEMENS, [0x0a, 0x3c, 0x15]), Some("plc-press-01"), "plc", "Siemens", 30);
/// Siemens S7-1500 (CPU 1516-3 PN/DP).
pub(crate) const S7_1500: Host = host(PLANT, 111, mac(SIEMENS, [0x1e, 0x8f, 0x22]), Some("plc-pack-01"), "plc", "Siemens", 30);
/// Siemens ET 200SP PROFINET IO device.
pub(crate) const ET200SP: Host = host(PLANT, 112, mac(SIEMENS, [0x2b, 0x06, 0x7e]), Some("et200sp-line1"), "io-adapter", "Siemens", 30);
/// Rockwell ControlLogix 1756-L61.
pub(crate) const CONTROLLOGIX: Host =
    host(PLANT, 120, mac([0x00, 0x1d, 0x9c], [0xc8, 0x3e, 0x5a]), None, "plc", "Rockwell Automation", EMB);
/// Rockwell CompactLogix 1769-L33ER.
pub(crate) const COMPACTLOGIX: Host =
    host(PLANT, 121, mac([0x00, 0x00, 0xbc], [0x5d, 0x21, 0x94]), None, "plc", "Rockwell Automation", EMB);
/// Delta Controls BACnet controller.
pub(crate) const BACNET_DELTA: Host =
    host(PLANT, 130, mac([0x00, 0x40, 0xae], [0x03, 0x1f, 0x6b]), None, "building-controller", "Delta Controls", EMB);
/// Johnson Controls BACnet controller.
pub(crate) const BACNET_JCI: Host =
    host(PLANT, 131, mac([0x00, 0x10, 0x8d], [0x44, 0x0e, 0x29]), None, "building-controller", "Johnson Controls", EMB);
/// Tridium JACE BACnet supervisor.
pub(crate) const BACNET_JACE: Host =
    host(PLANT, 132, mac([0x00, 0x01, 0xf0], [0x8a, 0x61, 0x3c]), None, "building-controller", "Tridium", EMB);
/// SEL feeder protection relay, DNP3 outstation.
pub(crate) const DNP3_RELAY: Host =
    host(PLANT, 140, mac([0x00, 0x30, 0xa7], [0x1b, 0x92, 0x4e]), None, "ied", "Schweitzer Engineering Laboratories", EMB);
/// ABB RTU560, IEC 60870-5-104 controlled station.
pub(crate) const RTU: Host = host(PLANT, 141, mac([0x00, 0x03, 0x2c], [0x6e, 0x18, 0xa1]), None, "rtu", "ABB", EMB);
/// The unknown laptop that appears in the second half (see the incidents).
pub(crate) const ROGUE_LAPTOP: Host =
    host(PLANT, 180, mac([0x3c, 0xa9, 0xf4], [0x6b, 0x20, 0xd7]), Some("DESKTOP-R8J3K2V"), "workstation", "Intel", WIN);

/// Every local host, in address order within each subnet.
pub(crate) fn all_hosts() -> Vec<Host> {
    let mut hosts = vec![ROUTER, OFFICE_SWITCH, DC, FILESERVER, NMS, PRINTER, CAMERA_AXIS, CAMERA_HIK];
    hosts.extend(office_pcs());
    hosts.extend([
        FIREWALL,
        SCALANCE,
        HIRSCHMANN,
        SCADA,
        HISTORIAN,
        HMI1,
        HMI2,
        PANEL,
        EWS,
        M340,
        M580,
        WAGO_PFC,
        WAGO_881,
        S7_300,
        S7_1500,
        ET200SP,
        CONTROLLOGIX,
        COMPACTLOGIX,
        BACNET_DELTA,
        BACNET_JCI,
        BACNET_JACE,
        DNP3_RELAY,
        RTU,
        ROGUE_LAPTOP,
    ]);
    hosts
}

/// The gateway of the subnet holding `ip`, if it is local.
pub(crate) fn gateway_of(ip: Ipv4Addr) -> Option<Host> {
    if OFFICE.contains(ip) {
        Some(ROUTER)
    } else if PLANT.contains(ip) {
        Some(FIREWALL)
    } else {
        None
    }
}

/// The subnet holding `ip`, if it is local.
pub(crate) fn subnet_of(ip: Ipv4Addr) -> Option<Subnet> {
    [OFFICE, PLANT].into_iter().find(|s| s.contains(ip))
}
