//! pcapng reader over arbitrary bytes. The first byte picks the section's
//! byte order; a valid section header block in that order is written first
//! (so the fuzzer starts past the magic numbers), then the rest of the input
//! as the blocks after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::read_capture;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let be = pick & 1 == 1;
    let word = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut file = Vec::with_capacity(28 + rest.len());
    file.extend_from_slice(&[0x0a, 0x0d, 0x0d, 0x0a]);
    file.extend_from_slice(&word(28));
    file.extend_from_slice(&word(0x1a2b_3c4d));
    file.extend_from_slice(&word(1));
    file.extend_from_slice(&[0xff; 8]);
    file.extend_from_slice(&word(28));
    file.extend_from_slice(rest);
    read_capture(&file);
});
