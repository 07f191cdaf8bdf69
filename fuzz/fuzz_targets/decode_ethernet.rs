//! Frame decoding: Ethernet for most inputs, another link type when the
//! first byte is below 64 (chosen by that byte).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_capture::LinkType;
use palisade_decode::{decode, decode_network};
use palisade_fuzz::frames::LINK_TYPES;

fuzz_target!(|data: &[u8]| {
    let link = match data.first() {
        Some(&b) if b < 64 => LINK_TYPES[usize::from(b) % LINK_TYPES.len()],
        _ => LinkType::Ethernet,
    };
    let frame = decode(link, data);
    let network = decode_network(link, data);
    assert_eq!(frame.src_mac, network.src_mac);
    assert_eq!(frame.ip().map(|ip| (ip.src, ip.dst)), network.ip().map(|ip| (ip.src, ip.dst)));
});
