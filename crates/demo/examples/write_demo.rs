//! Writes the demo capture: `cargo run -p palisade-demo --example write_demo -- OUT.pcap [SECONDS] [SEED]`.

use palisade_demo::{write_demo_capture, DemoOptions};
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| String::from("demo.pcap"));
    let mut opts = DemoOptions::default();
    if let Some(secs) = args.next().and_then(|s| s.parse().ok()) {
        opts.duration_secs = secs;
    }
    if let Some(seed) = args.next().and_then(|s| s.parse().ok()) {
        opts.seed = seed;
    }
    let started = std::time::Instant::now();
    let file = BufWriter::new(std::fs::File::create(&path)?);
    let summary = write_demo_capture(&opts, file)?;
    eprintln!("{path}: {} packets, {} bytes, {} hosts in {:?}", summary.packets, summary.bytes, summary.hosts.len(), started.elapsed());
    Ok(())
}
