//! The store suite: the same tests run against SQLite and PostgreSQL, so
//! both backends give the same answers.

use palisade_detect::{BaselineRow, Draft, Learning};
use palisade_engine::{build_inventory, ActivityLog, Observations};
use palisade_model::{AlertCategory, AlertStatus, Severity};
use palisade_model::{
    Contact, Endpoint, Event, IdentityFact, IdentityField, MacAddr, Operation, OperationKind, OperationResult, Protocol, Timestamp,
    Transport,
};
use palisade_store::{
    AlertQuery, AnalysisRecord, Database, DeviceQuery, DeviceSort, EventQuery, SessionRecord, StoreError, SyncCursor, UserUpdate,
    DEFAULT_SITE,
};
use std::collections::BTreeSet;

/// Opens the backend under test; opening twice gives the same data.
pub trait Backend {
    /// Opens (or reopens) the store.
    fn open(&self) -> Box<dyn Database>;
}

fn mac(n: u16) -> MacAddr {
    MacAddr([0, 0x1d, 0x9c, 0, (n >> 8) as u8, n as u8])
}

fn endpoint(n: u16, port: u16) -> Endpoint {
    Endpoint { mac: Some(mac(n)), ip: Some(format!("10.0.{}.{}", n / 200, n % 200 + 1).parse().unwrap()), port }
}

fn contact(client: u16, server: u16, protocol: Protocol, t: i64) -> Event {
    Event::Contact(Contact {
        first_seen: Timestamp(t * 1_000_000_000),
        last_seen: Timestamp((t + 5) * 1_000_000_000),
        client: endpoint(client, 50000),
        server: endpoint(server, 502),
        client_mac_inbound: None,
        server_mac_inbound: None,
        transport: Transport::Tcp,
        protocol: Some(protocol),
        also: Default::default(),
        packets_to_server: 3,
        packets_to_client: 3,
        bytes_to_server: 200,
        bytes_to_client: 200,
        link_broadcast: false,
    })
}

fn fact(who: u16, field: IdentityField, value: &str) -> Event {
    Event::Identity(IdentityFact {
        ts: Timestamp(1_000_000_000),
        subject: endpoint(who, 0),
        protocol: Protocol::Modbus,
        field,
        value: value.into(),
    })
}

fn write(who: u16, to: u16, t: i64) -> Event {
    Event::Operation(Operation {
        ts: Timestamp(t * 1_000_000_000),
        protocol: Protocol::Modbus,
        client: endpoint(who, 50000),
        server: endpoint(to, 502),
        kind: OperationKind::Write,
        code: 6,
        target: Some("holding 1".into()),
        result: OperationResult::Success,
        count: 1,
    })
}

/// Stores one analysis of `events`, merged with what was stored.
pub fn save(store: &mut dyn Database, events: &[Event]) {
    let mut obs = store.load_observations().expect("load");
    let mut new = Observations::default();
    new.ingest(events);
    obs.merge(new);
    let mut inv = build_inventory(&obs);
    let mut activity = ActivityLog::default();
    activity.ingest(events);
    let run = AnalysisRecord { inputs: vec!["test.pcap".into()], packets: 10, bytes: 1000, errors: vec![] };
    store.save_analysis(&obs, &mut inv, &activity, &run).expect("save");
}

/// A small plant: device 0 is an HMI polling PLCs 1..=20 over Modbus (PLCs
/// 1..=5 named and with a vendor), hosts 21..=40 talk HTTP to server 41.
fn plant() -> Vec<Event> {
    let mut events = Vec::new();
    for plc in 1..=20u16 {
        events.push(contact(0, plc, Protocol::Modbus, i64::from(plc)));
        events.push(fact(plc, IdentityField::Role, "plc"));
        if plc <= 5 {
            events.push(fact(plc, IdentityField::Hostname, &format!("plc-{plc:02}")));
            events.push(fact(plc, IdentityField::Vendor, "Acme Controls"));
        }
    }
    for host in 21..=40u16 {
        events.push(contact(host, 41, Protocol::Http, i64::from(host)));
    }
    events.push(write(0, 3, 100));
    events.push(write(0, 4, 101));
    events
}

