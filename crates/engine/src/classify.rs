//! Device classification: a device's type from what it said about itself
//! and what it did, with a confidence (percent) and the reasons.
//!
//! Each rule looks at one kind of evidence and may propose a type with a
//! confidence. The strongest proposal wins (the earlier rule on a tie);
//! other rules that agree add their reasons and a little confidence. The
//! confidence follows how directly the evidence speaks: a device's own
//! identity answer (95) beats what it did on the wire (62–90), which beats
//! descriptions and service hints (55–80), the OS alone (50) and, weakest,
//! the vendor of its MAC address (35–40).

use crate::behaviour::{Behaviour, Usage};
use crate::fingerprint::OsFamily;
use crate::inventory::SourcedFact;
use crate::observations::Service;
use palisade_model::{DeviceType, IdentityField, OperationKind, Protocol};
use std::collections::BTreeSet;

/// Polling this many controllers makes a SCADA server rather than an HMI.
const SCADA_MIN_CONTROLLERS: usize = 10;
/// Serving a general service to this many clients makes a server.
const SERVER_MIN_CLIENTS: usize = 3;
/// Asking this many devices for their identity is a discovery scan.
const SCAN_MIN_TARGETS: usize = 3;
/// CIP reads/writes answered before an adapter counts as fronting a controller.
const CIP_POLLS_FOR_CONTROLLER: u64 = 10;
/// Each agreeing rule adds this much confidence.
const AGREEMENT_BONUS: u8 = 3;

/// A proposal of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Proposed type.
    pub device_type: DeviceType,
    /// How sure the rule is (percent).
    pub confidence: u8,
    /// The evidence, in plain words.
    pub reason: String,
}

fn verdict(device_type: DeviceType, confidence: u8, reason: String) -> Option<Verdict> {
    Some(Verdict { device_type, confidence, reason })
}

/// The outcome for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Classification {
    /// The type.
    pub device_type: DeviceType,
    /// Confidence in percent (0 for unknown).
    pub confidence: u8,
    /// The reasons of every rule that agreed.
    pub reasons: Vec<String>,
}

/// What the rules look at for one device.
pub(crate) struct Evidence<'a> {
    /// Every fact, with its source (including OS facts derived from fingerprints).
    pub facts: &'a [SourcedFact],
    /// What it answered and asked for.
    pub behaviour: &'a Behaviour,
    /// It forwards traffic for other addresses.
    pub router: bool,
    /// The type of every device from the previous pass (all unknown in the first).
    pub peer_types: &'a [DeviceType],
}

/// Device types that answer industrial polls.
pub(crate) fn is_controller(t: DeviceType) -> bool {
    matches!(t, DeviceType::Plc | DeviceType::Rtu | DeviceType::Ied | DeviceType::IoAdapter | DeviceType::BuildingController)
}

/// Operations that change a controller's program, firmware or running state.
const PROGRAM_KINDS: &[OperationKind] =
    &[OperationKind::ProgramDownload, OperationKind::ProgramUpload, OperationKind::ProgramDelete, OperationKind::FirmwareUpdate];
/// Operations that change a controller's state or configuration.
const CONTROL_KINDS: &[OperationKind] = &[
    OperationKind::ControllerStop,
    OperationKind::ControllerStart,
    OperationKind::ColdRestart,
    OperationKind::WarmRestart,
    OperationKind::DeviceReset,
    OperationKind::ConfigurationChange,
];

impl Evidence<'_> {
    fn facts_of(&self, field: IdentityField) -> impl Iterator<Item = &SourcedFact> {
        self.facts.iter().filter(move |f| f.field == field)
    }

    /// OS families named by any source, with the source of the first.
    fn os_families(&self) -> BTreeSet<OsFamily> {
        self.facts_of(IdentityField::Os).filter_map(|f| OsFamily::of_os_name(&f.value)).collect()
    }

    /// The MAC vendor from the IEEE registry.
    fn oui_vendor(&self) -> Option<&str> {
        self.facts_of(IdentityField::Vendor).find(|f| f.source == "oui").map(|f| f.value.as_str())
    }

    /// The industrial services it polled, as (protocol, usage).
    fn polled(&self) -> impl Iterator<Item = (Protocol, &Usage)> {
        self.behaviour.used_protocols().filter(|(p, u)| p.is_industrial() && u.polls() > 0)
    }

    /// Operations of the given kinds it asked over industrial protocols.
    fn asked(&self, kinds: &[OperationKind]) -> u64 {
        self.behaviour
            .used_protocols()
            .filter(|(p, _)| p.is_industrial())
            .map(|(_, u)| kinds.iter().map(|k| u.operations.get(*k)).sum::<u64>())
            .sum()
    }

    fn peer_type(&self, peer: usize) -> DeviceType {
        self.peer_types.get(peer).copied().unwrap_or(DeviceType::Unknown)
    }
}

/// Role facts and the type each points to, with the rule's confidence.
/// Identity roles (what a device says it is) are strongest; roles a
/// dissector inferred from what the device did come next.
const ROLE_TYPES: &[(&str, DeviceType, u8)] = &[
    ("plc", DeviceType::Plc, 95),
    ("ied", DeviceType::Ied, 95),
    ("io-adapter", DeviceType::IoAdapter, 95),
    ("io-device", DeviceType::IoAdapter, 95),
    ("building-controller", DeviceType::BuildingController, 95),
    ("switch", DeviceType::Switch, 95),
    ("wireless-ap", DeviceType::WirelessAp, 95),
    ("phone", DeviceType::Phone, 95),
    ("printer", DeviceType::Printer, 95),
    ("camera", DeviceType::Camera, 95),
    ("router", DeviceType::Router, 90),
    ("hmi", DeviceType::Hmi, 90),
    ("controller", DeviceType::Plc, 85),
    ("rtu", DeviceType::Rtu, 85),
    ("outstation", DeviceType::Rtu, 85),
    ("controlled-station", DeviceType::Rtu, 85),
    ("io-controller", DeviceType::Plc, 85),
    ("engineering-workstation", DeviceType::EngineeringWorkstation, 85),
    ("domain-controller", DeviceType::Server, 85),
    ("ethercat-master", DeviceType::Plc, 80),
    ("dns-server", DeviceType::Server, 70),
    ("gateway", DeviceType::Iot, 60),
    ("opcua-server", DeviceType::Server, 60),
    ("scada-client", DeviceType::ScadaServer, 55),
];

