//! Alerts: what an analyst sees, and how repeats are grouped.

use palisade_model::{AlertCategory, AlertStatus, DetectionEngine, MacAddr, Protocol, Severity, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One alert. The JSON field names are a public contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stored id (0 until stored).
    pub id: i64,
    /// One line saying what happened.
    pub title: String,
    /// What it is about.
    pub category: AlertCategory,
    /// The engine that raised it.
    pub engine: DetectionEngine,
    /// How urgent it is.
    pub severity: Severity,
    /// Where it is in the workflow.
    pub status: AlertStatus,
    /// Source IP (who did it), where known.
    pub src_ip: Option<IpAddr>,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination IP (who it was done to), where there is one.
    pub dst_ip: Option<IpAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// Protocol involved.
    pub protocol: Option<Protocol>,
    /// First occurrence (capture time).
    pub first_seen: Timestamp,
    /// Last occurrence (capture time).
    pub last_seen: Timestamp,
    /// Occurrences grouped into this alert.
    pub count: u64,
    /// What happened and which baseline fact or rule it broke, in plain words.
    pub description: String,
    /// What to do about it.
    pub remediation: String,
    /// Path of the pcap file holding the packets around the event, once written.
    pub evidence: Option<String>,
    /// Packets in the evidence file.
    #[serde(default)]
    pub evidence_packets: u32,
    /// Identifies repeats: category, source, destination, protocol and detail.
    #[serde(skip)]
    pub group_key: String,
    /// The baseline items this alert deviated from (they join the baseline when the alert is learned).
    #[serde(skip)]
    pub baseline_items: Vec<String>,
}

/// What an engine reports; [`crate::Detector`] turns it into an alert or
/// adds it to the open alert with the same group key.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Category.
    pub category: AlertCategory,
    /// Engine.
    pub engine: DetectionEngine,
    /// Severity (usually [`default_severity`] of the category).
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Source IP.
    pub src_ip: Option<IpAddr>,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Destination IP.
    pub dst_ip: Option<IpAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// Protocol.
    pub protocol: Option<Protocol>,
    /// What distinguishes this alert from others of the same category and hosts
    /// (a function code, a rule number...).
    pub detail: String,
    /// First occurrence.
    pub first_seen: Timestamp,
    /// Last occurrence.
    pub last_seen: Timestamp,
    /// Occurrences.
    pub count: u64,
    /// Baseline items the alert deviated from (text form).
    pub baseline_items: Vec<String>,
    /// Repeats with other destinations join the same alert when false.
    pub group_by_destination: bool,
}

impl Draft {
    /// A draft with the category's engine and severity, at one time.
    pub fn new(category: AlertCategory, ts: Timestamp, title: String, description: String) -> Self {
        Draft {
            category,
            engine: default_engine(category),
            severity: default_severity(category),
            title,
            description,
            src_ip: None,
            src_mac: None,
            dst_ip: None,
            dst_mac: None,
            protocol: None,
            detail: String::new(),
            first_seen: ts,
            last_seen: ts,
            count: 1,
            baseline_items: Vec::new(),
            group_by_destination: true,
        }
    }

    /// The group key: repeats with the same key are one alert.
    pub fn group_key(&self) -> String {
        let side = |ip: Option<IpAddr>, mac: Option<MacAddr>| match (ip, mac) {
            (Some(ip), _) => ip.to_string(),
            (None, Some(mac)) => mac.to_string(),
            (None, None) => "-".into(),
        };
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.category,
            self.engine,
            side(self.src_ip, self.src_mac),
            if self.group_by_destination { side(self.dst_ip, self.dst_mac) } else { "-".into() },
            self.protocol.map_or("-", |p| p.as_str()),
            self.detail
        )
    }

    /// A new alert from the draft.
    pub fn into_alert(self) -> Alert {
        let group_key = self.group_key();
        Alert {
            id: 0,
            remediation: remediation(self.category).to_string(),
            title: self.title,
            category: self.category,
            engine: self.engine,
            severity: self.severity,
            status: AlertStatus::New,
            src_ip: self.src_ip,
            src_mac: self.src_mac,
            dst_ip: self.dst_ip,
            dst_mac: self.dst_mac,
            protocol: self.protocol,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            count: self.count,
            description: self.description,
            evidence: None,
            evidence_packets: 0,
            group_key,
            baseline_items: self.baseline_items,
        }
    }
}

impl Alert {
    /// Adds a repeat: widens the time span, counts it, and fills in addresses
    /// that were unknown when the alert was raised.
    pub fn absorb(&mut self, draft: &Draft) {
        self.first_seen = self.first_seen.min(draft.first_seen);
        self.last_seen = self.last_seen.max(draft.last_seen);
        self.count = self.count.saturating_add(draft.count);
        self.src_ip = self.src_ip.or(draft.src_ip);
        self.src_mac = self.src_mac.or(draft.src_mac);
        self.dst_ip = self.dst_ip.or(draft.dst_ip);
        self.dst_mac = self.dst_mac.or(draft.dst_mac);
        for item in &draft.baseline_items {
            if !self.baseline_items.contains(item) {
                self.baseline_items.push(item.clone());
            }
        }
    }
}

