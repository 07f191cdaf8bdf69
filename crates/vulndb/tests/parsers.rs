//! The advisory parsers never panic: every fixture (NVD CVE and CPE JSON
//! 2.0, CSAF 2.0, the KEV catalog) cut short at many points and mutated
//! byte by byte goes through all of them (the same entry point as the
//! `vulndb_parsers` fuzz target), and bad input is an error, not a crash.

mod common;

use palisade_vulndb::fuzzing::parse_all;
use std::path::PathBuf;

/// Every fixture file.
fn fixture_files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [common::fixtures(), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures-os")] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fixtures").filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).expect("read");
            out.push((p, bytes));
        }
    }
    out
}

/// A small deterministic generator (xorshift64), so every run mutates alike.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn whole_fixtures_parse() {
    for (path, bytes) in fixture_files() {
        assert!(parse_all(&bytes) > 0, "{}", path.display());
    }
}

#[test]
fn truncated_fixtures_do_not_panic() {
    for (_, bytes) in fixture_files() {
        for i in 0..=64 {
            parse_all(bytes.get(..bytes.len() * i / 64).unwrap_or(&[]));
        }
    }
}

#[test]
fn mutated_fixtures_do_not_panic() {
    // Bytes that change a JSON document's shape or values.
    const NASTY: &[&[u8]] = &[
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\\",
        b"\0",
        b"-",
        b"99999999999999999999999",
        b"1e400",
        b"null",
        b"\xff\xfe",
        b"\\ud800",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for (_, bytes) in fixture_files() {
        for _ in 0..128 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len());
                let what = NASTY.get(rng.below(NASTY.len())).copied().unwrap_or(b"\"");
                match rng.below(3) {
                    0 => m.splice(at..(at + what.len()).min(m.len()), what.iter().copied()).for_each(drop),
                    1 => m.splice(at..at, what.iter().copied()).for_each(drop),
                    _ => {
                        m.remove(at);
                    }
                }
            }
            parse_all(&m);
        }
    }
}

#[test]
fn hostile_shapes_are_errors() {
    let deep = |open: &str, close: &str| {
        format!("{{\"format\":\"NVD_CVE\",\"vulnerabilities\":{}{}}}", open.repeat(100_000), close.repeat(100_000))
    };
    for text in [
        deep("[", "]"),
        deep("{\"cve\":", "}"),
        "{\"vulnerabilities\":[{\"cve\":{\"id\":\"CVE-1\",\"configurations\":[{\"nodes\":[{\"cpeMatch\":[{\"criteria\":\"cpe:2.3:\\\\\"}]}]}]}}]}".into(),
        "{\"document\":{\"csaf_version\":\"2.0\"},\"product_tree\":{\"branches\":".to_string() + &"[{\"branches\":".repeat(10_000),
        "{\"catalogVersion\":1,\"vulnerabilities\":[{\"cveID\":7}]}".into(),
        String::new(),
    ] {
        assert_eq!(parse_all(text.as_bytes()), 0, "{}", text.get(..80).unwrap_or(&text));
    }
}
