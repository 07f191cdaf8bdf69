//! The dns dissector over arbitrary bytes, as datagrams and as streams.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_protocols::fuzzing::run::<palisade_protocols::dns::Dns>(data);
});
