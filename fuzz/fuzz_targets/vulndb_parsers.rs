//! The vulnerability data parsers (NVD CVE JSON 2.0 in every layout, the
//! NVD CPE dictionary, CSAF 2.0, the CISA KEV catalog, CPE names, version
//! ranges, OS names) over arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    palisade_vulndb::fuzzing::parse_all(data);
});
