//! Writes a detection scenario capture and its threat intelligence:
//! `cargo run -p palisade-demo --example write_scenario -- attacks|quiet OUT.pcap [LEARNING_SECS] [SEED]`.
//! The intelligence the attack scenario contacts goes to `OUT.intel.txt`; analyse with
//! `palisade analyze --learning-period LEARNING_SECS s --intel OUT.intel.txt OUT.pcap`.

use palisade_demo::{write_scenario, ScenarioKind, ScenarioOptions, SCENARIO_INTEL};
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let kind = match args.next().as_deref() {
        Some("quiet") => ScenarioKind::Quiet,
        Some("attacks") | None => ScenarioKind::Attacks,
        Some(other) => {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("unknown scenario {other:?}; use attacks or quiet")))
        }
    };
    let path = args.next().unwrap_or_else(|| String::from("scenario.pcap"));
    let mut opts = ScenarioOptions { kind, ..Default::default() };
    if let Some(secs) = args.next().and_then(|s| s.parse().ok()) {
        opts.learning_secs = secs;
    }
    if let Some(seed) = args.next().and_then(|s| s.parse().ok()) {
        opts.seed = seed;
    }
    let summary = write_scenario(&opts, BufWriter::new(std::fs::File::create(&path)?))?;
    std::fs::write(format!("{path}.intel.txt"), SCENARIO_INTEL)?;
    eprintln!("{path}: {} packets, {} bytes; learning period {} s", summary.packets, summary.bytes, summary.learning_secs);
    Ok(())
}