/// The engine that normally raises a category (policy rules may raise any
/// category under the `policy` engine).
pub fn default_engine(category: AlertCategory) -> DetectionEngine {
    use AlertCategory::*;
    match category {
        NewDevice | NewConnection | NewProtocol | UnauthorizedWrite | UnauthorizedInternet | RemoteAccess => DetectionEngine::Policy,
        IllegalFunctionCode | ProtocolViolation => DetectionEngine::Protocol,
        PortScan | AddressScan | ArpSpoofing | ExcessiveTraffic | DosFlood => DetectionEngine::Anomaly,
        IocIp | IocDomain | IocFingerprint | MalwareBehaviour => DetectionEngine::Malware,
        PlcStop | PlcStart | ProgramDownload | ProgramUpload | FirmwareUpdate | DeviceRestart | ConfigurationChange
        | CleartextCredentials => DetectionEngine::Operational,
    }
}

/// The usual severity of a category.
pub fn default_severity(category: AlertCategory) -> Severity {
    use AlertCategory::*;
    match category {
        PlcStop | ProgramDownload | FirmwareUpdate | MalwareBehaviour => Severity::Critical,
        UnauthorizedWrite | PlcStart | ProgramUpload | PortScan | ArpSpoofing | CleartextCredentials | IocIp | IocDomain
        | IocFingerprint | DeviceRestart | UnauthorizedInternet | DosFlood => Severity::High,
        NewDevice | NewProtocol | IllegalFunctionCode | AddressScan | ExcessiveTraffic | ConfigurationChange | RemoteAccess => {
            Severity::Medium
        }
        NewConnection | ProtocolViolation => Severity::Low,
    }
}

/// What an analyst should do, per category.
pub fn remediation(category: AlertCategory) -> &'static str {
    use AlertCategory::*;
    match category {
        NewDevice => "Identify the device and its owner. If it belongs on this network, learn the alert; otherwise disconnect it and check how it got access.",
        NewConnection => "Check with the owners of both devices whether this communication is expected. If it is, learn the alert; otherwise block it at the firewall.",
        NewProtocol => "Confirm that the device is meant to use this protocol (new software, a configuration change). If not, find the process responsible and disable the service.",
        UnauthorizedWrite => "Verify with operations that the source is allowed to change values in the controller, and check the written values. Restrict write access to the engineering and SCADA hosts.",
        PlcStop => "Confirm with operations that the stop was planned. If not, treat it as an incident: check the process state, the source host and its user.",
        PlcStart => "Confirm that the restart was planned and that the process was safe to start.",
        ProgramDownload => "Confirm that the program change was planned and approved; compare the controller program with the approved version.",
        ProgramUpload => "Check that the source is an engineering workstation allowed to read the controller program: an upload copies the plant's logic.",
        FirmwareUpdate => "Confirm that the firmware update was planned and that the image came from the vendor.",
        IllegalFunctionCode => "Find the sending host: reserved or illegal function codes come from faulty software, fuzzing or reconnaissance.",
        ProtocolViolation => "Check the sending device and software: malformed traffic means faults, an unusual implementation, or an attack tool. Protocols on non-standard ports can hide tunnels.",
        PortScan => "Find the scanning host and who runs it. Unless it is an approved scanner (add an exclusion), isolate it.",
        AddressScan => "Find the host sweeping the network. Unless it is an approved discovery tool (add an exclusion), isolate it.",
        ArpSpoofing => "Find the port of the MAC claiming the address and disconnect it; enable dynamic ARP inspection or static ARP entries for critical hosts.",
        CleartextCredentials => "Change the exposed password and move to an encrypted protocol (SSH, SFTP, HTTPS, SNMPv3, SMBv2+ with signing).",
        IocIp | IocDomain | IocFingerprint => "Treat the host as possibly compromised: isolate it, collect its logs and block the indicator at the perimeter.",
        MalwareBehaviour => "Treat it as an incident: isolate the source host, check the targeted devices and the process, and follow the incident response plan.",
        ExcessiveTraffic => "Check what the devices are transferring and why; large changes in volume can mean data theft, a fault or a misconfiguration.",
        DeviceRestart => "Confirm the restart was planned; unexpected restarts can mean tampering or a failing device.",
        ConfigurationChange => "Confirm the change (address, time, configuration) was planned and recorded.",
        UnauthorizedInternet => "Check why the device reaches the internet. If it should not, block it at the firewall and look for remote access or malware.",
        RemoteAccess => "Check who opened the remote session and whether it was approved. Require remote access through the approved jump host.",
        DosFlood => "Find the source of the flood of requests or logins and stop it; check the targeted device is still working.",
    }
}
