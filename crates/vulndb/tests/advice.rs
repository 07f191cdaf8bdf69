//! Every kind of recommendation, on a small made-up site whose evidence is
//! spelled out: what each finding rests on, and that quiet devices get none.

mod common;

use palisade_engine::{Device, EventRecord, SourcedFact};
use palisade_model::{DeviceType, IdentityField, Protocol, Timestamp};
use palisade_vulndb::advice::recommend;
use palisade_vulndb::risk::site_risk;
use palisade_vulndb::site::{Connection, OpenAlert, SiteData};
use std::net::IpAddr;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn device(id: i64, addr: &str, t: DeviceType, level: Option<u8>, protocols: &[Protocol]) -> Device {
    Device { ips: vec![ip(addr)], device_type: t, purdue_level: level, protocols: protocols.to_vec(), ..common::device(id, Vec::new()) }
}

fn fact(field: IdentityField, value: &str, source: &str) -> SourcedFact {
    common::fact(field, value, source)
}

fn op(id: i64, src: &str, dst: &str, protocol: Protocol, kind: &str, target: &str) -> EventRecord {
    EventRecord {
        id,
        time: Timestamp(1_700_000_000_000_000_000),
        record_type: "operation".into(),
        protocol,
        src_ip: Some(ip(src)),
        src_mac: None,
        dst_ip: Some(ip(dst)),
        dst_mac: None,
        kind: kind.into(),
        code: Some(0),
        target: Some(target.into()),
        result: Some("success".into()),
        detail: None,
        count: 1,
        last_time: None,
    }
}

/// A plant: a PLC, an HMI, an engineering station, an office PC, an OPC UA
/// server, a file server with SMBv1, a switch with Telnet, an SNMP agent
/// and a quiet I/O adapter.
fn plant() -> SiteData {
    let mut plc = device(1, "10.0.1.10", DeviceType::Plc, Some(1), &[Protocol::S7comm, Protocol::Http]);
    plc.facts.push(fact(IdentityField::Server, "PLC web server", "http"));
    let hmi = device(2, "10.0.2.20", DeviceType::Hmi, Some(2), &[Protocol::S7comm, Protocol::Vnc]);
    let ews = device(3, "10.0.2.30", DeviceType::EngineeringWorkstation, Some(2), &[Protocol::S7comm]);
    let office = device(4, "10.0.4.40", DeviceType::Workstation, Some(4), &[Protocol::S7comm, Protocol::Http]);
    let mut opc = device(5, "10.0.2.50", DeviceType::Server, Some(2), &[Protocol::Opcua]);
    opc.facts.push(fact(IdentityField::Description, "opcua security mode None", "opcua"));
    let mut files = device(6, "10.0.3.60", DeviceType::Server, Some(3), &[Protocol::Smb]);
    files.facts.push(fact(IdentityField::Service, "smbv1", "smb"));
    let switch = device(7, "10.0.1.1", DeviceType::Switch, None, &[Protocol::Telnet, Protocol::Snmp]);
    let io = device(8, "10.0.1.80", DeviceType::IoAdapter, Some(0), &[Protocol::Profinet]);
    let mut site = SiteData {
        name: "plant".into(),
        devices: vec![plc, hmi, ews, office, opc, files, switch, io],
        events: vec![
            op(1, "10.0.2.30", "10.0.1.10", Protocol::S7comm, "program-download", "OB1"),
            op(2, "10.0.4.40", "10.0.1.10", Protocol::S7comm, "controller-stop", "cpu"),
            op(3, "10.0.2.30", "10.0.1.1", Protocol::Telnet, "login", "telnet user admin"),
            op(4, "10.0.2.30", "10.0.1.1", Protocol::Snmp, "login", "community p***** (6 chars)"),
            op(5, "10.0.4.40", "10.0.3.60", Protocol::Smb, "session", "smb1"),
        ],
        alerts: vec![OpenAlert {
            id: 9,
            title: "controller stop".into(),
            category: "plc-stop".into(),
            severity: "critical".into(),
            src_ip: Some(ip("10.0.4.40")),
            dst_ip: Some(ip("10.0.1.10")),
        }],
        ..Default::default()
    };
    site.internet_hosts.insert(ip("10.0.2.20"));
    site.served.insert((ip("10.0.1.10"), Protocol::Http));
    site.connections.push(Connection {
        client: ip("10.0.2.20"),
        server: ip("93.184.216.34"),
        protocol: Some(Protocol::Tls),
        seen_in: "baseline".into(),
    });
    site.connections_from_events();
    site
}