pub fn devices_survive_reopening_and_keep_their_ids(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &[contact(1, 2, Protocol::Modbus, 1)]);
    let first = store.devices().unwrap();
    assert_eq!(first.len(), 2);
    drop(store);
    let mut store = backend.open();
    save(store.as_mut(), &[contact(3, 4, Protocol::Modbus, 2)]);
    let second = store.devices().unwrap();
    assert_eq!(second.len(), 4);
    for d in &first {
        let again = second.iter().find(|x| x.macs == d.macs).expect("device still there");
        assert_eq!(again.id, d.id, "id of {:?} changed", d.macs);
        assert_eq!(again.protocols, vec![Protocol::Modbus]);
    }
    let ids: BTreeSet<i64> = second.iter().map(|d| d.id).collect();
    assert_eq!(ids, (1..=4).collect());
    assert_eq!(store.load_observations().unwrap().macs.len(), 4);
}

fn all_pages(store: &dyn Database, mut query: DeviceQuery) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        let page = store.device_page(&query).unwrap();
        assert!(page.items.len() <= query.limit);
        ids.extend(page.items.iter().map(|d| d.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return ids,
        }
    }
}

pub fn device_lists_page_sort_filter_and_search(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &plant());
    let all = store.devices().unwrap();
    assert_eq!(all.len(), 42);
    let by_id: Vec<i64> = all.iter().map(|d| d.id).collect();
    assert_eq!(all_pages(store.as_ref(), DeviceQuery { limit: 5, ..Default::default() }), by_id);

    for (name, sort) in DeviceSort::ALL {
        for descending in [false, true] {
            let ids = all_pages(store.as_ref(), DeviceQuery { sort: *sort, descending, limit: 4, ..Default::default() });
            assert_eq!(ids.len(), 42, "sort {name} desc {descending}");
            let unique: BTreeSet<i64> = ids.iter().copied().collect();
            assert_eq!(unique.len(), 42, "sort {name} desc {descending} repeats or skips");
        }
    }
    // IP order is numeric: 10.0.0.2 before 10.0.0.10.
    let ips: Vec<String> = store
        .device_page(&DeviceQuery { sort: DeviceSort::Ip, limit: 12, ..Default::default() })
        .unwrap()
        .items
        .iter()
        .map(|d| d.ips[0].to_string())
        .collect();
    assert_eq!(ips[..3], ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    assert_eq!(ips[9], "10.0.0.10");
    let newest = store.device_page(&DeviceQuery { sort: DeviceSort::LastSeen, descending: true, limit: 1, ..Default::default() }).unwrap();
    assert_eq!(newest.items[0].ips[0].to_string(), "10.0.0.42", "server 41 was seen last");

    // The classification is the engine's business: count what it decided.
    let of_type = |t: &str| all.iter().filter(|d| d.device_type.as_str() == t).count() as u64;
    let at_level = |l: Option<u8>| all.iter().filter(|d| d.purdue_level == l).count() as u64;
    assert!(of_type("plc") >= 20, "the PLCs said they were");
    let plcs = DeviceQuery { device_type: Some("plc".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_page(&plcs).unwrap().items.len() as u64, of_type("plc"));
    assert!(store.device_page(&plcs).unwrap().items.iter().all(|d| d.device_type.as_str() == "plc"));
    assert_eq!(store.device_count(&plcs).unwrap(), of_type("plc"));
    let level1 = DeviceQuery { purdue_level: Some(1), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&level1).unwrap(), at_level(Some(1)));
    let unknown = DeviceQuery { purdue_level: Some(-1), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&unknown).unwrap(), at_level(None));
    let acme = DeviceQuery { vendor: Some("Acme Controls".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&acme).unwrap(), 5);
    let http = DeviceQuery { protocol: Some("http".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&http).unwrap(), 21);
    let search = DeviceQuery { search: Some("PLC-0".into()), limit: 50, ..Default::default() };
    let names: Vec<String> = store.device_page(&search).unwrap().items.iter().map(|d| d.hostnames[0].clone()).collect();
    assert_eq!(names, ["plc-01", "plc-02", "plc-03", "plc-04", "plc-05"]);
    let two_words = DeviceQuery { search: Some("acme plc-03".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&two_words).unwrap(), 1);
    let wildcard = DeviceQuery { search: Some("%".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&wildcard).unwrap(), 0, "LIKE wildcards match literally");
    let subnet = DeviceQuery { subnet: Some("10.0.0.0/24".into()), limit: 50, ..Default::default() };
    assert_eq!(store.device_count(&subnet).unwrap(), 42);

    let bad = DeviceQuery { cursor: Some("nonsense".into()), limit: 5, ..Default::default() };
    assert!(matches!(store.device_page(&bad), Err(StoreError::Invalid { .. })));
    let bad_int = DeviceQuery { sort: DeviceSort::LastSeen, cursor: Some("3.7a".into()), limit: 5, ..Default::default() };
    assert!(matches!(store.device_page(&bad_int), Err(StoreError::Invalid { .. })));

    let listed = store.device_list(&DeviceQuery { limit: 3, ..Default::default() }).unwrap();
    let first: serde_json::Value = serde_json::from_str(&listed.items[0]).unwrap();
    assert_eq!(first["id"], all[0].id);
    assert!(first.get("facts").is_none(), "lists leave the facts out");
    assert_eq!(first["ips"][0], all[0].ips[0].to_string());
    assert_eq!(listed.next_cursor, store.device_page(&DeviceQuery { limit: 3, ..Default::default() }).unwrap().next_cursor);
    let one = store.device(all[3].id).unwrap().expect("device by id");
    assert_eq!(one, all[3]);
    assert!(store.device(99_999).unwrap().is_none());

    let stats = store.device_stats(None).unwrap();
    assert_eq!(stats.total, 42);
    assert_eq!(stats.by_type.get("plc"), Some(&of_type("plc")));
    assert_eq!(stats.by_purdue_level.get("1"), Some(&at_level(Some(1))));
    assert_eq!(stats.by_purdue_level.get("unknown").copied().unwrap_or(0), at_level(None));
    assert_eq!(stats.top_vendors, [("Rockwell Automation".to_string(), 37), ("Acme Controls".to_string(), 5)], "OUI otherwise");
    let summaries = store.device_summaries(10).unwrap();
    assert_eq!(summaries.len(), 10);
    assert_eq!(summaries[0].subnet, "10.0.0.0/24");
}

