//! Stable vocabularies. The string forms are a public contract: they appear
//! in JSON output, in the database and in users' scripts. Add, never rename.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares a field-less enum together with its stable string names.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable lower-case name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Looks a value up by its stable name.
            pub fn from_name(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::from_name(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown {} {text:?}", stringify!($name))))
            }
        }
    };
}

vocabulary! {
    /// Application and link protocols that Palisade names on devices.
    Protocol {
        Modbus = "modbus",
        Dnp3 = "dnp3",
        S7comm = "s7comm",
        S7commPlus = "s7comm-plus",
        Enip = "enip",
        Cip = "cip",
        Bacnet = "bacnet",
        Iec104 = "iec104",
        Opcua = "opcua",
        Profinet = "profinet",
        Mms = "mms",
        Goose = "goose",
        Fins = "fins",
        HartIp = "hart-ip",
        Ethercat = "ethercat",
        Mqtt = "mqtt",
        Coap = "coap",
        Dhcp = "dhcp",
        Dhcpv6 = "dhcpv6",
        Dns = "dns",
        Mdns = "mdns",
        Llmnr = "llmnr",
        Nbns = "nbns",
        Ssdp = "ssdp",
        Lldp = "lldp",
        Cdp = "cdp",
        Snmp = "snmp",
        Http = "http",
        Tls = "tls",
        Ssh = "ssh",
        Smb = "smb",
        Telnet = "telnet",
        Ftp = "ftp",
        Ntp = "ntp",
        Arp = "arp",
        Icmp = "icmp",
        Rdp = "rdp",
        Vnc = "vnc",
        /// TCP itself: the source of passive OS fingerprints (SYN and SYN-ACK traits).
        Tcp = "tcp",
    }
}

/// A small set of protocols (a bit per protocol), cheap to copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProtocolSet(u64);

impl ProtocolSet {
    /// Every protocol of the vocabulary.
    pub fn all() -> ProtocolSet {
        let mut set = ProtocolSet::default();
        Protocol::ALL.iter().for_each(|p| set.insert(*p));
        set
    }

    /// Adds a protocol.
    pub fn insert(&mut self, p: Protocol) {
        self.0 |= 1 << (p as u8);
    }

    /// Adds every protocol of `other`.
    pub fn extend(&mut self, other: ProtocolSet) {
        self.0 |= other.0;
    }

    /// The protocols of this set that are not in `other`.
    pub fn difference(self, other: ProtocolSet) -> ProtocolSet {
        ProtocolSet(self.0 & !other.0)
    }

    /// True if `p` is in the set.
    pub fn contains(self, p: Protocol) -> bool {
        self.0 & (1 << (p as u8)) != 0
    }

    /// True if empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The protocols in the set, in vocabulary order.
    pub fn iter(self) -> impl Iterator<Item = Protocol> {
        Protocol::ALL.iter().copied().filter(move |p| self.contains(*p))
    }
}

impl Protocol {
    /// True for industrial (OT/ICS) protocols.
    pub fn is_industrial(self) -> bool {
        use Protocol::*;
        matches!(
            self,
            Modbus | Dnp3 | S7comm | S7commPlus | Enip | Cip | Bacnet | Iec104 | Opcua | Profinet | Mms | Goose | Fins | HartIp | Ethercat
        )
    }
}

vocabulary! {
    /// What an operation does, in one vocabulary across all protocols.
    OperationKind {
        Read = "read",
        Write = "write",
        ProgramDownload = "program-download",
        ProgramUpload = "program-upload",
        ProgramDelete = "program-delete",
        FirmwareUpdate = "firmware-update",
        ControllerStop = "controller-stop",
        ControllerStart = "controller-start",
        ColdRestart = "cold-restart",
        WarmRestart = "warm-restart",
        DeviceReset = "device-reset",
        TimeSet = "time-set",
        ConfigurationChange = "configuration-change",
        Diagnostics = "diagnostics",
        Identify = "identify",
        Login = "login",
        Session = "session",
        Other = "other",
    }
}

