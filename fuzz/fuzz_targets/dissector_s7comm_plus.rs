//! The s7comm_plus dissector over arbitrary bytes, as datagrams and as streams.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_protocols::fuzzing::run::<palisade_protocols::s7comm_plus::S7commPlus>(data);
});
