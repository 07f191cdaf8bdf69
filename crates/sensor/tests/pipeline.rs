//! The multi-core pipeline must see exactly what one analyzer sees: the
//! same conversations, endpoints and facts, whatever the worker count.

use palisade_capture::{open_input, Input};
use palisade_model::{Event, Transport};
use palisade_sensor::{analyze_path_events, run, Opener, PipelineConfig, Progress};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pcaps");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/testdata not present");
        None
    }
}

/// A comparable digest of events: who talked to whom over what, with
/// packet totals, and every identity fact.
fn digest(events: &[Event]) -> (BTreeSet<String>, u64, BTreeSet<String>) {
    let mut pairs = BTreeSet::new();
    let mut packets = 0;
    let mut facts = BTreeSet::new();
    for e in events {
        match e {
            Event::Contact(c) => {
                if c.transport != Transport::Ethernet(0x0806) {
                    packets += c.packets_to_server + c.packets_to_client;
                }
                pairs.insert(format!("{:?} {:?} {:?} {:?}", c.client.ip, c.server.ip, c.transport, c.protocol));
            }
            Event::Identity(f) => {
                facts.insert(format!("{:?} {:?} {} {}", f.subject.ip, f.subject.mac, f.field, f.value));
            }
            _ => {}
        }
    }
    (pairs, packets, facts)
}

fn pipeline_events(path: &Path, workers: usize) -> Vec<Event> {
    let input = Input::Path(path.to_path_buf());
    let opener: Opener = Box::new(move || open_input(&input));
    let mut all = Vec::new();
    let config = PipelineConfig { workers, ..Default::default() };
    let stats =
        run(vec![(path.display().to_string(), opener)], &config, Arc::new(Progress::default()), |events| all.extend_from_slice(events));
    assert!(stats.inputs.iter().all(|i| i.errors.is_empty()), "{:?}", stats.inputs);
    all
}

#[test]
fn sharded_pipeline_matches_single_analyzer() {
    let Some(dir) = shared() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next() else { continue };
        let path = dir.join(file);
        let single = digest(&analyze_path_events(&path).expect("analyse"));
        for workers in [1, 2, 3] {
            let multi = digest(&pipeline_events(&path, workers));
            assert_eq!(single, multi, "{file} with {workers} workers");
        }
    }
}

#[test]
fn packets_are_all_counted() {
    let Some(dir) = shared() else { return };
    let path = dir.join("enip/icsnpp_enip_cip_example.pcap");
    let input = Input::Path(path.clone());
    let opener: Opener = Box::new(move || open_input(&input));
    let stats =
        run(vec![("enip".into(), opener)], &PipelineConfig { workers: 2, ..Default::default() }, Arc::new(Progress::default()), |_| {});
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    let expected: u64 = manifest
        .lines()
        .find(|l| l.starts_with("enip/icsnpp_enip_cip_example.pcap"))
        .and_then(|l| l.split('\t').nth(4))
        .and_then(|n| n.parse().ok())
        .expect("packet count in manifest");
    assert_eq!(stats.analyzer.packets, expected);
    assert_eq!(stats.inputs[0].packets, expected);
}
