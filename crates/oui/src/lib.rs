//! MAC address vendor lookup from an embedded copy of the IEEE registries
//! (MA-L 24-bit, MA-M 28-bit, MA-S and IAB 36-bit assignments).
//!
//! The table lives in `data/oui.tsv.gz`: gzip-compressed text, one
//! assignment per line, `PREFIX<TAB>BITS<TAB>ORGANISATION`, where `PREFIX` is
//! `BITS / 4` upper-case hex digits. It is embedded in the binary and decoded
//! once on first use. [`refresh`] rebuilds it from the IEEE CSV files.

mod csv;
mod refresh;

use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;

use palisade_model::MacAddr;

pub use refresh::{refresh, OuiError, RefreshSummary};

/// The compressed registry table committed with the crate.
static DATA: &[u8] = include_bytes!("../data/oui.tsv.gz");

/// Organisation name IEEE publishes for assignments whose holder asked to be
/// unlisted; such a match means "vendor withheld", so lookups give `None`.
const PRIVATE: &str = "Private";

/// Assignment sizes in bits, longest (most specific) first.
const BITS: [u8; 3] = [36, 28, 24];

/// Organisation registered for the MAC's prefix, longest prefix first.
///
/// Returns `None` for group (multicast/broadcast) and locally administered
/// addresses, for unassigned prefixes and for assignments registered as
/// "Private".
pub fn vendor(mac: MacAddr) -> Option<&'static str> {
    if mac.is_group() || mac.is_locally_administered() {
        return None;
    }
    table().lookup(mac)
}

/// One assignment of the decoded table.
struct Entry {
    /// The assigned prefix, right-aligned (e.g. `0x001b1b` for a 24-bit one).
    prefix: u64,
    /// Byte range of the organisation name in [`Table::text`].
    name: Range<usize>,
}

/// The decoded table: the text of the data file and, per assignment size,
/// its entries sorted by prefix.
#[derive(Default)]
struct Table {
    text: String,
    /// Indexed like [`BITS`].
    levels: [Vec<Entry>; 3],
}

impl Table {
    /// Decodes a compressed table; `None` if it is not one.
    fn decode(gz: &[u8]) -> Option<Table> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz).read_to_string(&mut text).ok()?;
        let mut levels: [Vec<Entry>; 3] = Default::default();
        let mut offset = 0;
        for line in text.split('\n') {
            let line_start = offset;
            offset += line.len() + 1;
            if line.is_empty() {
                continue;
            }
            let (prefix, bits, name) = parse_line(line)?;
            let level = BITS.iter().position(|&b| b == bits)?;
            // The name is the last field of the line.
            let name_start = line_start + line.len() - name.len();
            levels.get_mut(level)?.push(Entry { prefix, name: name_start..name_start + name.len() });
        }
        for level in &mut levels {
            level.sort_by_key(|e| e.prefix);
        }
        Some(Table { text, levels })
    }

    /// Longest registered prefix of `mac`, if any and not "Private".
    fn lookup(&self, mac: MacAddr) -> Option<&str> {
        let value = mac.0.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        BITS.iter()
            .zip(&self.levels)
            .find_map(|(&bits, level)| {
                let key = value >> (48 - u32::from(bits));
                let i = level.binary_search_by_key(&key, |e| e.prefix).ok()?;
                self.text.get(level.get(i)?.name.clone())
            })
            .filter(|name| *name != PRIVATE)
    }
}

/// The embedded table, decoded on first use (empty if the data file were
/// ever corrupt; a test guards against that).
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::decode(DATA).unwrap_or_default())
}

/// Number of hex digits of a `bits`-long prefix.
fn hex_digits(bits: u8) -> usize {
    usize::from(bits / 4)
}

/// Parses `PREFIX<TAB>BITS<TAB>NAME`.
fn parse_line(line: &str) -> Option<(u64, u8, &str)> {
    let mut parts = line.splitn(3, '\t');
    let (hex, bits, name) = (parts.next()?, parts.next()?, parts.next()?);
    let bits: u8 = bits.parse().ok().filter(|b| BITS.contains(b))?;
    let prefix = parse_hex(hex, hex_digits(bits))?;
    (!name.is_empty()).then_some((prefix, bits, name))
}

