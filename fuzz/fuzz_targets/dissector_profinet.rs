//! The PROFINET DCP and PNIO-CM dissectors over arbitrary bytes, as
//! layer-2 frames and UDP datagrams (and as streams).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_protocols::fuzzing::run::<palisade_protocols::profinet::ProfinetDcp>(data);
    palisade_protocols::fuzzing::run::<palisade_protocols::profinet::ProfinetRpc>(data);
});
