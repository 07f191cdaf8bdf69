//! The multi-core pipeline must see exactly what one analyzer sees: the
//! same conversations, endpoints and facts, whatever the worker count.

use palisade_capture::{open_input, Input};
use palisade_model::{Event, Protocol, ProtocolSet, Transport};
use palisade_sensor::testdata::shared_dir;
use palisade_sensor::{analyze_path_events, run, Opener, PipelineConfig, Progress, RunStats};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

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

/// Runs the pipeline with `workers` workers over one capture, handing each
/// batch of events to `on_events`.
fn run_pipeline(path: &Path, workers: usize, on_events: impl FnMut(&[Event])) -> RunStats {
    let input = Input::Path(path.to_path_buf());
    let opener: Opener = Box::new(move || open_input(&input));
    let config = PipelineConfig { workers, ..Default::default() };
    run(vec![(path.display().to_string(), opener)], &config, Arc::new(Progress::default()), on_events)
}

fn pipeline_events(path: &Path, workers: usize) -> Vec<Event> {
    let mut all = Vec::new();
    let stats = run_pipeline(path, workers, |events| all.extend_from_slice(events));
    assert!(stats.inputs.iter().all(|i| i.errors.is_empty()), "{:?}", stats.inputs);
    all
}

#[test]
fn sharded_pipeline_matches_single_analyzer() {
    let Some(dir) = shared_dir() else { return };
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
    let Some(dir) = shared_dir() else { return };
    let path = dir.join("enip/icsnpp_enip_cip_example.pcap");
    let stats = run_pipeline(&path, 2, |_| {});
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

#[test]
fn disabled_dissectors_still_count_their_flows() {
    let Some(dir) = shared_dir() else { return };
    let path = dir.join("enip/icsnpp_enip_cip_example.pcap");
    let run_with = |disabled: ProtocolSet| {
        let input = Input::Path(path.clone());
        let opener: Opener = Box::new(move || open_input(&input));
        let config = PipelineConfig { workers: 2, disabled_dissectors: disabled, ..Default::default() };
        let mut events = Vec::new();
        let stats =
            run(vec![(path.display().to_string(), opener)], &config, Arc::new(Progress::default()), |e| events.extend_from_slice(e));
        (stats, events)
    };
    let (all_stats, all_events) = run_with(ProtocolSet::default());
    let (off_stats, off_events) = run_with(ProtocolSet::all());
    let enip = |events: &[Event]| {
        events.iter().filter(|e| matches!(e, Event::Operation(o) if o.protocol == Protocol::Enip || o.protocol == Protocol::Cip)).count()
    };
    assert!(enip(&all_events) > 0, "the EtherNet/IP dissector reports operations");
    assert_eq!(enip(&off_events), 0, "no dissector runs when all are disabled");
    assert_eq!(all_stats.analyzer.packets, off_stats.analyzer.packets);
    assert_eq!(all_stats.analyzer.flows, off_stats.analyzer.flows);
    assert_eq!(digest(&all_events).1, digest(&off_events).1, "the same packets are counted in conversations");
}
