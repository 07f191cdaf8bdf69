//! Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) on UDP port 5353, read
//! with the DNS wire-format parser.
//!
//! Facts come from responses and announcements only (a query names what the
//! sender looks for, not what it is): the sender's hostname from A/AAAA
//! records of its own address, reverse records of its address and SRV
//! targets (`name.local` → `name`); the DNS-SD service types it offers
//! (`_ipp._tcp`); and identity keys of its TXT records (model, vendor,
//! firmware, OS, serial).

use crate::dns::{
    self,
    parser::{Entry, Rdata, Section},
};
use crate::{Ctx, Dissector, Registration};
use palisade_model::{IdentityField, Protocol};
use std::net::IpAddr;

/// mDNS flow state.
#[derive(Default)]
pub struct Mdns {
    /// A malformed message was already reported on this flow.
    malformed: bool,
}

impl Dissector for Mdns {
    const REGISTRATION: Registration = Registration { udp_ports: &[5353], ..Registration::new(Protocol::Mdns) };

    fn datagram(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) {
        let sender = ctx.sender().ip;
        dns::each_entry(ctx, data, &mut self.malformed, |ctx, header, entry, data| {
            if header.is_response() && entry.section != Section::Question {
                record(ctx, sender, entry, data);
            }
        });
    }
}

/// Facts from one record of a response sent by `sender`.
fn record(ctx: &mut Ctx<'_>, sender: Option<IpAddr>, entry: &Entry<'_>, data: Rdata<'_>) {
    let owner = entry.name.text();
    let Some(owner) = owner.as_str() else { return };
    if let Some(service) = service_type(owner) {
        ctx.sender_identity(IdentityField::Service, service);
    }
    match data {
        Rdata::A(a) if sender == Some(IpAddr::V4(a)) => hostname(ctx, owner),
        Rdata::Aaaa(a) if sender == Some(IpAddr::V6(a)) => hostname(ctx, owner),
        Rdata::Ptr(target) => {
            let target = target.text();
            let Some(target) = target.as_str() else { return };
            if let Some(service) = service_type(target) {
                ctx.sender_identity(IdentityField::Service, service);
            }
            if sender.is_some() && entry.name.reverse_ip() == sender {
                hostname(ctx, target);
            }
        }
        Rdata::Srv(target) => {
            if let Some(target) = target.text().as_str() {
                hostname(ctx, target);
            }
        }
        Rdata::Txt(txt) => {
            for item in txt.strings() {
                if let Some((field, value)) = std::str::from_utf8(item).ok().and_then(txt_fact) {
                    ctx.sender_identity(field, value);
                }
            }
        }
        _ => {}
    }
}

/// Reports `name` (a host name, `.local` dropped) as the sender's hostname;
/// service-instance and reverse-lookup names are not host names.
fn hostname(ctx: &mut Ctx<'_>, name: &str) {
    if name.split('.').any(|l| l.starts_with('_')) || ends_with_ignore_case(name, ".arpa") {
        return;
    }
    let host = if ends_with_ignore_case(name, ".local") { name.get(..name.len() - ".local".len()) } else { Some(name) };
    if let Some(host) = host {
        ctx.sender_identity(IdentityField::Hostname, host);
    }
}

fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len().checked_sub(suffix.len()).and_then(|at| name.get(at..)).is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// The DNS-SD service type in a name (`_ipp._tcp` in
/// `Office._ipp._tcp.local` or `_printer._sub._ipp._tcp.local`); the
/// service-enumeration meta type does not count.
fn service_type(name: &str) -> Option<&str> {
    let mut prev: Option<(usize, &str)> = None;
    let mut at = 0;
    for label in name.split('.') {
        if let Some((start, service)) = prev {
            let proto = label.eq_ignore_ascii_case("_tcp") || label.eq_ignore_ascii_case("_udp");
            if proto && service.len() > 1 && service.starts_with('_') && !service.eq_ignore_ascii_case("_dns-sd") {
                return name.get(start..at + label.len());
            }
        }
        prev = Some((at, label));
        at += label.len() + 1;
    }
    None
}