/// A protocol's role fact about the device (its own answer, or what its
/// dissector saw it do).
fn by_role(e: &Evidence<'_>) -> Vec<Verdict> {
    let mut out = Vec::new();
    for f in e.facts_of(IdentityField::Role) {
        if let Some((_, t, c)) = ROLE_TYPES.iter().find(|(r, _, _)| *r == f.value) {
            // A DHCP server naming a gateway is hearsay, weaker than the device's own word.
            let c = if f.source == "dhcp" { (*c).min(70) } else { *c };
            out.push(Verdict { device_type: *t, confidence: c, reason: format!("{} says role {}", f.source, f.value) });
        }
    }
    out
}

/// MAC vendors whose forwarding devices are firewalls.
const FIREWALL_VENDORS: &[&str] = &["Fortinet", "Palo Alto Networks", "Check Point", "SonicWall", "WatchGuard", "Sophos"];

/// Forwards traffic for other addresses: a router, or a firewall when a
/// firewall maker built it.
fn by_forwarding(e: &Evidence<'_>) -> Option<Verdict> {
    if !e.router {
        return None;
    }
    let reason = "forwards traffic for other addresses (seen with internet or many addresses, or a virtual router MAC)";
    match e.oui_vendor().filter(|v| FIREWALL_VENDORS.iter().any(|f| v.starts_with(f))) {
        Some(vendor) => verdict(DeviceType::Firewall, 92, format!("{reason}, and {vendor} makes firewalls")),
        None => verdict(DeviceType::Router, 90, reason.into()),
    }
}

/// Answers CIP data reads and writes cyclically: a Logix controller, or the
/// communications adapter that fronts one (beats the adapter's identity).
fn by_cip_data(e: &Evidence<'_>) -> Option<Verdict> {
    let polls: u64 =
        e.behaviour.served_protocols().filter(|(p, _)| matches!(p, Protocol::Cip | Protocol::Enip)).map(|(_, u)| u.polls()).sum();
    (polls >= CIP_POLLS_FOR_CONTROLLER).then(|| Verdict {
        device_type: DeviceType::Plc,
        confidence: 96,
        reason: format!("answers {polls} CIP data reads/writes (a controller, or the adapter in front of one)"),
    })
}

/// The controller type that answering a protocol's polls shows.
fn controller_type(p: Protocol) -> Option<DeviceType> {
    match p {
        Protocol::Dnp3 | Protocol::Iec104 => Some(DeviceType::Rtu),
        Protocol::Mms | Protocol::Goose => Some(DeviceType::Ied),
        Protocol::Bacnet => Some(DeviceType::BuildingController),
        Protocol::Profinet => Some(DeviceType::IoAdapter),
        Protocol::Modbus | Protocol::S7comm | Protocol::S7commPlus | Protocol::Enip | Protocol::Cip | Protocol::Fins => {
            Some(DeviceType::Plc)
        }
        _ => None,
    }
}

/// Answers industrial reads/writes: a controller, of the kind the protocol serves.
fn by_answering_polls(e: &Evidence<'_>) -> Vec<Verdict> {
    e.behaviour
        .served_protocols()
        .filter(|(_, u)| u.polls() > 0)
        .filter_map(|(p, u)| {
            let t = controller_type(p)?;
            Some(Verdict {
                device_type: t,
                confidence: 85,
                reason: format!("answers {p} reads/writes from {} client(s)", u.peers.len().max(1)),
            })
        })
        .collect()
}

/// Historian server ports: OSIsoft PI Data Archive and AF, GE Proficy, AVEVA (Wonderware) Historian.
const HISTORIAN_PORTS: &[(u16, &str)] =
    &[(5450, "OSIsoft PI Data Archive"), (5457, "OSIsoft PI AF"), (14000, "GE Proficy Historian"), (32568, "AVEVA Historian")];

/// Serves a historian product's port: a historian.
fn by_historian_port(e: &Evidence<'_>) -> Option<Verdict> {
    let listening: BTreeSet<String> = e.facts_of(IdentityField::Service).map(|f| f.value.clone()).collect();
    HISTORIAN_PORTS.iter().find_map(|(port, product)| {
        let served = e.behaviour.serves(Service::Tcp(*port)).map(|u| u.peers.len());
        let open = listening.contains(&format!("tcp/{port}"));
        match (served, open) {
            (Some(n), _) => verdict(DeviceType::Historian, 80, format!("serves the {product} port {port} to {} client(s)", n.max(1))),
            (None, true) => verdict(DeviceType::Historian, 70, format!("listens on the {product} port {port}")),
            (None, false) => None,
        }
    })
}

/// Changes controllers' programs, firmware or running state: an engineering workstation.
fn by_engineering(e: &Evidence<'_>) -> Option<Verdict> {
    let program = e.asked(PROGRAM_KINDS);
    let control = e.asked(CONTROL_KINDS);
    if program > 0 {
        verdict(DeviceType::EngineeringWorkstation, 88, format!("transferred programs or firmware to controllers ({program} operations)"))
    } else if control > 0 {
        verdict(
            DeviceType::EngineeringWorkstation,
            75,
            format!("stopped, started, reset or reconfigured controllers ({control} operations)"),
        )
    } else {
        None
    }
}

/// Polls controllers: many (or DNP3/IEC 104 outstations) make a SCADA
/// server, a few make an HMI.
fn by_polling(e: &Evidence<'_>) -> Option<Verdict> {
    let mut controllers = BTreeSet::new();
    let mut protocols = Vec::new();
    let mut writes = 0;
    for (p, u) in e.polled() {
        controllers.extend(u.peers.iter().copied());
        protocols.push(p.as_str());
        writes += u.operations.get(OperationKind::Write);
    }
    let n = controllers.len();
    let list = protocols.join(", ");
    let telecontrol = protocols.iter().any(|p| *p == "dnp3" || *p == "iec104");
    if n >= SCADA_MIN_CONTROLLERS {
        verdict(DeviceType::ScadaServer, 80, format!("polls {n} controllers over {list}"))
    } else if telecontrol {
        verdict(DeviceType::ScadaServer, 75, format!("polls outstations as a telecontrol master over {list}"))
    } else if n > 0 && writes > 0 {
        verdict(DeviceType::Hmi, 72, format!("polls {n} controller(s) over {list} and writes set points"))
    } else if n > 0 {
        verdict(DeviceType::Hmi, 68, format!("polls {n} controller(s) over {list}"))
    } else {
        None
    }
}

