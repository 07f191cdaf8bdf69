//! LLDP (IEEE 802.1AB, ethertype 0x88CC): what a device announces about
//! itself to its link neighbours. The system name, description, enabled
//! capabilities (as a role), LLDP-MED inventory and MUD URL become facts
//! on the sender's MAC; the management address becomes a `ManagementIp`
//! fact, and when it is a site-local address the facts are also reported
//! on that MAC and IP together (a switch's management address is its own).
//! Port ID, port description, port VLAN, MAU type and PROFINET port status
//! are summarised in one "lldp port" description.

pub(crate) mod hints;
mod parser;

use crate::{Ctx, Dissector, Registration};
use palisade_model::{is_local_ip, Endpoint, IdentityField, Protocol, ViolationKind};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// LLDP ethertype.
const ETHERTYPE: u16 = 0x88cc;

/// LLDP dissector (stateless).
#[derive(Default)]
pub struct Lldp;

impl Dissector for Lldp {
    const REGISTRATION: Registration = Registration { ethertypes: &[ETHERTYPE], ..Registration::new(Protocol::Lldp) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        match parser::parse(data) {
            Ok(p) => report(ctx, &p),
            Err(e) => ctx.violation(ViolationKind::Malformed, e.to_string()),
        }
    }
}

/// Reports the facts of one LLDPDU.
fn report(ctx: &mut Ctx<'_>, p: &parser::Lldpdu<'_>) {
    let n = Neighbour::new(ctx, p.management);
    let sender_mac = n.sender.mac;
    if let Some(name) = p.system_name {
        n.bytes(ctx, IdentityField::Hostname, name);
    }
    if let Some(desc) = p.system_description {
        let desc = text(desc);
        n.description_hints(ctx, &desc);
        n.fact(ctx, IdentityField::Description, &desc);
    }
    if let Some(role) = p.capabilities.and_then(role) {
        n.fact(ctx, IdentityField::Role, role);
    }
    for chassis in [p.chassis.mac(4), p.profinet_chassis].into_iter().flatten() {
        if Some(chassis) != sender_mac {
            n.fact(ctx, IdentityField::Description, &format!("lldp chassis {chassis}"));
        }
    }
    let inv = &p.inventory;
    let inventory = [
        (IdentityField::Vendor, inv.manufacturer),
        (IdentityField::Model, inv.model),
        (IdentityField::Serial, inv.serial),
        (IdentityField::Firmware, inv.firmware),
        (IdentityField::HardwareVersion, inv.hardware),
        (IdentityField::MudUrl, p.mud_url),
    ];
    for (field, value) in inventory {
        if let Some(v) = value {
            n.bytes(ctx, field, v);
        }
    }
    if let Some(sw) = inv.software {
        n.fact(ctx, IdentityField::Description, &format!("software revision {}", text(sw)));
    }
    n.fact(ctx, IdentityField::Description, &PortSummary(p).to_string());
}

/// The role an LLDP enabled-capabilities bitmap implies. "Station only"
/// gives none: PLCs announce it as well as PCs.
fn role(enabled: u16) -> Option<&'static str> {
    const TABLE: [(u16, &str); 4] = [(0x20, "phone"), (0x08, "wireless-ap"), (0x04, "switch"), (0x10, "router")];
    TABLE.iter().find(|(bit, _)| enabled & bit != 0).map(|(_, r)| *r)
}

/// Bytes as text (invalid UTF-8 replaced, trailing NULs dropped).
pub(crate) fn text(value: &[u8]) -> Cow<'_, str> {
    let end = value.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(value.get(..end).unwrap_or_default())
}

/// "lldp port <id> (<description>), vlan N, <MAU>, PROFINET port status".
struct PortSummary<'a, 'b>(&'a parser::Lldpdu<'b>);

impl fmt::Display for PortSummary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        f.write_str("lldp port ")?;
        match p.port.mac(3) {
            Some(mac) => write!(f, "{mac}")?,
            None => f.write_str(&text(p.port.value))?,
        }
        if let Some(d) = p.port_description.filter(|d| !d.is_empty()) {
            write!(f, " ({})", text(d))?;
        }
        if let Some(vlan) = p.port_vlan {
            write!(f, ", vlan {vlan}")?;
        }
        match p.mau_type.and_then(mau_name) {
            Some(name) => write!(f, ", {name}")?,
            None => {
                if let Some(mau) = p.mau_type {
                    write!(f, ", MAU type {mau}")?;
                }
            }
        }
        if let Some((rt2, rt3)) = p.profinet_port_status {
            write!(f, ", PROFINET port status RTClass2 {rt2} RTClass3 {rt3}")?;
        }
        Ok(())
    }
}

/// Names of common operational MAU types (RFC 4836).
fn mau_name(mau: u16) -> Option<&'static str> {
    Some(match mau {
        10 => "10BASE-T half duplex",
        11 => "10BASE-T full duplex",
        15 => "100BASE-TX half duplex",
        16 => "100BASE-TX full duplex",
        29 => "1000BASE-T half duplex",
        30 => "1000BASE-T full duplex",
        _ => return None,
    })
}