pub fn events_page_newest_first(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &plant());
    let page = store.event_page(&EventQuery { limit: 1, ..Default::default() }).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].dst_ip.unwrap().to_string(), "10.0.0.5");
    let next = store.event_page(&EventQuery { limit: 1, cursor: page.next_cursor, ..Default::default() }).unwrap();
    assert_eq!(next.items[0].dst_ip.unwrap().to_string(), "10.0.0.4");
    assert!(next.next_cursor.is_none());
    let by_ip = store.event_page(&EventQuery { ips: vec!["10.0.0.4".into()], limit: 10, ..Default::default() }).unwrap();
    assert_eq!(by_ip.items.len(), 1);
    let none = store.event_page(&EventQuery { protocol: Some("s7comm".into()), limit: 10, ..Default::default() }).unwrap();
    assert!(none.items.is_empty());
    assert_eq!(store.events(&Default::default()).unwrap().len(), 2);
}

pub fn users_sessions_tokens_and_settings(backend: &dyn Backend) {
    let store = backend.open();
    let now = "2026-01-01T00:00:00Z";
    let admin = store.create_user("admin", "admin", "$argon2id$x", true, now).unwrap();
    assert!(admin.must_change_password);
    assert!(matches!(store.create_user("admin", "read-only", "h", false, now), Err(StoreError::Conflict { .. })));
    let viewer = store.create_user("viewer", "read-only", "h2", false, now).unwrap();
    assert_eq!(store.users().unwrap().iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["admin", "viewer"]);
    let (found, hash) = store.user_by_name("admin").unwrap().unwrap();
    assert_eq!((found.id, hash.as_str()), (admin.id, "$argon2id$x"));
    assert!(store
        .update_user(admin.id, &UserUpdate { password_hash: Some("new".into()), must_change_password: Some(false), ..Default::default() })
        .unwrap());
    let (again, hash) = store.user_by_name("admin").unwrap().unwrap();
    assert_eq!((again.must_change_password, hash.as_str()), (false, "new"));
    assert!(!store.update_user(12345, &UserUpdate { disabled: Some(true), ..Default::default() }).unwrap());

    let session =
        SessionRecord { token_hash: "abc".into(), user_id: admin.id, csrf_token: "csrf".into(), created_at: 100, expires_at: 200 };
    store.create_session(&session).unwrap();
    let (s, u) = store.session("abc", 150).unwrap().expect("live session");
    assert_eq!((s, u.username.as_str()), (session.clone(), "admin"));
    assert!(store.session("abc", 200).unwrap().is_none(), "expired");
    store.delete_sessions_of(admin.id, Some("abc")).unwrap();
    assert!(store.session("abc", 150).unwrap().is_some(), "kept");
    store.delete_session("abc").unwrap();
    assert!(store.session("abc", 150).unwrap().is_none());

    let token = store.create_api_token(viewer.id, "script", "th", now).unwrap();
    let (t, u) = store.use_api_token("th", "2026-01-02T00:00:00Z").unwrap().expect("token");
    assert_eq!((t.id, u.role.as_str(), t.last_used.as_deref()), (token.id, "read-only", Some("2026-01-02T00:00:00Z")));
    assert_eq!(store.api_tokens(Some(viewer.id)).unwrap().len(), 1);
    assert_eq!(store.api_tokens(Some(admin.id)).unwrap().len(), 0);
    assert!(store.delete_user(viewer.id).unwrap());
    assert!(store.use_api_token("th", now).unwrap().is_none(), "tokens go with their user");
    assert!(!store.delete_api_token(token.id).unwrap());

    store.set_setting("session_hours", "8").unwrap();
    store.set_setting("session_hours", "12").unwrap();
    assert_eq!(store.settings().unwrap().get("session_hours").map(String::as_str), Some("12"));
}

