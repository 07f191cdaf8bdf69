//! Classic pcap reader over arbitrary bytes: the first byte picks one of the
//! four magic numbers (byte order, µs/ns), the rest is the file after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::read_capture;

const MAGICS: [[u8; 4]; 4] = [[0xd4, 0xc3, 0xb2, 0xa1], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0xa1, 0xb2, 0x3c, 0x4d]];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut file = MAGICS[usize::from(pick % 4)].to_vec();
    file.extend_from_slice(rest);
    read_capture(&file);
});