/// Asks several devices for their identity over industrial protocols
/// without polling any (ListIdentity, SZL, Read Device Id scans): an
/// engineering workstation looking for controllers.
fn by_discovery(e: &Evidence<'_>) -> Option<Verdict> {
    if e.polled().next().is_some() {
        return None;
    }
    let targets: BTreeSet<usize> = e
        .behaviour
        .used_protocols()
        .filter(|(p, u)| p.is_industrial() && u.operations.get(OperationKind::Identify) > 0)
        .flat_map(|(_, u)| u.peers.iter().copied())
        .collect();
    (targets.len() >= SCAN_MIN_TARGETS).then(|| Verdict {
        device_type: DeviceType::EngineeringWorkstation,
        confidence: 70,
        reason: format!("asks {} devices for their industrial identity without polling them", targets.len()),
    })
}

/// Services used to configure devices by hand.
fn is_management_service(s: &Service) -> bool {
    matches!(
        s,
        Service::Protocol(Protocol::Http | Protocol::Tls | Protocol::Ssh | Protocol::Telnet | Protocol::Vnc | Protocol::Ftp)
            | Service::Tcp(80 | 443 | 22 | 23 | 21 | 5900)
    )
}

/// Opens web or remote sessions to controllers without polling any: an
/// engineering workstation configuring them.
fn by_managing_controllers(e: &Evidence<'_>) -> Option<Verdict> {
    if e.polled().next().is_some() || e.peer_types.is_empty() {
        return None;
    }
    let controllers: BTreeSet<usize> = e
        .behaviour
        .used
        .iter()
        .filter(|(s, _)| is_management_service(s))
        .flat_map(|(_, u)| u.peers.iter().copied())
        .filter(|p| is_controller(e.peer_type(*p)))
        .collect();
    (!controllers.is_empty()).then(|| Verdict {
        device_type: DeviceType::EngineeringWorkstation,
        confidence: 62,
        reason: format!("opens web or remote sessions to {} controller(s) without polling them", controllers.len()),
    })
}

/// Cameras a video recorder talks with, at least.
const NVR_MIN_CAMERAS: usize = 3;

/// Talks with several cameras: a network video recorder.
fn by_cameras(e: &Evidence<'_>) -> Option<Verdict> {
    let b = e.behaviour;
    let cameras: BTreeSet<usize> = b
        .used
        .values()
        .chain(b.served.values())
        .flat_map(|u| u.peers.iter().copied())
        .filter(|p| e.peer_type(*p) == DeviceType::Camera)
        .collect();
    (cameras.len() >= NVR_MIN_CAMERAS).then(|| Verdict {
        device_type: DeviceType::Nvr,
        confidence: 80,
        reason: format!("collects video or status from {} cameras", cameras.len()),
    })
}

/// Words in a device's own descriptions (SNMP sysDescr, LLDP/CDP, HTTP
/// Server, SSDP, mDNS services, DHCP vendor class, model names) and the
/// type each points to. The first word found, in this order, decides; a
/// word ending in `*` also matches as the start of a longer word (model
/// numbers such as C2960X).
const DESCRIPTION_WORDS: &[(&str, DeviceType)] = &[
    ("network video recorder", DeviceType::Nvr),
    ("nvr", DeviceType::Nvr),
    ("dvr", DeviceType::Nvr),
    ("laserjet", DeviceType::Printer),
    ("officejet", DeviceType::Printer),
    ("deskjet", DeviceType::Printer),
    ("designjet", DeviceType::Printer),
    ("pagewide", DeviceType::Printer),
    ("jetdirect", DeviceType::Printer),
    ("multi-environment", DeviceType::Printer),
    ("printer", DeviceType::Printer),
    ("_ipp._tcp", DeviceType::Printer),
    ("_ipps._tcp", DeviceType::Printer),
    ("_printer._tcp", DeviceType::Printer),
    ("_pdl-datastream._tcp", DeviceType::Printer),
    ("bizhub", DeviceType::Printer),
    ("imagerunner", DeviceType::Printer),
    ("camera", DeviceType::Camera),
    ("_axis-video._tcp", DeviceType::Camera),
    ("hikvision", DeviceType::Camera),
    ("app-webs", DeviceType::Camera),
    ("onvif", DeviceType::Camera),
    ("dahua", DeviceType::Camera),
    ("ip phone", DeviceType::Phone),
    ("voip", DeviceType::Phone),
    ("polycom", DeviceType::Phone),
    ("yealink", DeviceType::Phone),
    ("firewall", DeviceType::Firewall),
    ("fortigate", DeviceType::Firewall),
    ("pan-os", DeviceType::Firewall),
    ("sonicwall", DeviceType::Firewall),
    ("adaptive security appliance", DeviceType::Firewall),
    ("access point", DeviceType::WirelessAp),
    ("aironet", DeviceType::WirelessAp),
    ("switch", DeviceType::Switch),
    ("catalyst", DeviceType::Switch),
    ("c2960*", DeviceType::Switch),
    ("c3560*", DeviceType::Switch),
    ("c3750*", DeviceType::Switch),
    ("c3850*", DeviceType::Switch),
    ("c9200*", DeviceType::Switch),
    ("c9300*", DeviceType::Switch),
    ("procurve", DeviceType::Switch),
    ("stratix", DeviceType::Switch),
    ("router", DeviceType::Router),
    ("routeros", DeviceType::Router),
    ("windows server", DeviceType::Server),
    ("historian", DeviceType::Historian),
    ("pi data archive", DeviceType::Historian),
    ("infusion", DeviceType::Medical),
    ("patient monitor", DeviceType::Medical),
];

/// Fields that carry a device's description of itself.
const DESCRIPTION_FIELDS: &[IdentityField] = &[
    IdentityField::Description,
    IdentityField::Model,
    IdentityField::ProductName,
    IdentityField::Server,
    IdentityField::Service,
    IdentityField::VendorClass,
    IdentityField::Os,
];