pub fn sites_sensors_and_analyses(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &[contact(1, 2, Protocol::Modbus, 1)]);
    let sites = store.sites().unwrap();
    assert_eq!(sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["default"]);
    let line2 = store.create_site("line 2", "packaging").unwrap();
    assert_eq!(store.sites().unwrap().len(), 2);
    assert!(line2.id > sites[0].id);
    assert!(matches!(store.create_site("line 2", ""), Err(StoreError::Conflict { .. })));
    let sensors = store.sensors().unwrap();
    assert_eq!(sensors.len(), 1);
    assert_eq!((sensors[0].kind.as_str(), sensors[0].analyses, sensors[0].packets), ("local", 1, 10));
    let analyses = store.analyses(10).unwrap();
    assert_eq!(analyses[0].inputs, ["test.pcap"]);
}

/// Thirty alerts: every third critical, the rest high; alert `i` comes
/// from 10.0.0.(i % 3 + 1) to 10.0.0.9, on day `i % 2`.
fn store_alerts(store: &mut dyn Database) -> Vec<i64> {
    let mut alerts: Vec<_> = (0..30)
        .map(|i| {
            let day = i64::from(i % 2) * 86_400 + 1_736_848_800;
            let mut d = Draft::new(
                AlertCategory::UnauthorizedWrite,
                Timestamp(day * 1_000_000_000),
                format!("Write number {i}"),
                "A host that only read now writes.".into(),
            );
            d.severity = if i % 3 == 0 { Severity::Critical } else { Severity::High };
            d.src_ip = Some(format!("10.0.0.{}", i % 3 + 1).parse().unwrap());
            d.dst_ip = Some("10.0.0.9".parse().unwrap());
            d.protocol = Some(Protocol::Modbus);
            d.detail = i.to_string();
            d.into_alert()
        })
        .collect();
    let baseline = vec![BaselineRow {
        kind: "service".into(),
        item: "10.0.0.1 10.0.0.2 modbus".into(),
        first_seen: Timestamp(1),
        last_seen: Timestamp(2),
        count: 3,
        learned: true,
        peak_bytes: 0,
        peak_packets: 0,
    }];
    store.save_detection(&mut alerts, &baseline, &Learning::default()).unwrap();
    alerts.iter().map(|a| a.id).collect()
}