vocabulary! {
    /// The kinds of identity fact a dissector can report about a device.
    IdentityField {
        Vendor = "vendor",
        Model = "model",
        ProductName = "product_name",
        OrderNumber = "order_number",
        Firmware = "firmware",
        HardwareVersion = "hardware_version",
        Serial = "serial",
        Hostname = "hostname",
        Domain = "domain",
        Os = "os",
        DeviceName = "device_name",
        Role = "role",
        Description = "description",
        Location = "location",
        Contact = "contact",
        VendorClass = "vendor_class",
        DhcpFingerprint = "dhcp_fingerprint",
        UserAgent = "user_agent",
        Server = "server",
        Service = "service",
        MudUrl = "mud_url",
        ManagementIp = "management_ip",
        /// JA3 TLS client fingerprint (MD5 hex).
        Ja3 = "ja3",
        /// JA4 TLS client fingerprint (FoxIO).
        Ja4 = "ja4",
        /// Passive TCP fingerprint of a SYN or SYN-ACK (see `TcpSignature`).
        TcpFingerprint = "tcp_fingerprint",
    }
}

vocabulary! {
    /// Device types, as used in the inventory.
    DeviceType {
        Plc = "plc",
        Rtu = "rtu",
        Ied = "ied",
        IoAdapter = "io-adapter",
        Hmi = "hmi",
        EngineeringWorkstation = "engineering-workstation",
        ScadaServer = "scada-server",
        Historian = "historian",
        Switch = "switch",
        Router = "router",
        Firewall = "firewall",
        WirelessAp = "wireless-ap",
        Printer = "printer",
        Camera = "camera",
        Nvr = "nvr",
        Phone = "phone",
        Workstation = "workstation",
        Server = "server",
        Iot = "iot",
        BuildingController = "building-controller",
        Medical = "medical",
        Unknown = "unknown",
    }
}

vocabulary! {
    /// Kinds of protocol violation that dissectors report.
    ViolationKind {
        Malformed = "malformed",
        IllegalFunction = "illegal-function",
        ReservedValue = "reserved-value",
        LengthMismatch = "length-mismatch",
        ChecksumError = "checksum-error",
        UnexpectedResponse = "unexpected-response",
        NonStandardPort = "non-standard-port",
    }
}

vocabulary! {
    /// What an alert is about. Every alert has exactly one category.
    AlertCategory {
        NewDevice = "new-device",
        NewConnection = "new-connection",
        NewProtocol = "new-protocol",
        UnauthorizedWrite = "unauthorized-write",
        PlcStop = "plc-stop",
        PlcStart = "plc-start",
        ProgramDownload = "program-download",
        ProgramUpload = "program-upload",
        FirmwareUpdate = "firmware-update",
        IllegalFunctionCode = "illegal-function-code",
        ProtocolViolation = "protocol-violation",
        PortScan = "port-scan",
        AddressScan = "address-scan",
        ArpSpoofing = "arp-spoofing",
        CleartextCredentials = "cleartext-credentials",
        IocIp = "ioc-ip",
        IocDomain = "ioc-domain",
        IocFingerprint = "ioc-fingerprint",
        MalwareBehaviour = "malware-behaviour",
        ExcessiveTraffic = "excessive-traffic",
        DeviceRestart = "device-restart",
        ConfigurationChange = "configuration-change",
        UnauthorizedInternet = "unauthorized-internet",
        RemoteAccess = "remote-access",
        DosFlood = "dos-flood",
    }
}

vocabulary! {
    /// The detection engine that raised an alert.
    DetectionEngine {
        /// Deviations from the learned baseline and the user's policy rules.
        Policy = "policy",
        /// Malformed or illegal traffic reported by the dissectors.
        Protocol = "protocol",
        /// Scans, spoofing, floods and traffic spikes.
        Anomaly = "anomaly",
        /// Threat intelligence matches and known malware behaviour.
        Malware = "malware",
        /// Risky operations: stops, programming, firmware, restarts, configuration, cleartext logins.
        Operational = "operational",
    }
}

vocabulary! {
    /// How urgent an alert is, lowest first.
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

vocabulary! {
    /// Where an alert is in the analyst's workflow.
    AlertStatus {
        /// Raised, nobody looked at it yet.
        New = "new",
        /// Seen by an analyst, still open.
        Acknowledged = "acknowledged",
        /// Dealt with; a recurrence raises a new alert.
        Closed = "closed",
        /// Accepted as normal: its deviation joined the baseline.
        Learned = "learned",
        /// Recurrences are counted but not shown as new.
        Muted = "muted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(Protocol::from_name(p.as_str()), Some(*p));
        }
        assert_eq!(Protocol::S7commPlus.as_str(), "s7comm-plus");
        assert_eq!(DeviceType::from_name("io-adapter"), Some(DeviceType::IoAdapter));
    }
}
