//! Site licences: which licence size covers a site's monitored devices,
//! from the size table the project ships as data (`data/licences.tsv`), and
//! the Enterprise IoT estimate.

use serde::Serialize;
use std::sync::OnceLock;

/// The licence size table, built into the binary.
const LICENCE_TABLE: &str = include_str!("../data/licences.tsv");

/// One licence size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LicenceSize {
    /// Name (`XS`, `S`, `M`, `L`, `XL`, `2XL`, `3XL`).
    pub name: String,
    /// Monitored devices one licence of this size covers.
    pub devices: u64,
    /// Several licences of this size may be stacked on one site.
    pub stackable: bool,
}

/// The licences a site needs: `count` licences of size `size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LicenceNeed {
    /// Size name.
    pub size: String,
    /// How many licences of that size.
    pub count: u64,
    /// Devices they cover together.
    pub covers: u64,
}

fn parse_row(line: &str) -> Option<LicenceSize> {
    let cols: Vec<&str> = line.split('\t').collect();
    let [name, devices, stackable] = cols.as_slice() else { return None };
    let stackable = match *stackable {
        "yes" => true,
        "no" => false,
        _ => return None,
    };
    Some(LicenceSize { name: name.to_string(), devices: devices.parse().ok().filter(|d| *d > 0)?, stackable })
}

/// The data rows of the table, smallest size first.
fn rows(table: &str) -> Vec<LicenceSize> {
    let mut sizes: Vec<LicenceSize> =
        table.lines().map(str::trim_end).filter(|l| !l.is_empty() && !l.starts_with('#')).filter_map(parse_row).collect();
    sizes.sort_by_key(|s| s.devices);
    sizes
}

/// The shipped licence sizes, smallest first.
pub fn licence_sizes() -> &'static [LicenceSize] {
    static SIZES: OnceLock<Vec<LicenceSize>> = OnceLock::new();
    SIZES.get_or_init(|| rows(LICENCE_TABLE))
}

/// The licence that covers `devices` monitored devices on one site: one
/// licence of the smallest size that covers them; above every single size,
/// as many of the stackable size as it takes.
pub fn licence_for(devices: u64) -> Option<LicenceNeed> {
    licence_from(licence_sizes(), devices)
}

fn licence_from(sizes: &[LicenceSize], devices: u64) -> Option<LicenceNeed> {
    if let Some(one) = sizes.iter().find(|s| s.devices >= devices) {
        return Some(LicenceNeed { size: one.name.clone(), count: 1, covers: one.devices });
    }
    stacked_from(sizes, devices)
}

/// The same site covered by stacking the stackable size (for sites larger
/// than one licence of it), as an alternative to a single larger size.
pub fn stacked_alternative(devices: u64) -> Option<LicenceNeed> {
    let sizes = licence_sizes();
    let stack = sizes.iter().find(|s| s.stackable)?;
    (devices > stack.devices).then(|| stacked_from(sizes, devices)).flatten()
}

fn stacked_from(sizes: &[LicenceSize], devices: u64) -> Option<LicenceNeed> {
    let stack = sizes.iter().find(|s| s.stackable)?;
    let count = devices.div_ceil(stack.devices).max(1);
    Some(LicenceNeed { size: stack.name.clone(), count, covers: count.saturating_mul(stack.devices) })
}

/// The Enterprise IoT estimate: monitored devices rounded up to a multiple of 100.
pub fn enterprise_iot_estimate(devices: u64) -> u64 {
    devices.div_ceil(100).saturating_mul(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(devices: u64) -> (String, u64) {
        let n = licence_for(devices).expect("a licence");
        (n.size, n.count)
    }

    #[test]
    fn the_shipped_table_is_complete() {
        let names: Vec<&str> = licence_sizes().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["XS", "S", "M", "L", "XL", "2XL", "3XL"]);
        assert_eq!(licence_sizes().iter().filter(|s| s.stackable).count(), 1);
        let data_lines = LICENCE_TABLE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
        assert_eq!(data_lines, licence_sizes().len(), "every data line parses");
    }

    #[test]
    fn sizes_at_their_boundaries() {
        let cases: &[(u64, &str, u64)] = &[
            (0, "XS", 1),
            (1, "XS", 1),
            (100, "XS", 1),
            (101, "S", 1),
            (250, "S", 1),
            (251, "M", 1),
            (500, "M", 1),
            (501, "L", 1),
            (1000, "L", 1),
            (1001, "XL", 1),
            // One XL, not two L.
            (1200, "XL", 1),
            (5000, "XL", 1),
            (5001, "2XL", 1),
            (10000, "2XL", 1),
            (10001, "3XL", 1),
            (12000, "3XL", 1),
            (20000, "3XL", 1),
            // Above every single size only XL stacks.
            (20001, "XL", 5),
            (42000, "XL", 9),
        ];
        for (devices, size, count) in cases {
            assert_eq!(need(*devices), (size.to_string(), *count), "{devices} devices");
        }
        assert_eq!(licence_for(42000).map(|n| n.covers), Some(45000));
    }

    #[test]
    fn xl_stacking_alternative() {
        assert_eq!(stacked_alternative(5000), None);
        assert_eq!(stacked_alternative(5001), Some(LicenceNeed { size: "XL".into(), count: 2, covers: 10000 }));
        assert_eq!(stacked_alternative(12000), Some(LicenceNeed { size: "XL".into(), count: 3, covers: 15000 }));
    }

    #[test]
    fn enterprise_iot_rounds_up_to_hundreds() {
        let cases = [(0, 0), (1, 100), (100, 100), (101, 200), (1000, 1000), (1001, 1100), (12000, 12000), (12001, 12100)];
        for (devices, estimate) in cases {
            assert_eq!(enterprise_iot_estimate(devices), estimate, "{devices}");
        }
    }

    #[test]
    fn a_table_without_a_stackable_size_covers_only_up_to_its_largest() {
        let sizes = rows("A\t10\tno\nB\t20\tno\nbad line\nC\tx\tno\n");
        assert_eq!(sizes.len(), 2);
        assert_eq!(licence_from(&sizes, 15).map(|n| n.size), Some("B".into()));
        assert_eq!(licence_from(&sizes, 21), None);
    }
}
