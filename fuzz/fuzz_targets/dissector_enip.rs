//! The EtherNet/IP and CIP I/O dissectors over arbitrary bytes, as datagrams
//! and as streams.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_protocols::fuzzing::run::<palisade_protocols::enip::Enip>(data);
    palisade_protocols::fuzzing::run::<palisade_protocols::enip::CipIo>(data);
});