/// An identity fact from a DNS-SD TXT item `key=value`, for the keys that
/// describe the device.
fn txt_fact(item: &str) -> Option<(IdentityField, &str)> {
    let (key, value) = item.split_once('=')?;
    let key = key.trim();
    let is = |names: &[&str]| names.iter().any(|n| key.eq_ignore_ascii_case(n));
    let field = if is(&["ty", "product", "model", "md", "usb_MDL"]) {
        IdentityField::Model
    } else if is(&["usb_MFG", "mfg", "manufacturer", "vendor"]) {
        IdentityField::Vendor
    } else if is(&["fv", "firmware"]) {
        IdentityField::Firmware
    } else if is(&["os"]) {
        IdentityField::Os
    } else if is(&["serial", "sn", "serialnumber"]) {
        IdentityField::Serial
    } else {
        return None;
    };
    // IPP's `product` is written in parentheses: "(HP LaserJet 400)".
    let value = value.trim();
    let value = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')).unwrap_or(value);
    Some((field, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::parser::tests::{header, name, name_data, record as rr};
    use crate::dns::parser::{TYPE_A, TYPE_AAAA, TYPE_PTR, TYPE_SRV, TYPE_TXT};
    use crate::testing::{ep_at, field_values, ip_facts, Flow};
    use palisade_flow::Direction;

    /// Runs one message multicast by `sender`; returns its facts, all about the sender.
    fn run(sender: &str, msg: &[u8]) -> Vec<(IdentityField, String)> {
        let client = ep_at(sender, 5353);
        let events = Flow::<Mdns>::new(client, ep_at("224.0.0.251", 5353)).datagrams(&[(Direction::ToServer, msg)]).events();
        assert!(ip_facts(&events).iter().all(|(ip, _, _)| *ip == client.ip));
        field_values(&events)
    }

    #[test]
    fn announcement_names_host_services_and_device() {
        let mut m = header(0x8400, [0, 6, 0, 1]);
        rr(&mut m, "printer-3.local", TYPE_A, &[192, 168, 1, 30]);
        rr(&mut m, "printer-3.local", TYPE_A, &[192, 168, 9, 9]);
        rr(&mut m, "_ipp._tcp.local", TYPE_PTR, &name_data("Office._ipp._tcp.local"));
        let mut srv = vec![0, 0, 0, 0, 0x02, 0x77];
        srv.extend(name_data("printer-3.local"));
        rr(&mut m, "Office._ipp._tcp.local", TYPE_SRV, &srv);
        let mut txt = Vec::new();
        for item in ["txtvers=1", "product=(HP LaserJet M402)", "usb_MFG=HP", "SN=CNB1234567", "fv=2.1.0.4"] {
            txt.push(item.len() as u8);
            txt.extend_from_slice(item.as_bytes());
        }
        rr(&mut m, "Office._ipp._tcp.local", TYPE_TXT, &txt);
        rr(&mut m, "30.1.168.192.in-addr.arpa", TYPE_PTR, &name_data("printer-3.local"));
        rr(&mut m, "printer-3.local", TYPE_AAAA, &"fe80::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        let facts = run("192.168.1.30", &m);
        let want = [
            (IdentityField::Hostname, "printer-3"),
            (IdentityField::Service, "_ipp._tcp"),
            (IdentityField::Model, "HP LaserJet M402"),
            (IdentityField::Vendor, "HP"),
            (IdentityField::Serial, "CNB1234567"),
            (IdentityField::Firmware, "2.1.0.4"),
        ];
        assert_eq!(facts, want.map(|(f, v)| (f, v.to_string())).to_vec());
    }

    #[test]
    fn queries_and_other_hosts_give_nothing() {
        let mut q = header(0, [2, 0, 0, 0]);
        name(&mut q, "_ipp._tcp.local");
        q.extend_from_slice(&[0, 12, 0, 1]);
        name(&mut q, "other-host.local");
        q.extend_from_slice(&[0, 1, 0, 1]);
        assert!(run("10.0.0.5", &q).is_empty());
        let mut m = header(0x8400, [0, 1, 0, 0]);
        rr(&mut m, "other-host.local", TYPE_A, &[10, 0, 0, 6]);
        assert!(run("10.0.0.5", &m).is_empty());
    }

    #[test]
    fn service_types() {
        assert_eq!(service_type("LDS-Maui-16714._opcua-tcp._tcp.local"), Some("_opcua-tcp._tcp"));
        assert_eq!(service_type("_printer._sub._http._tcp.local"), Some("_http._tcp"));
        assert_eq!(service_type("_services._dns-sd._udp.local"), None);
        assert_eq!(service_type("host.local"), None);
        assert_eq!(service_type("_tcp.local"), None);
    }

    #[test]
    fn txt_keys() {
        assert_eq!(txt_fact("ty=Brother HL-L2350DW"), Some((IdentityField::Model, "Brother HL-L2350DW")));
        assert_eq!(txt_fact("MFG=Brother"), Some((IdentityField::Vendor, "Brother")));
        assert_eq!(txt_fact("os=Linux"), Some((IdentityField::Os, "Linux")));
        assert_eq!(txt_fact("rp=ipp/print"), None);
        assert_eq!(txt_fact("ty"), None);
    }
}
