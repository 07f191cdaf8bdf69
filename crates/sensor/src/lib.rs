//! The packet path: capture → decode → flow → dissect → events.
//!
//! [`Analyzer`] is one worker's whole job on one thread (it owns its flow
//! table, so no locks). [`run`] shards packets across several analyzers by
//! a symmetric host-pair hash and hands their events to the caller.

mod analyzer;
mod defrag;
mod evidence;
mod pipeline;
mod syn;
pub mod testdata;

pub use analyzer::{Analyzer, AnalyzerStats};
pub use evidence::PacketOrigin;
pub use palisade_flow::TableLimits;
pub use pipeline::{run, run_batches, EventBatch, InputReport, Opener, PipelineConfig, Progress, RunStats};

use palisade_capture::{expand_inputs, open_input};
use palisade_model::Event;
use std::path::Path;

/// Analyses one capture file or directory on the calling thread and returns
/// every event (for tests and small inputs). An error that stopped the
/// input part-way is returned as `Err` only if no packet was read.
pub fn analyze_path_events(path: &Path) -> Result<Vec<Event>, String> {
    let input = expand_inputs(&[path.display().to_string()]).pop().ok_or("no input")?;
    let mut source = open_input(&input).map_err(|e| e.to_string())?;
    let mut analyzer = Analyzer::new(Default::default());
    let mut events = Vec::new();
    let mut read = 0u64;
    while let Some(next) = source.next_packet() {
        match next {
            Ok(p) => {
                read += 1;
                analyzer.packet(p.ts, p.link_type, p.data, p.orig_len);
                analyzer.take_events(&mut events);
            }
            Err(e) if read == 0 => return Err(e.to_string()),
            Err(_) => break,
        }
    }
    analyzer.finish();
    analyzer.take_events(&mut events);
    Ok(events)
}