pub fn alerts_page_filter_and_count(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &plant());
    let ids = store_alerts(store.as_mut());
    assert_eq!(ids.len(), 30);
    let mut seen = Vec::new();
    let mut query = AlertQuery { limit: 7, ..Default::default() };
    loop {
        let page = store.alert_page(&query).unwrap();
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let critical = AlertQuery { severity: Some("critical".into()), limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&critical).unwrap().items.len(), 10);
    let from_two = AlertQuery { hosts: vec!["10.0.0.2".into()], limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&from_two).unwrap().items.len(), 10);
    let to_nine = AlertQuery { hosts: vec!["10.0.0.9".into()], limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&to_nine).unwrap().items.len(), 30);
    let search = AlertQuery { search: Some("NUMBER 27".into()), limit: 100, ..Default::default() };
    let titles: Vec<String> = store.alert_page(&search).unwrap().items.iter().map(|a| a.title.clone()).collect();
    assert_eq!(titles, ["Write number 27"]);
    let by_address = AlertQuery { search: Some("10.0.0.3".into()), limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&by_address).unwrap().items.len(), 10, "search covers addresses");

    store.set_alert_status(ids[0], AlertStatus::Closed).unwrap();
    store.set_alert_status(ids[1], AlertStatus::Acknowledged).unwrap();
    let open = AlertQuery { statuses: vec!["new".into(), "acknowledged".into()], limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&open).unwrap().items.len(), 29);
    let stats = store.alert_stats(30, None).unwrap();
    assert_eq!(stats.open_by_severity.get("critical"), Some(&9));
    assert_eq!(stats.open_by_severity.get("high"), Some(&20));
    assert_eq!(stats.by_status.get("closed"), Some(&1));
    assert_eq!(stats.timeline.iter().map(|d| d.day.as_str()).collect::<Vec<_>>(), ["2025-01-14", "2025-01-15"]);
    assert_eq!(stats.timeline[0].counts.values().sum::<u64>(), 15);
    // 10.0.0.9 is the destination of all 29 open alerts: the riskiest host.
    assert_eq!(stats.top_risks[0].ip, "10.0.0.9");
    assert_eq!((stats.top_risks[0].alerts, stats.top_risks[0].score, stats.top_risks[0].worst.as_str()), (29, 9 * 10 + 20 * 5, "critical"));
    assert!(stats.top_risks[0].device_id.is_some(), "10.0.0.9 is a device of the plant");
    assert_eq!(store.device_id_of("10.0.0.9").unwrap(), stats.top_risks[0].device_id);
    assert_eq!(store.device_id_of("192.0.2.1").unwrap(), None);

    let links = store.service_links(&[], 100).unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].client.as_str(), links[0].server.as_str(), links[0].service.as_str(), links[0].learned),
        ("10.0.0.1", "10.0.0.2", "modbus", true)
    );
    assert_eq!(store.service_links(&["10.0.0.2".into()], 100).unwrap().len(), 1);
    assert!(store.service_links(&["10.0.0.3".into()], 100).unwrap().is_empty());
    let bad = AlertQuery { cursor: Some("x".into()), limit: 5, ..Default::default() };
    assert!(matches!(store.alert_page(&bad), Err(StoreError::Invalid { .. })));
}