/// True when `word` occurs in `text` and is not part of a longer word (a
/// trailing `*` allows a longer word that starts with it).
fn has_word(text: &str, word: &str) -> bool {
    let outside = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let (word, prefix) = match word.strip_suffix('*') {
        Some(w) => (w, true),
        None => (word, false),
    };
    text.match_indices(word).any(|(at, _)| {
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let after = text.get(at + word.len()..).and_then(|t| t.chars().next());
        outside(before) && (prefix || outside(after))
    })
}

/// A device's own description names its kind (e.g. SNMP sysDescr "HP
/// LaserJet", HTTP Server "App-webs", mDNS `_ipp._tcp`).
fn by_description(e: &Evidence<'_>) -> Option<Verdict> {
    e.facts.iter().filter(|f| DESCRIPTION_FIELDS.contains(&f.field) && f.source != "oui").find_map(|f| {
        let text = f.value.to_ascii_lowercase();
        let (word, t) = DESCRIPTION_WORDS.iter().find(|(w, _)| has_word(&text, w))?;
        let confidence = if f.field == IdentityField::VendorClass { 70 } else { 80 };
        let word = word.trim_end_matches('*');
        verdict(*t, confidence, format!("{} {} {:?} mentions {word:?}", f.source, f.field, f.value))
    })
}

/// The DHCP client's parameter request list is one that a kind of device
/// sends (a Cisco IP phone asks for its TFTP server).
fn by_dhcp_client(e: &Evidence<'_>) -> Option<Verdict> {
    e.facts_of(IdentityField::DhcpFingerprint).find_map(|f| {
        let m = crate::fingerprint::dhcp_os(&f.value)?;
        verdict(m.device_type?, 70, format!("its DHCP requests are those of {} ({})", m.os, f.value))
    })
}

/// Listening ports that only one kind of device usually offers.
const DEVICE_PORTS: &[(&str, DeviceType, &str)] = &[
    ("tcp/9100", DeviceType::Printer, "raw printing (JetDirect)"),
    ("tcp/631", DeviceType::Printer, "IPP printing"),
    ("tcp/515", DeviceType::Printer, "LPD printing"),
    ("tcp/554", DeviceType::Camera, "RTSP video"),
];

/// Listens on a port that printers or cameras offer.
fn by_listening_port(e: &Evidence<'_>) -> Option<Verdict> {
    e.facts_of(IdentityField::Service).find_map(|f| {
        let (port, t, what) = DEVICE_PORTS.iter().find(|(p, _, _)| *p == f.value)?;
        verdict(*t, 60, format!("listens on {port} ({what})"))
    })
}

/// General network services and the words for them.
const SERVER_SERVICES: &[(Service, &str)] = &[
    (Service::Protocol(Protocol::Dns), "DNS"),
    (Service::Protocol(Protocol::Dhcp), "DHCP"),
    (Service::Protocol(Protocol::Smb), "file shares (SMB)"),
    (Service::Protocol(Protocol::Ntp), "time (NTP)"),
    (Service::Protocol(Protocol::Mqtt), "MQTT"),
    (Service::Protocol(Protocol::Http), "web pages"),
    (Service::Tcp(88), "Kerberos"),
    (Service::Tcp(389), "LDAP"),
    (Service::Tcp(1433), "SQL Server"),
    (Service::Tcp(3306), "MySQL"),
    (Service::Tcp(5432), "PostgreSQL"),
    (Service::Tcp(1521), "Oracle"),
];

/// Serves DNS, DHCP, directory, file, database or time services to
/// several clients, or says it serves DNS/DHCP: a server.
fn by_serving(e: &Evidence<'_>) -> Option<Verdict> {
    let said = e.facts_of(IdentityField::Service).find(|f| f.value == "dns-server" || f.value == "dhcp-server");
    if let Some(f) = said {
        return verdict(DeviceType::Server, 75, format!("{} shows it is a {}", f.source, f.value));
    }
    SERVER_SERVICES.iter().find_map(|(service, what)| {
        let n = e.behaviour.serves(*service)?.peers.len();
        (n >= SERVER_MIN_CLIENTS).then(|| Verdict {
            device_type: DeviceType::Server,
            confidence: 75,
            reason: format!("serves {what} to {n} clients"),
        })
    })
}

/// Polls many devices over SNMP: a network management server.
fn by_network_management(e: &Evidence<'_>) -> Option<Verdict> {
    let n = e.behaviour.used.get(&Service::Protocol(Protocol::Snmp)).map_or(0, |u| u.peers.len());
    (n >= SERVER_MIN_CLIENTS).then(|| Verdict {
        device_type: DeviceType::Server,
        confidence: 70,
        reason: format!("manages {n} devices over SNMP (a network management server)"),
    })
}

/// Sends raw port-scan probes: a scanner, which is a server or appliance.
fn by_scanning(e: &Evidence<'_>) -> Option<Verdict> {
    let probe = e
        .facts_of(IdentityField::TcpFingerprint)
        .any(|f| crate::fingerprint::tcp_os(&f.value).is_some_and(|m| m.family == OsFamily::Scanner));
    probe.then(|| Verdict { device_type: DeviceType::Server, confidence: 50, reason: "sends port-scan probes (a scanning server)".into() })
}

/// The OS alone: Windows or macOS without any server role is a workstation,
/// Android a phone, a network OS that forwards nothing a switch; with no
/// OS known, the Windows name resolver's queries.
fn by_os(e: &Evidence<'_>) -> Option<Verdict> {
    let families = e.os_families();
    if families.contains(&OsFamily::Network) && !e.router {
        verdict(DeviceType::Switch, 55, "runs a network OS and forwards no traffic (a switch)".into())
    } else if families.contains(&OsFamily::Windows) {
        verdict(DeviceType::Workstation, 50, "runs Windows and serves nothing (a workstation)".into())
    } else if families.contains(&OsFamily::Android) {
        verdict(DeviceType::Phone, 50, "runs Android".into())
    } else if families.contains(&OsFamily::Apple) {
        verdict(DeviceType::Workstation, 45, "runs macOS/iOS".into())
    } else if families.is_empty() && uses_windows_name_resolution(e.behaviour) {
        verdict(DeviceType::Workstation, 45, "resolves names over NetBIOS and LLMNR as Windows does (a workstation)".into())
    } else {
        None
    }
}