fn kinds(site: &SiteData, id: i64) -> Vec<String> {
    let recs = recommend(site);
    let mut out: Vec<String> = recs.devices.get(&id).map(|l| l.iter().map(|r| r.kind.clone()).collect()).unwrap_or_default();
    out.sort();
    out
}

#[test]
fn each_finding_lands_on_the_right_device() {
    let site = plant();
    assert_eq!(kinds(&site, 1), ["flat-network", "insecure-admin-interface", "programming-from-non-engineering-host"]);
    assert_eq!(kinds(&site, 2), ["internet-from-control-levels", "remote-access"]);
    assert_eq!(kinds(&site, 3), Vec::<String>::new(), "the engineering station programs the PLC: expected");
    assert_eq!(kinds(&site, 4), Vec::<String>::new(), "an office PC with HTTP is a client, not an admin interface");
    assert_eq!(kinds(&site, 5), ["opcua-security-none"]);
    assert_eq!(kinds(&site, 6), ["smbv1"]);
    assert_eq!(kinds(&site, 7), ["cleartext-credentials", "insecure-admin-interface", "snmp-v1-v2c"]);
    assert_eq!(kinds(&site, 8), Vec::<String>::new());
}

#[test]
fn evidence_names_what_was_seen() {
    let site = plant();
    let recs = recommend(&site);
    let find = |id: i64, kind: &str| recs.devices[&id].iter().find(|r| r.kind == kind).cloned().expect(kind);
    let stop = find(1, "programming-from-non-engineering-host");
    assert_eq!(stop.priority, "high");
    assert_eq!(stop.evidence.len(), 1);
    assert!(stop.evidence[0].detail.contains("10.0.4.40 → 10.0.1.10 controller-stop cpu (event 2"), "{:?}", stop.evidence);
    let flat = find(1, "flat-network");
    assert!(flat.evidence[0].detail.contains("10.0.4.40 (level 4) → 10.0.1.10 (level 1) over s7comm"), "{:?}", flat.evidence);
    let snmp = find(7, "snmp-v1-v2c");
    assert_eq!(snmp.priority, "high", "public/private-like community");
    let internet = find(2, "internet-from-control-levels");
    assert_eq!(internet.priority, "critical");
    assert_eq!(internet.evidence.len(), 2, "baseline and connection: {:?}", internet.evidence);
    // Site level: one per kind, the critical one first.
    assert_eq!(recs.site[0].kind, "internet-from-control-levels");
    assert_eq!(recs.site.len(), 9);
}

#[test]
fn risk_counts_exposure_and_alerts() {
    let site = plant();
    let recs = recommend(&site);
    let risk = site_risk(&site, &recs);
    let plc = risk.devices.iter().find(|d| d.device_id == 1).expect("plc");
    let part = |name: &str| plc.parts.iter().find(|p| p.name == name).expect(name).clone();
    assert_eq!(part("alerts").points, 15.0);
    assert!(part("alerts").reasons[0].contains("alert 9 plc-stop"));
    assert_eq!(part("exposure").points, 16.0, "{:?}", part("exposure"));
    assert_eq!(part("criticality").points, 15.0);
    assert_eq!(part("vulnerabilities").points, 0.0);
    assert_eq!(plc.score, 46);
    // The HMI reaches the internet and the PLC is one hop away; the office PC is an entry point too.
    let entries: Vec<(i64, i64)> =
        risk.attack_paths.iter().map(|p| (p.hops[0].device_id, p.hops.last().map_or(0, |h| h.device_id))).collect();
    assert!(entries.contains(&(4, 1)), "{entries:?}");
    assert!(risk.attack_paths.iter().all(|p| p.hops.last().is_some_and(|h| h.device_id == 1)));
}