pub fn sites_own_their_devices_events_and_alerts(backend: &dyn Backend) {
    let mut store = backend.open();
    save(store.as_mut(), &plant());
    store_alerts(store.as_mut());
    let line2 = store.create_site("line 2", "").unwrap();
    store.set_site(line2.id);
    assert_eq!(store.site_id(), line2.id);
    assert!(store.load_observations().unwrap().macs.is_empty(), "a new site starts empty");
    assert!(store.learning().unwrap().is_none(), "and learns on its own");
    // The same addresses at another site are other devices.
    save(store.as_mut(), &[contact(1, 2, Protocol::Modbus, 1), write(1, 2, 3)]);
    let devices = store.devices().unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d.id > 42), "ids are unique across sites: {:?}", devices.iter().map(|d| d.id).collect::<Vec<_>>());
    assert_eq!(store.events(&Default::default()).unwrap().len(), 1);
    assert!(store.alerts(&Default::default()).unwrap().is_empty());
    let mut alerts =
        vec![palisade_detect::Draft::new(AlertCategory::NewDevice, Timestamp(5), "New at line 2".into(), "x".into()).into_alert()];
    store.save_detection(&mut alerts, &[], &Learning::default()).unwrap();
    store.set_site(DEFAULT_SITE);
    assert_eq!(store.devices().unwrap().len(), 42, "the default site kept its devices");
    assert_eq!(store.alerts(&Default::default()).unwrap().len(), 30);
    let of = |site: Option<i64>| DeviceQuery { site, limit: 100, ..Default::default() };
    assert_eq!(store.device_count(&of(None)).unwrap(), 44);
    assert_eq!(store.device_count(&of(Some(line2.id))).unwrap(), 2);
    assert_eq!(store.device_count(&of(Some(DEFAULT_SITE))).unwrap(), 42);
    let sorted = DeviceQuery { sort: DeviceSort::Name, ..of(Some(line2.id)) };
    assert_eq!(store.device_page(&sorted).unwrap().items.len(), 2);
    let alerts_of = |site| AlertQuery { site: Some(site), limit: 100, ..Default::default() };
    assert_eq!(store.alert_page(&alerts_of(line2.id)).unwrap().items.len(), 1);
    assert_eq!(store.alert_page(&alerts_of(DEFAULT_SITE)).unwrap().items.len(), 30);
    assert_eq!(store.event_page(&EventQuery { site: Some(line2.id), limit: 10, ..Default::default() }).unwrap().items.len(), 1);
    // The dashboard's counts follow the site.
    let (line2_devices, all_devices) = (store.device_stats(Some(line2.id)).unwrap(), store.device_stats(None).unwrap());
    assert_eq!((line2_devices.total, all_devices.total, store.device_stats(Some(DEFAULT_SITE)).unwrap().total), (2, 44, 42));
    assert_eq!(line2_devices.by_type.values().sum::<u64>(), 2);
    let line2_alerts = store.alert_stats(30, Some(line2.id)).unwrap();
    assert_eq!(line2_alerts.by_status.values().sum::<u64>(), 1);
    assert!(line2_alerts.top_risks.is_empty(), "its one alert names no host");
    let default_alerts = store.alert_stats(30, Some(DEFAULT_SITE)).unwrap();
    assert_eq!(default_alerts.by_status.values().sum::<u64>(), 30);
    assert_eq!(default_alerts.top_risks[0].ip, "10.0.0.9");
    assert!(default_alerts.top_risks[0].device_id.is_some_and(|id| id <= 42), "the device of the site, not line 2's 10.0.0.x");
    assert_eq!(store.alert_stats(30, None).unwrap().by_status.values().sum::<u64>(), 31);
    let summaries = store.site_summaries().unwrap();
    let counts: Vec<(String, u64, u64)> = summaries.iter().map(|s| (s.site.name.clone(), s.devices, s.open_alerts)).collect();
    assert_eq!(counts, [("default".to_string(), 42, 30), ("line 2".to_string(), 2, 1)]);
    assert_eq!(summaries[0].sensors.len(), 1, "the local sensor");
}