/// Asks for names over both NetBIOS and LLMNR: the Windows resolver's habit.
fn uses_windows_name_resolution(b: &Behaviour) -> bool {
    [Protocol::Nbns, Protocol::Llmnr].iter().all(|p| b.used.contains_key(&Service::Protocol(*p)))
}

/// An HP MAC with an embedded TCP stack is a printer (HP's PCs and servers run Windows or Linux).
fn by_hp_embedded(e: &Evidence<'_>) -> Option<Verdict> {
    let hp = e.oui_vendor().is_some_and(|v| v.starts_with("Hewlett Packard") || v.starts_with("HP "));
    let families = e.os_families();
    let embedded = families.contains(&OsFamily::Embedded) && !families.contains(&OsFamily::Windows) && !families.contains(&OsFamily::Linux);
    (hp && embedded).then(|| Verdict {
        device_type: DeviceType::Printer,
        confidence: 55,
        reason: "HP MAC vendor with an embedded TCP stack (a printer, not a PC)".into(),
    })
}

/// MAC vendors that make mostly one kind of device, and that kind.
const VENDOR_TYPES: &[(&str, DeviceType, u8)] = &[
    ("Hikvision", DeviceType::Camera, 40),
    ("Hangzhou Hikvision", DeviceType::Camera, 40),
    ("Axis Communications", DeviceType::Camera, 40),
    ("Zhejiang Dahua", DeviceType::Camera, 40),
    ("Vivotek", DeviceType::Camera, 40),
    ("Hanwha", DeviceType::Camera, 40),
    ("Mobotix", DeviceType::Camera, 40),
    ("Brother Industries", DeviceType::Printer, 40),
    ("Lexmark", DeviceType::Printer, 40),
    ("Xerox", DeviceType::Printer, 40),
    ("Kyocera", DeviceType::Printer, 40),
    ("Ricoh", DeviceType::Printer, 40),
    ("Zebra Technologies", DeviceType::Printer, 40),
    ("Polycom", DeviceType::Phone, 40),
    ("Yealink", DeviceType::Phone, 40),
    ("Grandstream", DeviceType::Phone, 40),
    ("Ruckus", DeviceType::WirelessAp, 40),
    ("Aruba", DeviceType::WirelessAp, 40),
    ("Fortinet", DeviceType::Firewall, 40),
    ("Palo Alto Networks", DeviceType::Firewall, 40),
    ("SCHWEITZER ENGINEERING", DeviceType::Ied, 40),
    ("Schweitzer Engineering", DeviceType::Ied, 40),
    ("VMware", DeviceType::Server, 40),
    ("Microsoft Corporation", DeviceType::Server, 35),
    ("Rockwell Automation", DeviceType::Plc, 35),
    ("TELEMECANIQUE", DeviceType::Plc, 35),
    ("Schneider Electric", DeviceType::Plc, 35),
    ("WAGO", DeviceType::Plc, 35),
    ("Phoenix Contact", DeviceType::Plc, 35),
    ("Beckhoff", DeviceType::Plc, 35),
    ("OMRON", DeviceType::Plc, 35),
    ("Omron", DeviceType::Plc, 35),
    ("B&R Industrial", DeviceType::Plc, 35),
    ("Johnson Controls", DeviceType::BuildingController, 35),
    ("Tridium", DeviceType::BuildingController, 35),
    ("Delta Controls", DeviceType::BuildingController, 35),
    ("Distech", DeviceType::BuildingController, 35),
];

/// The weakest hint: the vendor the MAC is registered to (virtual machine
/// MACs, VMware and Hyper-V, point to servers).
fn by_vendor(e: &Evidence<'_>) -> Option<Verdict> {
    let vendor = e.oui_vendor()?;
    let (_, t, c) = VENDOR_TYPES.iter().find(|(name, _, _)| vendor.starts_with(name))?;
    verdict(*t, *c, format!("MAC vendor {vendor}"))
}

/// Every rule's proposals, strongest rules first (ties go to the earlier).
fn proposals(e: &Evidence<'_>) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = by_forwarding(e).into_iter().collect();
    out.extend(by_cip_data(e));
    out.extend(by_role(e));
    out.extend(by_answering_polls(e));
    out.extend(by_engineering(e));
    out.extend(by_historian_port(e));
    out.extend(by_polling(e));
    out.extend(by_cameras(e));
    out.extend(by_description(e));
    out.extend(by_serving(e));
    out.extend(by_discovery(e));
    out.extend(by_network_management(e));
    out.extend(by_managing_controllers(e));
    out.extend(by_dhcp_client(e));
    out.extend(by_listening_port(e));
    out.extend(by_hp_embedded(e));
    out.extend(by_scanning(e));
    out.extend(by_os(e));
    out.extend(by_vendor(e));
    out
}

/// Classifies one device.
pub(crate) fn classify(e: &Evidence<'_>) -> Classification {
    let all = proposals(e);
    let Some(best) = all.iter().fold(None::<&Verdict>, |best, v| match best {
        Some(b) if b.confidence >= v.confidence => Some(b),
        _ => Some(v),
    }) else {
        return Classification { device_type: DeviceType::Unknown, confidence: 0, reasons: Vec::new() };
    };
    let agreeing: Vec<&Verdict> = all.iter().filter(|v| v.device_type == best.device_type && !std::ptr::eq(*v, best)).collect();
    let bonus = u8::try_from(agreeing.len()).unwrap_or(u8::MAX).saturating_mul(AGREEMENT_BONUS);
    let mut reasons = vec![best.reason.clone()];
    for v in agreeing {
        if !reasons.contains(&v.reason) {
            reasons.push(v.reason.clone());
        }
    }
    Classification { device_type: best.device_type, confidence: best.confidence.saturating_add(bonus).min(99), reasons }
}

/// The Purdue level of a classified device: 0 field I/O, 1 control, 2
/// supervision, 3 site operations, 4 enterprise; `None` for network gear
/// (it spans levels) and unknown devices.
pub(crate) fn purdue_level(t: DeviceType, e: &Evidence<'_>) -> Option<u8> {
    use DeviceType::*;
    match t {
        IoAdapter => Some(0),
        Plc | Rtu | Ied | BuildingController => Some(1),
        Hmi | EngineeringWorkstation | ScadaServer => Some(2),
        // A historian fed by another historian is the enterprise copy.
        Historian => Some(if clients_of(e).any(|p| e.peer_type(p) == Historian) { 4 } else { 3 }),
        // A server of OT devices belongs to site operations.
        Server => Some(if clients_of(e).any(|p| purdue_of_type(e.peer_type(p)).is_some_and(|l| l <= 2)) { 3 } else { 4 }),
        Workstation | Printer | Phone | Camera | Nvr | Iot | Medical => Some(4),
        Switch | Router | Firewall | WirelessAp | Unknown => None,
    }
}

