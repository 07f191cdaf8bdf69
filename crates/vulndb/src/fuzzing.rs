//! Entry point for the fuzz target and the robustness tests: every
//! advisory parser over arbitrary bytes, to show none of them panics.

use crate::nvd::{self, CveLayout};
use crate::{csaf, import, kev, os, version};

/// Runs every parser on `data` (NVD CVE JSON in each layout, the CPE
/// dictionary, CSAF, the KEV catalog, the kind sniffer, and the CPE names,
/// version ranges and OS names found in records) and counts the records
/// read; errors are expected and dropped.
pub fn parse_all(data: &[u8]) -> usize {
    let mut records = 0usize;
    let _ = import::sniff(data);
    for layout in [CveLayout::Feed, CveLayout::Items, CveLayout::Single] {
        let _ = nvd::stream_cves_in(data, layout, |c| {
            records += 1;
            for m in c.configurations.iter().flat_map(|c| &c.nodes).flat_map(|n| &n.matches) {
                let _ = nvd::parse_cpe(&m.criteria);
            }
            Ok(())
        });
    }
    let _ = nvd::stream_cpes(data, |_| {
        records += 1;
        Ok(())
    });
    let _ = kev::stream_kev(data, |_| {
        records += 1;
        Ok(())
    });
    if let Ok(advisory) = csaf::parse(data) {
        records += 1;
        for p in &advisory.products {
            let _ = p.version_range.as_deref().map(version::Range::parse);
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = nvd::parse_cpe(&text);
    let _ = version::Range::parse(&text).map(|r| (r.contains(&text), r.overlaps_prefix(&text)));
    for target in os::os_targets(&text) {
        let _ = target.holds(&text, &version::Range::default());
    }
    records
}