pub fn upload_jobs_are_kept(backend: &dyn Backend) {
    let store = backend.open();
    let now = "2026-01-01T00:00:00Z";
    let a = store.create_job("a.pcap", 100, "admin", DEFAULT_SITE, now).unwrap();
    let b = store.create_job("b.pcap", 200, "admin", 2, now).unwrap();
    assert_eq!((a.state.as_str(), b.site_id), ("queued", 2));
    store.update_job(a.id, "running", 0, None, None).unwrap();
    store.update_job(b.id, "done", 12, Some("{\"devices\":3}"), None).unwrap();
    drop(store);
    let store = backend.open();
    assert_eq!(store.fail_unfinished_jobs("interrupted").unwrap(), 1);
    let jobs = store.jobs(10).unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [b.id, a.id], "newest first");
    assert_eq!((jobs[0].state.as_str(), jobs[0].packets, jobs[0].outcome.as_deref()), ("done", 12, Some("{\"devices\":3}")));
    assert_eq!((jobs[1].state.as_str(), jobs[1].error.as_deref()), ("failed", Some("interrupted")));
    assert_eq!(store.job(a.id).unwrap().unwrap(), jobs[1]);
    assert!(store.job(9999).unwrap().is_none());
}

pub fn sensor_bundles_sync_incrementally_and_atomically(backend: &dyn Backend) {
    // The sensor's database is the default site here; the console imports
    // into another site of the same database.
    let mut sensor = backend.open();
    save(sensor.as_mut(), &plant());
    store_alerts(sensor.as_mut());
    let first = sensor.sync_bundle(&SyncCursor::default(), 1, "sensor.db").unwrap();
    assert_eq!((first.devices.len(), first.events.len(), first.alerts.len(), first.more), (42, 1, 30, true));
    // The console: a site and its sensor.
    let console = backend.open();
    let site = console.create_site("remote plant", "").unwrap();
    let s = console.create_sensor(site.id, "rtu-gw", "hash-of-token", "2026-01-01T00:00:00Z").unwrap();
    assert_eq!((s.kind.as_str(), s.site_id), ("remote", site.id));
    assert_eq!(console.sensor_by_token("hash-of-token").unwrap().map(|x| x.id), Some(s.id));
    assert!(console.sensor_by_token("other").unwrap().is_none());
    assert!(matches!(console.create_sensor(999, "x", "h2", "now"), Err(StoreError::Invalid { .. })));

    // A bad bundle is refused whole: nothing of it is stored.
    let mut bad = first.clone();
    bad.events.push(palisade_engine::EventRecord { id: 0, ..bad.events[0].clone() });
    assert!(matches!(console.import_bundle(site.id, Some(s.id), &bad, "now"), Err(StoreError::Invalid { .. })));
    let mut wrong_format = first.clone();
    wrong_format.format = 99;
    assert!(matches!(console.import_bundle(site.id, Some(s.id), &wrong_format, "now"), Err(StoreError::Invalid { .. })));
    let mut clash = first.clone();
    clash.devices[1].id = clash.devices[0].id;
    assert!(console.import_bundle(site.id, Some(s.id), &clash, "now").is_err());
    let in_site = DeviceQuery { site: Some(site.id), limit: 100, ..Default::default() };
    assert_eq!(console.device_count(&in_site).unwrap(), 0);

    let counts = console.import_bundle(site.id, Some(s.id), &first, "2026-01-02T00:00:00Z").unwrap();
    assert_eq!((counts.devices, counts.events, counts.alerts), (42, 1, 30));
    let second = sensor.sync_bundle(&first.next, 1, "sensor.db").unwrap();
    assert_eq!(second.events.len(), 1);
    assert!(!second.more);
    // Sent twice (the answer was lost): stored once.
    for _ in 0..2 {
        console.import_bundle(site.id, Some(s.id), &second, "2026-01-02T00:01:00Z").unwrap();
    }
    assert_eq!(console.device_count(&in_site).unwrap(), 42);
    assert_eq!(console.event_page(&EventQuery { site: Some(site.id), limit: 10, ..Default::default() }).unwrap().items.len(), 2);
    let alerts = console.alert_page(&AlertQuery { site: Some(site.id), limit: 100, ..Default::default() }).unwrap();
    assert_eq!(alerts.items.len(), 30);
    let listed = console.device_page(&in_site).unwrap();
    assert!(listed.items.iter().any(|d| d.hostnames.contains(&"plc-03".to_string())));
    let sensor_row = console.sensors().unwrap().into_iter().find(|x| x.id == s.id).unwrap();
    assert_eq!(sensor_row.last_sync.as_deref(), Some("2026-01-02T00:01:00Z"));
    assert_eq!(sensor_row.synced_events, 2);

    // Nothing new: a bundle with nothing but the boundary.
    let third = sensor.sync_bundle(&second.next, 100, "sensor.db").unwrap();
    assert!(third.events.is_empty());
    // A new device on the sensor reaches the console; its ids stay put.
    save(sensor.as_mut(), &[contact(0, 150, Protocol::Modbus, 500)]);
    let fourth = sensor.sync_bundle(&third.next, 100, "sensor.db").unwrap();
    assert!(fourth.devices.len() < 42, "only what changed: {}", fourth.devices.len());
    console.import_bundle(site.id, Some(s.id), &fourth, "now").unwrap();
    assert_eq!(console.device_count(&in_site).unwrap(), 43);
    assert_eq!(console.device_count(&DeviceQuery { site: Some(DEFAULT_SITE), limit: 10, ..Default::default() }).unwrap(), 43);
}