/// Formats one table line (with trailing newline); inverse of [`parse_line`].
fn format_line(prefix: u64, bits: u8, name: &str) -> String {
    let width = hex_digits(bits);
    format!("{prefix:0width$X}\t{bits}\t{name}\n")
}

/// Parses exactly `digits` hex digits.
fn parse_hex(hex: &str, digits: usize) -> Option<u64> {
    (hex.len() == digits && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| u64::from_str_radix(hex, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn v(mac: &str) -> Option<&'static str> {
        vendor(MacAddr::parse(mac).unwrap_or_else(|| panic!("bad test MAC {mac}")))
    }

    #[test]
    fn embedded_table_decodes_completely() {
        let t = Table::decode(DATA).expect("embedded table must decode");
        let lines = t.text.lines().count();
        let entries: usize = t.levels.iter().map(Vec::len).sum();
        assert_eq!(entries, lines);
        assert!(entries > 40_000, "only {entries} entries");
        assert!(t.levels.iter().all(|l| !l.is_empty()));
        assert!(DATA.len() < 1_000_000, "data file grew to {} bytes", DATA.len());
    }

    #[test]
    fn known_ot_vendors() {
        assert_eq!(v("00:1b:1b:01:02:03"), Some("Siemens AG"));
        assert_eq!(v("00:00:bc:aa:bb:cc"), Some("Rockwell Automation"));
        assert_eq!(v("00:1d:9c:12:34:56"), Some("Rockwell Automation"));
        assert_eq!(v("00:80:f4:00:00:01"), Some("TELEMECANIQUE ELECTRIQUE"));
    }

    #[test]
    fn longest_prefix_wins() {
        // MA-M 38:FD:FE:3 and 20:85:93:B inside MA-L blocks of the IEEE RA.
        assert_eq!(v("38:fd:fe:30:00:01"), Some("Siemens AG, PG IE R&D"));
        assert_eq!(v("20:85:93:b0:00:01"), Some("IOG Products LLC"));
        // MA-S 70:B3:D5:F2:F inside the IEEE Registration Authority's MA-L.
        assert_eq!(v("70:b3:d5:f2:f1:23"), Some("TELEPLATFORMS"));
        // IAB 00:50:C2:7D:5.
        assert_eq!(v("00:50:c2:7d:50:00"), Some("DEUTA-WERKE GmbH"));
        // Without a longer assignment the 24-bit holder answers.
        assert_eq!(v("70:b3:d5:00:00:00"), Some("IEEE Registration Authority"));
    }

    #[test]
    fn no_vendor_for_local_group_or_private() {
        assert_eq!(v("02:1b:1b:01:02:03"), None, "locally administered");
        assert_eq!(v("01:00:5e:00:00:01"), None, "IPv4 multicast");
        assert_eq!(v("01:1b:1b:01:02:03"), None, "group bit on a Siemens OUI");
        assert_eq!(v("ff:ff:ff:ff:ff:ff"), None, "broadcast");
        // MA-M 74:1A:E0:9 is registered as "Private".
        assert_eq!(v("74:1a:e0:90:00:01"), None);
    }

    #[test]
    fn lookup_is_fast_after_first_use() {
        let _ = v("00:1b:1b:00:00:00");
        let n = 100_000u32;
        let start = Instant::now();
        let mut hits = 0usize;
        for i in 0..n {
            let b = i.to_be_bytes();
            let mac = MacAddr([b[1] & 0xfc, b[2], b[3], b[0], 0, 1]);
            hits += usize::from(vendor(mac).is_some());
        }
        let per = start.elapsed() / n;
        eprintln!("{per:?} per lookup ({hits} hits)");
        // Generous even for an unoptimised build on a busy machine.
        assert!(per.as_micros() < 5, "lookup took {per:?}");
    }
}
