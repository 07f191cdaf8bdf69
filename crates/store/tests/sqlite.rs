//! The SQLite store: migrations, round trips, stable ids, and nothing lost
//! when a later save fails.

use palisade_engine::{build_inventory, Observations};
use palisade_model::{Contact, Endpoint, Event, MacAddr, Protocol, Timestamp, Transport};
use palisade_store::{AnalysisRecord, SqliteStore, Store};

fn contact(mac: u8, ip: &str, peer: &str) -> Event {
    Event::Contact(Contact {
        first_seen: Timestamp(1_000_000_000),
        last_seen: Timestamp(2_000_000_000),
        client: Endpoint { mac: Some(MacAddr([0, 0x1d, 0x9c, 0, 0, mac])), ip: Some(ip.parse().unwrap()), port: 50000 },
        server: Endpoint { mac: Some(MacAddr([0, 0x1d, 0x9c, 0, 1, mac])), ip: Some(peer.parse().unwrap()), port: 502 },
        client_mac_inbound: None,
        server_mac_inbound: None,
        transport: Transport::Tcp,
        protocol: Some(Protocol::Modbus),
        also: Default::default(),
        packets_to_server: 3,
        packets_to_client: 3,
        bytes_to_server: 200,
        bytes_to_client: 200,
        link_broadcast: false,
    })
}

fn save(store: &mut SqliteStore, events: &[Event]) {
    let mut obs = store.load_observations().expect("load");
    let mut new = Observations::default();
    new.ingest(events);
    obs.merge(new);
    let mut inv = build_inventory(&obs);
    store.save_analysis(&obs, &mut inv, &Default::default(), &AnalysisRecord::default()).expect("save");
}

#[test]
fn devices_survive_reopening_and_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut store = SqliteStore::open(&path).unwrap();
    save(&mut store, &[contact(1, "10.0.0.1", "10.0.0.2")]);
    let first = store.devices().unwrap();
    assert_eq!(first.len(), 2);
    drop(store);

    let mut store = SqliteStore::open(&path).unwrap();
    save(&mut store, &[contact(3, "10.0.0.3", "10.0.0.4")]);
    let second = store.devices().unwrap();
    assert_eq!(second.len(), 4);
    for d in &first {
        let again = second.iter().find(|x| x.macs == d.macs).expect("device still there");
        assert_eq!(again.id, d.id, "id of {:?} changed", d.macs);
        assert_eq!(again.protocols, vec![Protocol::Modbus]);
    }
    let ids: std::collections::BTreeSet<i64> = second.iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), 4, "ids are unique");
}

#[test]
fn a_database_from_the_future_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')", []).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    std::fs::write(&path, b"this is not sqlite, just text that is long enough to be read as a header....................................")
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("refused").to_string();
    assert!(err.contains("t.db"), "{err}");
}