/// Declares one `#[test]` per suite test for a backend.
#[macro_export]
macro_rules! store_suite {
    ($backend:expr) => {
        #[test]
        fn devices_survive_reopening_and_keep_their_ids() {
            suite::devices_survive_reopening_and_keep_their_ids(&$backend);
        }
        #[test]
        fn device_lists_page_sort_filter_and_search() {
            suite::device_lists_page_sort_filter_and_search(&$backend);
        }
        #[test]
        fn events_page_newest_first() {
            suite::events_page_newest_first(&$backend);
        }
        #[test]
        fn users_sessions_tokens_and_settings() {
            suite::users_sessions_tokens_and_settings(&$backend);
        }
        #[test]
        fn alerts_page_filter_and_count() {
            suite::alerts_page_filter_and_count(&$backend);
        }
        #[test]
        fn sites_own_their_devices_events_and_alerts() {
            suite::sites_own_their_devices_events_and_alerts(&$backend);
        }
        #[test]
        fn upload_jobs_are_kept() {
            suite::upload_jobs_are_kept(&$backend);
        }
        #[test]
        fn sensor_bundles_sync_incrementally_and_atomically() {
            suite::sensor_bundles_sync_incrementally_and_atomically(&$backend);
        }
        #[test]
        fn sites_sensors_and_analyses() {
            suite::sites_sensors_and_analyses(&$backend);
        }
    };
}