/// A link neighbour announcing itself (LLDP, CDP): facts go on the sender's
/// MAC and, when the announced management address is a site-local address,
/// also on that MAC and address together.
pub(crate) struct Neighbour {
    sender: Endpoint,
    paired: Option<Endpoint>,
}

impl Neighbour {
    /// The sender of the current frame, announcing `management`; reports
    /// the `ManagementIp` fact.
    pub(crate) fn new(ctx: &mut Ctx<'_>, management: Option<IpAddr>) -> Self {
        let sender = ctx.sender();
        let local = management.filter(|ip| !ip.is_unspecified() && is_local_ip(*ip));
        let paired = local.filter(|_| sender.mac.is_some()).map(|ip| Endpoint { mac: sender.mac, ip: Some(ip), port: 0 });
        let n = Neighbour { sender, paired };
        if let Some(ip) = management.filter(|ip| !ip.is_unspecified()) {
            n.fact(ctx, IdentityField::ManagementIp, &ip.to_string());
        }
        n
    }

    /// Reports a fact about the neighbour.
    pub(crate) fn fact(&self, ctx: &mut Ctx<'_>, field: IdentityField, value: &str) {
        ctx.identity(self.sender, field, value);
        if let Some(p) = self.paired {
            ctx.identity(p, field, value);
        }
    }

    /// Reports a fact given as bytes (invalid UTF-8 replaced).
    pub(crate) fn bytes(&self, ctx: &mut Ctx<'_>, field: IdentityField, value: &[u8]) {
        self.fact(ctx, field, &text(value));
    }

    /// Reports the operating system and firmware a system description
    /// clearly names.
    pub(crate) fn description_hints(&self, ctx: &mut Ctx<'_>, description: &str) {
        for subject in std::iter::once(self.sender).chain(self.paired) {
            hints::report(ctx, subject, description);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{frame, mgmt_v4, tlv};
    use super::*;
    use crate::testing::{ip_facts as facts, mac_ep, violation_kinds, Flow};
    use palisade_model::{Event, MacAddr};

    const SWITCH: MacAddr = MacAddr([0x00, 0x22, 0x2d, 0x81, 0xdb, 0x10]);

    /// Feeds frames the switch sends to the LLDP group.
    fn run(frames: &[Vec<u8>]) -> Vec<Event> {
        Flow::<Lldp>::new(mac_ep(SWITCH), mac_ep(MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]))).client_sends(frames).events()
    }

    #[test]
    fn switch_identity_paired_with_its_management_address() {
        let desc = b"Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)";
        let mut mud = vec![0x00, 0x00, 0x5e, 1];
        mud.extend_from_slice(b"https://example.com/mud");
        let ev = run(&[frame(&[
            tlv(4, b"Uplink"),
            tlv(5, b"S1.cisco.com"),
            tlv(6, desc),
            tlv(7, &[0, 0x14, 0, 0x14]),
            mgmt_v4([192, 168, 2, 10]),
            tlv(127, &mud),
        ])]);
        let f = facts(&ev);
        let ip: Option<IpAddr> = Some("192.168.2.10".parse().expect("ip"));
        for subject in [None, ip] {
            assert!(f.contains(&(subject, IdentityField::Hostname, "S1.cisco.com".into())), "{f:?}");
            assert!(f.contains(&(subject, IdentityField::Firmware, "12.2(44)SE".into())));
            assert!(f.contains(&(subject, IdentityField::Os, "Cisco IOS".into())));
            assert!(f.contains(&(subject, IdentityField::Role, "switch".into())));
            assert!(f.contains(&(subject, IdentityField::ManagementIp, "192.168.2.10".into())));
            assert!(f.contains(&(subject, IdentityField::MudUrl, "https://example.com/mud".into())));
            assert!(f.contains(&(subject, IdentityField::Description, "lldp port 1 (Uplink)".into())));
        }
    }

    #[test]
    fn public_management_address_is_not_paired() {
        let ev = run(&[frame(&[tlv(5, b"sw"), mgmt_v4([15, 255, 122, 148]), tlv(7, &[0, 0x80, 0, 0x80])])]);
        let f = facts(&ev);
        assert!(f.contains(&(None, IdentityField::ManagementIp, "15.255.122.148".into())));
        assert!(!f.iter().any(|(_, field, _)| *field == IdentityField::Role));
        assert!(f.iter().all(|(ip, _, _)| ip.is_none()));
    }

    #[test]
    fn malformed_frame_is_a_violation() {
        let ev = run(&[tlv(5, b"no chassis")]);
        assert!(violation_kinds(&ev).contains(&ViolationKind::Malformed));
    }

    #[test]
    fn roles() {
        assert_eq!(role(0x24), Some("phone"));
        assert_eq!(role(0x0c), Some("wireless-ap"));
        assert_eq!(role(0x10), Some("router"));
        assert_eq!(role(0x01), None);
        assert_eq!(role(0x80), None);
    }
}
