//! The whole packet path: the input becomes a sequence of mostly well-formed
//! frames (see `palisade_fuzz::frames`) fed to one analyzer, which exercises
//! decoding, flows, TCP reassembly, defragmentation and every dissector.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::frames::Frames;
use palisade_sensor::Analyzer;

fuzz_target!(|data: &[u8]| {
    let mut analyzer = Analyzer::new(Default::default());
    let mut events = Vec::new();
    for frame in Frames::new(data) {
        analyzer.packet(frame.ts, frame.link_type, &frame.data, frame.data.len() as u32);
        analyzer.take_events(&mut events);
        events.clear();
    }
    analyzer.finish();
    analyzer.take_events(&mut events);
});