/// The usual level of a type (for judging peers).
fn purdue_of_type(t: DeviceType) -> Option<u8> {
    use DeviceType::*;
    match t {
        IoAdapter => Some(0),
        Plc | Rtu | Ied | BuildingController => Some(1),
        Hmi | EngineeringWorkstation | ScadaServer => Some(2),
        _ => None,
    }
}

/// The devices that asked this one for a service.
fn clients_of<'a>(e: &'a Evidence<'_>) -> impl Iterator<Item = usize> + 'a {
    e.behaviour.served.values().flat_map(|u| u.peers.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observations::OperationCounts;
    use palisade_model::Timestamp;

    fn fact(field: IdentityField, value: &str, source: &str) -> SourcedFact {
        SourcedFact { field, value: value.into(), source: source.into(), first_seen: Timestamp(1), last_seen: Timestamp(2) }
    }

    fn usage(peers: &[usize], ops: &[(OperationKind, u64)]) -> Usage {
        let mut operations = OperationCounts::default();
        for (k, n) in ops {
            operations.add(*k, *n);
        }
        Usage { peers: peers.iter().copied().collect(), operations, bytes: 1000 }
    }

    fn served(service: Service, u: Usage) -> Behaviour {
        let mut b = Behaviour::default();
        b.served.insert(service, u);
        b
    }

    fn used(list: Vec<(Service, Usage)>) -> Behaviour {
        let mut b = Behaviour::default();
        b.used.extend(list);
        b
    }

    /// Classifies with the given facts and behaviour (peers' types from an earlier pass).
    fn run(facts: &[SourcedFact], behaviour: &Behaviour, peer_types: &[DeviceType]) -> Classification {
        classify(&Evidence { facts, behaviour, router: false, peer_types })
    }

    fn kind(facts: &[SourcedFact], behaviour: &Behaviour) -> DeviceType {
        run(facts, behaviour, &[]).device_type
    }

    const READ: OperationKind = OperationKind::Read;
    const WRITE: OperationKind = OperationKind::Write;
    fn p(protocol: Protocol) -> Service {
        Service::Protocol(protocol)
    }

    #[test]
    fn nothing_known_is_unknown() {
        let c = run(&[], &Behaviour::default(), &[]);
        assert_eq!((c.device_type, c.confidence, c.reasons.len()), (DeviceType::Unknown, 0, 0));
    }

    #[test]
    fn a_protocols_identity_beats_the_mac_vendor() {
        let facts = [fact(IdentityField::Role, "plc", "s7comm"), fact(IdentityField::Vendor, "Axis Communications AB", "oui")];
        let c = run(&facts, &Behaviour::default(), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Plc, 95));
        assert_eq!(c.reasons, vec!["s7comm says role plc".to_string()]);
    }

    #[test]
    fn agreeing_rules_add_reasons_and_confidence() {
        let facts = [fact(IdentityField::Role, "controller", "modbus"), fact(IdentityField::Vendor, "Rockwell Automation", "oui")];
        let c = run(&facts, &served(p(Protocol::Modbus), usage(&[3], &[(READ, 10)])), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Plc, 85 + 2 * AGREEMENT_BONUS));
        assert_eq!(c.reasons.len(), 3);
        let strong = [fact(IdentityField::Role, "plc", "s7comm"), fact(IdentityField::Vendor, "Rockwell Automation", "oui")];
        assert_eq!(run(&strong, &served(p(Protocol::S7comm), usage(&[3], &[(READ, 10)])), &[]).confidence, 99, "capped");
    }

    #[test]
    fn routers_forward_and_firewall_makers_make_firewalls() {
        let forwarding =
            |facts: &[SourcedFact]| classify(&Evidence { facts, behaviour: &Behaviour::default(), router: true, peer_types: &[] });
        let c = forwarding(&[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Router, 90));
        let c = forwarding(&[fact(IdentityField::Vendor, "Fortinet, Inc.", "oui")]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Firewall, 92 + AGREEMENT_BONUS));
    }

    #[test]
    fn a_network_os_that_forwards_nothing_is_a_switch() {
        let ios = [fact(IdentityField::Os, "Cisco IOS", "snmp")];
        assert_eq!(kind(&ios, &Behaviour::default()), DeviceType::Switch);
        let c = classify(&Evidence { facts: &ios, behaviour: &Behaviour::default(), router: true, peer_types: &[] });
        assert_eq!(c.device_type, DeviceType::Router);
    }

    #[test]
    fn dhcp_hearsay_is_weaker_than_a_devices_own_word() {
        let facts = [fact(IdentityField::Role, "router", "dhcp")];
        assert_eq!(run(&facts, &Behaviour::default(), &[]).confidence, 70);
    }

    #[test]
    fn answering_polls_makes_a_controller_by_protocol() {
        let cases = [
            (Protocol::Modbus, DeviceType::Plc),
            (Protocol::S7comm, DeviceType::Plc),
            (Protocol::Dnp3, DeviceType::Rtu),
            (Protocol::Iec104, DeviceType::Rtu),
            (Protocol::Mms, DeviceType::Ied),
            (Protocol::Bacnet, DeviceType::BuildingController),
        ];
        for (protocol, want) in cases {
            assert_eq!(kind(&[], &served(p(protocol), usage(&[1], &[(READ, 3)]))), want, "{protocol}");
        }
        // Being asked only for identity is not being polled.
        assert_eq!(kind(&[], &served(p(Protocol::Modbus), usage(&[1], &[(OperationKind::Identify, 3)]))), DeviceType::Unknown);
    }

    #[test]
    fn an_adapter_answering_cip_data_polls_fronts_a_controller() {
        let facts = [fact(IdentityField::Role, "io-adapter", "enip")];
        let polled = served(p(Protocol::Cip), usage(&[4], &[(READ, 40)]));
        assert_eq!(kind(&facts, &polled), DeviceType::Plc);
        let io_only = served(p(Protocol::Cip), usage(&[4], &[(READ, 2)]));
        assert_eq!(kind(&facts, &io_only), DeviceType::IoAdapter);
    }

    #[test]
    fn historians_by_port() {
        let c = run(&[], &served(Service::Tcp(5450), usage(&[7], &[])), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Historian, 80));
        assert!(c.reasons[0].contains("OSIsoft PI"));
        let listening = [fact(IdentityField::Service, "tcp/14000", "tcp")];
        assert_eq!(run(&listening, &Behaviour::default(), &[]).confidence, 70);
    }

    #[test]
    fn engineering_operations_make_an_engineering_workstation() {
        let transfer = used(vec![(p(Protocol::S7comm), usage(&[2], &[(OperationKind::ProgramDownload, 1), (READ, 50)]))]);
        let c = run(&[], &transfer, &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::EngineeringWorkstation, 88));
        let stop = used(vec![(p(Protocol::Modbus), usage(&[2], &[(OperationKind::ControllerStop, 1), (READ, 5)]))]);
        assert_eq!(run(&[], &stop, &[]).confidence, 75);
    }

    #[test]
    fn many_controllers_or_outstations_make_a_scada_server_few_an_hmi() {
        let many: Vec<usize> = (1..=12).collect();
        let scada =
            used(vec![(p(Protocol::Modbus), usage(&many[..8], &[(READ, 9)])), (p(Protocol::S7comm), usage(&many[8..], &[(READ, 9)]))]);
        let c = run(&[], &scada, &[]);
        assert_eq!(c.device_type, DeviceType::ScadaServer);
        assert!(c.reasons[0].starts_with("polls 12 controllers over modbus, s7comm"), "{:?}", c.reasons);
        let master = used(vec![(p(Protocol::Dnp3), usage(&[1, 2], &[(READ, 9)]))]);
        assert_eq!(kind(&[], &master), DeviceType::ScadaServer);
        let setpoints = used(vec![(p(Protocol::Modbus), usage(&[1, 2, 3], &[(READ, 9), (WRITE, 2)]))]);
        assert_eq!(run(&[], &setpoints, &[]).confidence, 72);
        let viewer = used(vec![(p(Protocol::Enip), usage(&[1], &[(READ, 9)]))]);
        let c = run(&[], &viewer, &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Hmi, 68));
    }

    #[test]
    fn identity_scans_without_polling_make_an_engineering_workstation() {
        let identify = |peers: &[usize]| usage(peers, &[(OperationKind::Identify, 1)]);
        assert_eq!(kind(&[], &used(vec![(p(Protocol::Enip), identify(&[1, 2, 3]))])), DeviceType::EngineeringWorkstation);
        assert_eq!(kind(&[], &used(vec![(p(Protocol::Enip), identify(&[1, 2]))])), DeviceType::Unknown);
        let also_polls = used(vec![(p(Protocol::Enip), identify(&[1, 2, 3])), (p(Protocol::Modbus), usage(&[4], &[(READ, 1)]))]);
        assert_eq!(kind(&[], &also_polls), DeviceType::Hmi);
    }

    #[test]
    fn web_sessions_to_controllers_need_the_peers_types() {
        let web = used(vec![(p(Protocol::Http), usage(&[1], &[(READ, 3)]))]);
        let types = [DeviceType::Unknown, DeviceType::Plc];
        assert_eq!(run(&[], &web, &[]).device_type, DeviceType::Unknown);
        let c = run(&[], &web, &types);
        assert_eq!((c.device_type, c.confidence), (DeviceType::EngineeringWorkstation, 62));
        let to_printer = [DeviceType::Unknown, DeviceType::Printer];
        assert_eq!(run(&[], &web, &to_printer).device_type, DeviceType::Unknown);
    }

    #[test]
    fn talking_with_cameras_makes_an_nvr() {
        let types = [DeviceType::Unknown, DeviceType::Camera, DeviceType::Camera, DeviceType::Camera];
        let fetches = used(vec![(p(Protocol::Http), usage(&[1, 2], &[(READ, 3)])), (Service::Tcp(554), usage(&[3], &[]))]);
        let facts = [fact(IdentityField::Vendor, "Hangzhou Hikvision Digital Technology Co.,Ltd.", "oui")];
        assert_eq!(run(&facts, &fetches, &types).device_type, DeviceType::Nvr);
        assert_eq!(run(&facts, &fetches, &[]).device_type, DeviceType::Camera);
        // A PC that opens two cameras' web pages is not a recorder.
        let browser = used(vec![(p(Protocol::Http), usage(&[1, 2], &[(READ, 3)]))]);
        assert_eq!(run(&[fact(IdentityField::Os, "Windows", "tcp")], &browser, &types).device_type, DeviceType::Workstation);
    }

    #[test]
    fn descriptions_name_the_kind() {
        let cases = [
            (IdentityField::Description, "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153", DeviceType::Printer),
            (IdentityField::Description, "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE", DeviceType::Switch),
            (IdentityField::Description, "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M)", DeviceType::Switch),
            (IdentityField::Description, "ProCurve J9145A Switch 2910al-24G", DeviceType::Switch),
            (IdentityField::Server, "App-webs/", DeviceType::Camera),
            (IdentityField::Server, "Linux/3.10, UPnP/1.0, DH-Hikvision/2.0", DeviceType::Camera),
            (IdentityField::Service, "_ipp._tcp", DeviceType::Printer),
            (IdentityField::Model, "DS-7608NI NVR", DeviceType::Nvr),
            (IdentityField::Os, "Windows Server 2019 Standard 17763", DeviceType::Server),
            // Words inside longer words do not count.
            (IdentityField::Description, "switchboard controller", DeviceType::Unknown),
        ];
        for (field, text, want) in cases {
            assert_eq!(kind(&[fact(field, text, "snmp")], &Behaviour::default()), want, "{text}");
        }
        let vendor_class = [fact(IdentityField::VendorClass, "Cisco Systems, Inc. IP Phone CP-7841", "dhcp")];
        let c = run(&vendor_class, &Behaviour::default(), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Phone, 70));
        // What the OUI registry says is not a description.
        assert_eq!(kind(&[fact(IdentityField::Description, "printer", "oui")], &Behaviour::default()), DeviceType::Unknown);
    }

    #[test]
    fn dhcp_clients_that_name_a_kind_of_device() {
        let phone = [fact(IdentityField::DhcpFingerprint, "1,66,6,3,15,150,35,151", "dhcp")];
        let c = run(&phone, &Behaviour::default(), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Phone, 70));
        let windows = [fact(IdentityField::DhcpFingerprint, "1,3,6,15,31,33,43,44,46,47,119,121,249,252", "dhcp")];
        assert_eq!(kind(&windows, &Behaviour::default()), DeviceType::Unknown, "an OS is not a type");
    }

    #[test]
    fn listening_ports_of_printers_and_cameras() {
        let port = |p: &str| [fact(IdentityField::Service, p, "tcp")];
        assert_eq!(kind(&port("tcp/9100"), &Behaviour::default()), DeviceType::Printer);
        assert_eq!(kind(&port("tcp/554"), &Behaviour::default()), DeviceType::Camera);
        assert_eq!(kind(&port("tcp/445"), &Behaviour::default()), DeviceType::Unknown);
    }

    #[test]
    fn general_services_for_several_clients_make_a_server() {
        assert_eq!(kind(&[fact(IdentityField::Service, "dns-server", "dns")], &Behaviour::default()), DeviceType::Server);
        assert_eq!(kind(&[], &served(p(Protocol::Smb), usage(&[1, 2, 3], &[]))), DeviceType::Server);
        assert_eq!(kind(&[], &served(p(Protocol::Smb), usage(&[1, 2], &[]))), DeviceType::Unknown);
        assert_eq!(kind(&[], &served(Service::Tcp(389), usage(&[1, 2, 3], &[]))), DeviceType::Server);
        let nms = used(vec![(p(Protocol::Snmp), usage(&[1, 2, 3, 4], &[(READ, 8)]))]);
        assert_eq!(kind(&[], &nms), DeviceType::Server);
    }

    #[test]
    fn port_scanners_are_servers() {
        let probe = [fact(IdentityField::TcpFingerprint, "syn ttl=64 win=1024 mss=1460 ws=- opts=M nodf", "tcp")];
        assert_eq!(kind(&probe, &Behaviour::default()), DeviceType::Server);
    }

    #[test]
    fn the_os_alone() {
        let os = |name: &str| [fact(IdentityField::Os, name, "tcp")];
        assert_eq!(kind(&os("Windows"), &Behaviour::default()), DeviceType::Workstation);
        assert_eq!(kind(&os("Android"), &Behaviour::default()), DeviceType::Phone);
        assert_eq!(kind(&os("macOS/iOS"), &Behaviour::default()), DeviceType::Workstation);
        assert_eq!(kind(&os("Linux"), &Behaviour::default()), DeviceType::Unknown);
        let resolver = used(vec![(p(Protocol::Nbns), usage(&[], &[])), (p(Protocol::Llmnr), usage(&[], &[]))]);
        assert_eq!(run(&[], &resolver, &[]).confidence, 45);
        assert_eq!(kind(&os("Linux"), &resolver), DeviceType::Unknown, "a known OS says more than name queries");
        // A Windows host that serves DNS is a server, not a workstation.
        let dns = [fact(IdentityField::Os, "Windows", "tcp"), fact(IdentityField::Service, "dns-server", "dns")];
        assert_eq!(kind(&dns, &Behaviour::default()), DeviceType::Server);
    }

    #[test]
    fn hp_needs_an_embedded_stack_to_be_a_printer() {
        let hp = fact(IdentityField::Vendor, "Hewlett Packard", "oui");
        let embedded = [hp.clone(), fact(IdentityField::Os, "embedded RTOS (VxWorks-like)", "tcp")];
        assert_eq!(kind(&embedded, &Behaviour::default()), DeviceType::Printer);
        let windows = [hp.clone(), fact(IdentityField::Os, "Windows", "tcp")];
        assert_eq!(kind(&windows, &Behaviour::default()), DeviceType::Workstation);
        assert_eq!(kind(&[hp], &Behaviour::default()), DeviceType::Unknown);
    }

    #[test]
    fn mac_vendors_are_the_weakest_hint() {
        let vendor = |v: &str| [fact(IdentityField::Vendor, v, "oui")];
        let c = run(&vendor("Axis Communications AB"), &Behaviour::default(), &[]);
        assert_eq!((c.device_type, c.confidence), (DeviceType::Camera, 40));
        assert_eq!(kind(&vendor("VMware, Inc."), &Behaviour::default()), DeviceType::Server);
        assert_eq!(kind(&vendor("Dell Inc."), &Behaviour::default()), DeviceType::Unknown);
        // A vendor reported by a protocol is not an OUI guess.
        assert_eq!(kind(&[fact(IdentityField::Vendor, "Axis Communications AB", "http")], &Behaviour::default()), DeviceType::Unknown);
    }

    #[test]
    fn purdue_levels_from_type_and_behaviour() {
        let none = Behaviour::default();
        let level = |t: DeviceType, b: &Behaviour, peers: &[DeviceType]| {
            purdue_level(t, &Evidence { facts: &[], behaviour: b, router: false, peer_types: peers })
        };
        assert_eq!(level(DeviceType::IoAdapter, &none, &[]), Some(0));
        assert_eq!(level(DeviceType::Plc, &none, &[]), Some(1));
        assert_eq!(level(DeviceType::Hmi, &none, &[]), Some(2));
        assert_eq!(level(DeviceType::Switch, &none, &[]), None);
        let fed = served(Service::Tcp(5450), usage(&[0], &[]));
        assert_eq!(level(DeviceType::Historian, &fed, &[DeviceType::ScadaServer]), Some(3));
        assert_eq!(
            level(DeviceType::Historian, &fed, &[DeviceType::Historian]),
            Some(4),
            "a historian fed by a historian is the enterprise copy"
        );
        let dns = served(p(Protocol::Dns), usage(&[0, 1], &[]));
        assert_eq!(level(DeviceType::Server, &dns, &[DeviceType::Hmi, DeviceType::Workstation]), Some(3));
        assert_eq!(level(DeviceType::Server, &dns, &[DeviceType::Workstation, DeviceType::Workstation]), Some(4));
        assert_eq!(level(DeviceType::Workstation, &none, &[]), Some(4));
    }
}
