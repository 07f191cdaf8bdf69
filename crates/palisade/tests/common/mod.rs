//! Helpers of the tests that run the `palisade` binary over the shared
//! captures.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Analyses `capture` into the database `db`, then returns the JSON array
/// that `palisade <listing...> --json --db <db>` prints.
pub fn analyze_and_list(capture: &Path, db: &Path, listing: &[&str]) -> Vec<Value> {
    let bin = env!("CARGO_BIN_EXE_palisade");
    let out = Command::new(bin).arg("analyze").arg("--db").arg(db).arg(capture).output().expect("run palisade analyze");
    assert!(out.status.success(), "analyze {} failed: {}", capture.display(), String::from_utf8_lossy(&out.stderr));
    let out = Command::new(bin).args(listing).arg("--json").arg("--db").arg(db).output().expect("run palisade listing");
    assert!(out.status.success(), "{listing:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

/// The protocols the registry dissects: those with a port, an ethertype or
/// a SNAP id to be recognised by.
pub fn registered() -> Vec<&'static str> {
    palisade_protocols::FlowDissector::REGISTRATIONS
        .iter()
        .filter(|r| !r.tcp_ports.is_empty() || !r.udp_ports.is_empty() || !r.ethertypes.is_empty() || !r.snap.is_empty())
        .map(|r| r.protocol.as_str())
        .collect()
}
