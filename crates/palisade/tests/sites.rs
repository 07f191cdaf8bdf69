//! `--site`: one database with several sites (a console's, or a sensor's
//! that analyses more than one network) is analysed into and listed per
//! site; the default site is the default; an unknown site is a usage error.

use palisade_store::{ConsoleStore, SqliteStore};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_palisade");

fn palisade(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn run(args: &[&str]) -> String {
    let out = palisade(args);
    assert!(out.status.success(), "palisade {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run(args)).unwrap()
}

fn len(value: &serde_json::Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

#[test]
fn commands_work_in_the_site_they_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("console.db").display().to_string();
    let capture = dir.path().join("plant.pcap").display().to_string();
    run(&["demo", "--no-serve", "--duration", "60", "--db", &db, "--capture", &capture]);
    let north = SqliteStore::open(std::path::Path::new(&db)).unwrap().create_site("north plant", "").unwrap();
    let id = north.id.to_string();

    let default_devices = json(&["devices", "--db", &db, "--json"]);
    assert!(len(&default_devices) > 10);
    assert_eq!(len(&json(&["devices", "--db", &db, "--site", "north plant", "--json"])), 0, "a new site is empty");

    run(&["analyze", "--db", &db, "--site", "north plant", "--learning-period", "30s", &capture]);
    let north_devices = json(&["devices", "--db", &db, "--site", "north plant", "--json"]);
    assert_eq!(len(&north_devices), len(&default_devices), "the same capture gives the same devices in the other site");
    assert_eq!(json(&["devices", "--db", &db, "--site", &id, "--json"]), north_devices, "a site by id is the same site");
    assert_eq!(
        len(&json(&["devices", "--db", &db, "--site", "default", "--json"])),
        len(&default_devices),
        "the default site is unchanged"
    );

    let count = json(&["count", "--db", &db, "--site", &id, "--json"]);
    assert_eq!(count[0]["site"], "north plant", "{count}");
    assert_eq!(json(&["count", "--db", &db, "--json"])[0]["site"], "default");
    assert!(len(&json(&["events", "--db", &db, "--site", "north plant", "--json"])) > 0);
    assert!(len(&json(&["alerts", "--db", &db, "--site", "north plant", "--json"])) > 0);
    let from = "2000-01-01T00:00:00Z";
    let diff = json(&["baseline", "diff", "--db", &db, "--site", "north plant", "--from", from, "--to", "2100-01-01T00:00:00Z", "--json"]);
    assert!(len(&diff["added"]) > 0, "{diff}");
    run(&["baseline", "learn", "--db", &db, "--site", "north plant", "--period", "1h"]);

    for args in [
        vec!["devices", "--db", &db, "--site", "south plant"],
        vec!["analyze", "--db", &db, "--site", "99", &capture],
        vec!["alerts", "--db", &db, "--site", "nowhere"],
    ] {
        let out = palisade(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no site") && stderr.contains("2 (north plant)"), "{stderr}");
    }
}
