//! CDP (Cisco Discovery Protocol, 802.2 LLC/SNAP with organisation code
//! 0x00000C and protocol id 0x2000): what a Cisco device announces to its
//! link neighbours. Device ID → `Hostname`, platform → `Model` (and the
//! vendor when it names Cisco), first line of the software version →
//! `Description` (with the OS and the "Version X," as `Firmware` when they
//! read cleanly), capabilities → `Role` (phone, switch, router), VTP domain → `Domain`, address →
//! `ManagementIp` (paired with the MAC like LLDP's), and port ID, native
//! VLAN and duplex summarised in one "cdp port" description. The checksum
//! is not verified (implementations disagree on it).

mod parser;

use crate::lldp::{text, Neighbour};
use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, Protocol, ViolationKind};
use std::fmt;

/// Cisco's SNAP organisation code and the CDP protocol id.
const SNAP: (u32, u16) = (0x00000c, 0x2000);

/// CDP dissector (stateless).
#[derive(Default)]
pub struct Cdp;

impl Dissector for Cdp {
    const REGISTRATION: Registration = Registration { snap: &[SNAP], ..Registration::new(Protocol::Cdp) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        match parser::parse(data) {
            Ok(c) => report(ctx, &c),
            Err(e) => ctx.violation(ViolationKind::Malformed, e.to_string()),
        }
    }
}

/// Reports the facts of one CDP frame.
fn report(ctx: &mut Ctx<'_>, c: &parser::Cdp<'_>) {
    let n = Neighbour::new(ctx, c.address);
    if let Some(id) = c.device_id {
        n.bytes(ctx, IdentityField::Hostname, id);
    }
    if let Some(platform) = c.platform {
        let platform = text(platform);
        if platform.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("cisco ")) {
            n.fact(ctx, IdentityField::Vendor, "Cisco");
        }
        n.fact(ctx, IdentityField::Model, &platform);
    }
    if let Some(software) = c.software {
        let software = text(software);
        n.description_hints(ctx, &software);
        n.fact(ctx, IdentityField::Description, software.lines().next().unwrap_or_default());
    }
    if let Some(role) = c.capabilities.and_then(role) {
        n.fact(ctx, IdentityField::Role, role);
    }
    if let Some(domain) = c.vtp_domain {
        n.bytes(ctx, IdentityField::Domain, domain);
    }
    if c.port_id.is_some() {
        n.fact(ctx, IdentityField::Description, &PortSummary(c).to_string());
    }
}

/// The role a CDP capabilities bitmap implies ("host" alone gives none, as
/// LLDP's "station only" does).
fn role(capabilities: u32) -> Option<&'static str> {
    const TABLE: [(u32, &str); 4] = [(0x80, "phone"), (0x08, "switch"), (0x02, "switch"), (0x01, "router")];
    TABLE.iter().find(|(bit, _)| capabilities & bit != 0).map(|(_, r)| *r)
}

/// "cdp port <id>, native vlan N, full duplex".
struct PortSummary<'a, 'b>(&'a parser::Cdp<'b>);

impl fmt::Display for PortSummary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        write!(f, "cdp port {}", text(c.port_id.unwrap_or_default()))?;
        if let Some(vlan) = c.native_vlan {
            write!(f, ", native vlan {vlan}")?;
        }
        if let Some(full) = c.full_duplex {
            f.write_str(if full { ", full duplex" } else { ", half duplex" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parser::tests::{addresses, frame, tlv};
    use super::*;
    use crate::testing::{ip_facts, mac_ep, violation_kinds, Flow};
    use palisade_model::{Event, MacAddr};
    use std::net::IpAddr;

    /// Feeds one frame a switch sends to the CDP group.
    fn run(f: &[u8]) -> Vec<Event> {
        let (switch, group) = (MacAddr([0x00, 0x19, 0x2f, 0xa7, 0xb2, 0x8d]), MacAddr([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]));
        Flow::<Cdp>::new(mac_ep(switch), mac_ep(group)).client_sends(&[f]).events()
    }

    #[test]
    fn switch_identity() {
        let sw = b"Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)\nCopyright (c) 1986-2008 by Cisco Systems, Inc.";
        let f = frame(&[
            tlv(1, b"S1"),
            tlv(2, &addresses([192, 168, 0, 1])),
            tlv(3, b"FastEthernet0/13"),
            tlv(4, &[0, 0, 0, 0x29]),
            tlv(5, sw),
            tlv(6, b"cisco WS-C3560-24TS"),
            tlv(9, b"lab"),
            tlv(10, &[0, 1]),
            tlv(11, &[1]),
        ]);
        let ev = run(&f);
        let facts = ip_facts(&ev);
        let ip: Option<IpAddr> = Some("192.168.0.1".parse().expect("ip"));
        for subject in [None, ip] {
            for (field, value) in [
                (IdentityField::Hostname, "S1"),
                (IdentityField::Model, "cisco WS-C3560-24TS"),
                (IdentityField::Vendor, "Cisco"),
                (IdentityField::Firmware, "12.2(44)SE"),
                (IdentityField::Os, "Cisco IOS"),
                (
                    IdentityField::Description,
                    "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1)",
                ),
                (IdentityField::Role, "switch"),
                (IdentityField::Domain, "lab"),
                (IdentityField::ManagementIp, "192.168.0.1"),
                (IdentityField::Description, "cdp port FastEthernet0/13, native vlan 1, full duplex"),
            ] {
                assert!(facts.contains(&(subject, field, value.to_string())), "{subject:?} {field} {value}: {facts:?}");
            }
        }
    }

    #[test]
    fn malformed_frame_is_a_violation() {
        let ev = run(&[2, 180, 0, 0, 0, 1, 0, 200]);
        assert!(violation_kinds(&ev).contains(&ViolationKind::Malformed));
    }

    #[test]
    fn roles() {
        assert_eq!(role(0x90), Some("phone"));
        assert_eq!(role(0x01), Some("router"));
        assert_eq!(role(0x10), None);
        assert_eq!(role(0x20), None);
    }
}
