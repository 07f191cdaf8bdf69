//! Ftp dissector over arbitrary bytes: probe, datagram and stream cut at
//! arbitrary points, both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_protocols::fuzzing::run::<palisade_protocols::ftp::Ftp>(data);
});
