//! Operating systems as CPE products: what an `os` fact (SMB's native OS
//! and NTLMSSP version, NetBIOS, HTTP, DHCP, passive TCP fingerprints)
//! says in NVD's terms (`cpe:2.3:o:microsoft:windows_server_2008:r2`,
//! `windows_10_1809` with build `10.0.17763`, `linux:linux_kernel` 3.x,
//! `windriver:vxworks` 6.9), and how sure that is. A family alone
//! (`Windows`, `Linux`) names no release, so it can match only records
//! that hold for every version, and then with low confidence.

use crate::version::{InRange, Range, Version};

/// A CPE operating-system product that an OS fact names.
#[derive(Clone, Debug, PartialEq)]
pub struct OsTarget {
    /// CPE vendor.
    pub vendor: &'static str,
    /// CPE product.
    pub product: String,
    /// The CPE version field the release is published under, when the name
    /// says it (`-` for Windows 7, `r2` for Server 2008 R2, `1809` in the
    /// older `windows_10` names).
    pub edition: Option<String>,
    /// How far the version is known, as a prefix: any version that starts
    /// with it (`10.0.17763` for a build, `3` for Linux 3.x, `6.9`).
    pub version: Option<String>,
    /// How sure it is that the device runs this product, 0–1.
    pub confidence: f64,
}

impl OsTarget {
    /// The CPE name of the device's OS.
    pub fn cpe(&self) -> String {
        let version = self.edition.as_deref().or(self.version.as_deref()).unwrap_or("*");
        format!("cpe:2.3:o:{}:{}:{version}:*:*:*:*:*:*:*", self.vendor, self.product)
    }

    /// How a stored CPE match (its version field and range) holds for this
    /// OS: `None` when it cannot, else the factor its confidence takes
    /// (1 for the very release, less when the version is known only so
    /// far, 0.5 when not at all and the record holds for every version).
    pub fn holds(&self, version_field: &str, range: &Range) -> Option<f64> {
        let bounded = !range.bounds.is_empty();
        let partial = |prefix: &str| if Version::parse(prefix).is_some_and(|v| v.depth() > 1) { 0.7 } else { 0.5 };
        // A release known this far, against the record's range.
        let in_range = |factor: f64| match (&self.version, bounded) {
            (_, false) => Some(factor),
            (Some(v), true) => (range.overlaps_prefix(v) == InRange::Yes).then(|| factor.min(partial(v))),
            (None, true) => None,
        };
        match version_field {
            "-" if self.edition.as_deref().is_some_and(|e| e != "-") => None,
            "*" | "-" | "" => match (&self.edition, &self.version) {
                (None, None) if !bounded => Some(0.5),
                _ => in_range(1.0),
            },
            field => {
                if self.edition.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(field)) {
                    return in_range(1.0);
                }
                let v = self.version.as_deref()?;
                let exact = Range::from_nvd(Some(field), None, None, None, None);
                if exact.contains(v) == InRange::Yes {
                    in_range(1.0)
                } else if exact.overlaps_prefix(v) == InRange::Yes {
                    in_range(partial(v))
                } else {
                    None
                }
            }
        }
    }
}

/// Confidence of an OS named once, without doubt (SMB's native OS).
const NAMED: f64 = 0.9;
/// Confidence of each of two releases a name leaves open (`Windows 7 / Server 2008 R2`).
const EITHER: f64 = 0.6;

/// A Windows release: its build, NT version and CPE names.
struct Release {
    build: u32,
    nt: &'static str,
    /// The client release: CPE products and edition; the first product is the one the build's range uses.
    client: &'static [(&'static str, &'static str)],
    /// The server release.
    server: &'static [(&'static str, &'static str)],
    /// Words naming the client release, and the server release.
    names: (&'static str, &'static str),
}

/// Windows releases by build. Windows 10 and 11 are named per feature
/// release (`windows_10_1809`, with build ranges) and, in older records, as
/// `windows_10` with the release as version.
const RELEASES: &[Release] = &[
    Release { build: 2195, nt: "5.0", client: &[("windows_2000", "-")], server: &[], names: ("2000", "") },
    Release { build: 2600, nt: "5.1", client: &[("windows_xp", "-")], server: &[], names: ("xp", "") },
    Release { build: 3790, nt: "5.2", client: &[], server: &[("windows_server_2003", "-")], names: ("", "server 2003") },
    Release {
        build: 6002,
        nt: "6.0",
        client: &[("windows_vista", "-")],
        server: &[("windows_server_2008", "-")],
        names: ("vista", "server 2008"),
    },
    Release {
        build: 7601,
        nt: "6.1",
        client: &[("windows_7", "-")],
        server: &[("windows_server_2008", "r2")],
        names: ("7", "server 2008 r2"),
    },
    Release { build: 9200, nt: "6.2", client: &[("windows_8", "-")], server: &[("windows_server_2012", "-")], names: ("8", "server 2012") },
    Release {
        build: 9600,
        nt: "6.3",
        client: &[("windows_8.1", "-")],
        server: &[("windows_server_2012", "r2")],
        names: ("8.1", "server 2012 r2"),
    },
    Release { build: 10240, nt: "10.0", client: &[("windows_10_1507", ""), ("windows_10", "1507")], server: &[], names: ("10", "") },
    Release { build: 10586, nt: "10.0", client: &[("windows_10_1511", ""), ("windows_10", "1511")], server: &[], names: ("10", "") },
    Release {
        build: 14393,
        nt: "10.0",
        client: &[("windows_10_1607", ""), ("windows_10", "1607")],
        server: &[("windows_server_2016", "-")],
        names: ("10", "server 2016"),
    },
    Release { build: 15063, nt: "10.0", client: &[("windows_10_1703", ""), ("windows_10", "1703")], server: &[], names: ("10", "") },
    Release { build: 16299, nt: "10.0", client: &[("windows_10_1709", ""), ("windows_10", "1709")], server: &[], names: ("10", "") },
    Release { build: 17134, nt: "10.0", client: &[("windows_10_1803", ""), ("windows_10", "1803")], server: &[], names: ("10", "") },
    Release {
        build: 17763,
        nt: "10.0",
        client: &[("windows_10_1809", ""), ("windows_10", "1809")],
        server: &[("windows_server_2019", "-")],
        names: ("10", "server 2019"),
    },
    Release { build: 18362, nt: "10.0", client: &[("windows_10_1903", ""), ("windows_10", "1903")], server: &[], names: ("10", "") },
    Release { build: 18363, nt: "10.0", client: &[("windows_10_1909", ""), ("windows_10", "1909")], server: &[], names: ("10", "") },
    Release { build: 19041, nt: "10.0", client: &[("windows_10_2004", ""), ("windows_10", "2004")], server: &[], names: ("10", "") },
    Release { build: 19042, nt: "10.0", client: &[("windows_10_20h2", ""), ("windows_10", "20h2")], server: &[], names: ("10", "") },
    Release { build: 19043, nt: "10.0", client: &[("windows_10_21h1", ""), ("windows_10", "21h1")], server: &[], names: ("10", "") },
    Release { build: 19044, nt: "10.0", client: &[("windows_10_21h2", ""), ("windows_10", "21h2")], server: &[], names: ("10", "") },
    Release { build: 19045, nt: "10.0", client: &[("windows_10_22h2", ""), ("windows_10", "22h2")], server: &[], names: ("10", "") },
    Release { build: 20348, nt: "10.0", client: &[], server: &[("windows_server_2022", "-")], names: ("", "server 2022") },
    Release { build: 22000, nt: "10.0", client: &[("windows_11_21h2", ""), ("windows_11", "21h2")], server: &[], names: ("11", "") },
    Release { build: 22621, nt: "10.0", client: &[("windows_11_22h2", ""), ("windows_11", "22h2")], server: &[], names: ("11", "") },
    Release { build: 22631, nt: "10.0", client: &[("windows_11_23h2", ""), ("windows_11", "23h2")], server: &[], names: ("11", "") },
    Release {
        build: 26100,
        nt: "10.0",
        client: &[("windows_11_24h2", ""), ("windows_11", "24h2")],
        server: &[("windows_server_2025", "-")],
        names: ("11", "server 2025"),
    },
];

/// The lower-case words of a text (letters, digits and dots kept together).
fn words(text: &str) -> Vec<String> {
    text.to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .map(|w| w.trim_matches('.').to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `phrase` (words separated by spaces) stands in `words`.
fn has_phrase(words: &[String], phrase: &str) -> bool {
    let want: Vec<&str> = phrase.split(' ').collect();
    !phrase.is_empty() && words.windows(want.len()).any(|w| w.iter().zip(&want).all(|(a, b)| a == b))
}

/// Whether the words name a client release (`Windows 7`), not a server.
fn names_client(words: &[String], release: &Release) -> bool {
    let name = release.names.0;
    !name.is_empty() && words.windows(2).any(|w| w.first().is_some_and(|a| a == "windows") && w.get(1).is_some_and(|b| b == name))
}

fn windows(os: &str) -> Vec<OsTarget> {
    let w = words(os);
    let number = |word: &str| word.parse::<u32>().ok();
    // `build 17763`, or a bare build number as SMB writes it (`… Standard 17763`).
    let build = w
        .windows(2)
        .find(|p| p.first().is_some_and(|a| a == "build"))
        .and_then(|p| p.get(1).and_then(|b| number(b)))
        .or_else(|| w.iter().filter_map(|x| number(x)).find(|n| (2195..100_000).contains(n) && !(2000..=2030).contains(n)));
    // `Windows 6.1`, `Windows 10.0 Build 17763`: the NT version.
    let nt = w.windows(2).find(|p| p.first().is_some_and(|a| a == "windows")).and_then(|p| p.get(1)).filter(|v| v.contains('.'));
    let release = match build {
        // Windows 10 and later by their exact build; older releases by their hundred (7600 and 7601 are Windows 7).
        Some(b) => RELEASES.iter().find(|r| r.build == b).or_else(|| RELEASES.iter().find(|r| b < 10_000 && r.build / 100 == b / 100)),
        None => match nt.map(String::as_str) {
            // 10.0 covers Windows 10, 11 and Server 2016 to 2025: it names no release.
            Some(v) if v != "10.0" => RELEASES.iter().find(|r| r.nt == v),
            _ => None,
        },
    };
    let release = release.or_else(|| {
        // A name alone: the longest one that stands in the text.
        RELEASES.iter().filter(|r| r.nt != "10.0").filter(|r| has_phrase(&w, r.names.1) || names_client(&w, r)).max_by_key(|r| {
            if has_phrase(&w, r.names.1) {
                r.names.1.len()
            } else {
                0
            }
        })
    });
    let Some(release) = release else {
        return windows_without_build(&w);
    };
    let server_named = has_phrase(&w, release.names.1) || (w.iter().any(|x| x == "server") && !release.server.is_empty());
    let client_named = names_client(&w, release) || (release.server.is_empty() && !release.client.is_empty());
    let mut kinds: Vec<&[(&str, &str)]> = Vec::new();
    match (client_named, server_named) {
        (true, false) => kinds.push(release.client),
        (false, true) => kinds.push(release.server),
        _ => kinds.extend([release.client, release.server]),
    }
    kinds.retain(|k| !k.is_empty());
    let confidence = if kinds.len() == 1 { NAMED } else { EITHER };
    // The build, when known, is the version NVD's ranges use for Windows 10 and later (10.0.17763.xxxx).
    let version = build.map(|b| format!("{}.{b}", release.nt)).or_else(|| Some(release.nt.to_string()));
    kinds
        .into_iter()
        .flatten()
        .map(|(product, edition)| OsTarget {
            vendor: "microsoft",
            product: product.to_string(),
            edition: (!edition.is_empty()).then(|| edition.to_string()),
            version: version.clone(),
            confidence,
        })
        .collect()
}

/// `Windows 10` without a build: the product is named, its release is not.
fn windows_without_build(w: &[String]) -> Vec<OsTarget> {
    // `Windows 10`, `Windows 10/11`: the numbers right after the name.
    let after = w.iter().position(|x| x == "windows").map_or(&[][..], |at| w.get(at + 1..).unwrap_or(&[]));
    let named: Vec<&str> = after.iter().map(String::as_str).take_while(|n| matches!(*n, "10" | "11")).collect();
    let confidence = if named.len() == 1 { NAMED } else { EITHER };
    named
        .into_iter()
        .map(|n| OsTarget { vendor: "microsoft", product: format!("windows_{n}"), edition: None, version: None, confidence })
        .collect()
}

/// The version number that follows `name` (`Linux 3.x` gives `3`, `VxWorks 6.9` gives `6.9`).
fn version_after(words: &[String], name: &str) -> Option<String> {
    let at = words.iter().position(|w| w == name || w.strip_prefix(name).is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())))?;
    let own = words.get(at).and_then(|w| w.strip_prefix(name)).filter(|v| !v.is_empty());
    let next = words.get(at + 1).filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let text = own.unwrap_or(next);
    let kept: Vec<&str> = text.split('.').take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).collect();
    (!kept.is_empty()).then(|| kept.join("."))
}

/// The CPE operating-system products an OS fact names, with their
/// confidence; empty when it names none (a family guess, an unknown OS).
pub fn os_targets(os: &str) -> Vec<OsTarget> {
    let lower = os.to_ascii_lowercase();
    // "VxWorks-like" and the like are guesses from a fingerprint, not names.
    if lower.contains("-like") || lower.contains("port scanner") {
        return Vec::new();
    }
    if lower.contains("windows") {
        return windows(os);
    }
    // `Linux/3.10` (HTTP servers) and `Linux 3.x`: the kernel.
    let w = words(&lower.replace('/', " "));
    let target = |vendor: &'static str, product: &str, name: &str, sure: f64| {
        let version = version_after(&w, name);
        let confidence = if version.is_some() { sure } else { sure * 0.9 };
        vec![OsTarget { vendor, product: product.into(), edition: None, version, confidence }]
    };
    if w.iter().any(|x| x == "vxworks") {
        target("windriver", "vxworks", "vxworks", NAMED)
    } else if w.iter().any(|x| x == "freebsd") {
        target("freebsd", "freebsd", "freebsd", NAMED)
    } else if w.iter().any(|x| x == "linux") && !w.iter().any(|x| matches!(x.as_str(), "android" | "ubuntu" | "debian")) {
        // A kernel named by its distribution's release says nothing of the kernel's version.
        target("linux", "linux_kernel", "linux", 0.8)
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(os: &str) -> Vec<(String, Option<String>, Option<String>, f64)> {
        os_targets(os).into_iter().map(|t| (format!("{}:{}", t.vendor, t.product), t.edition, t.version, t.confidence)).collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn windows_names_and_builds_become_cpe_products() {
        assert_eq!(names("Windows 7 Professional 7601 Service Pack 1"), [("microsoft:windows_7".into(), s("-"), s("6.1.7601"), NAMED)]);
        assert_eq!(
            names("Windows Server 2008 R2 Enterprise 7601 Service Pack 1"),
            [("microsoft:windows_server_2008".into(), s("r2"), s("6.1.7601"), NAMED)]
        );
        assert_eq!(names("Windows Server 2008 R2"), [("microsoft:windows_server_2008".into(), s("r2"), s("6.1"), NAMED)]);
        assert_eq!(names("Windows Server 2019 Standard 17763"), [("microsoft:windows_server_2019".into(), s("-"), s("10.0.17763"), NAMED)]);
        assert_eq!(names("Windows 5.1"), [("microsoft:windows_xp".into(), s("-"), s("5.1"), NAMED)]);
        // NTLMSSP and NetBIOS name two releases: both, with less confidence.
        assert_eq!(
            names("Windows 7 / Server 2008 R2 build 7601"),
            [
                ("microsoft:windows_7".into(), s("-"), s("6.1.7601"), EITHER),
                ("microsoft:windows_server_2008".into(), s("r2"), s("6.1.7601"), EITHER)
            ]
        );
        assert_eq!(
            names("Windows 10.0 Build 17763"),
            [
                ("microsoft:windows_10_1809".into(), None, s("10.0.17763"), EITHER),
                ("microsoft:windows_10".into(), s("1809"), s("10.0.17763"), EITHER),
                ("microsoft:windows_server_2019".into(), s("-"), s("10.0.17763"), EITHER)
            ]
        );
        assert_eq!(names("Windows 10 / Server 2016-2022 build 10586").len(), 2, "10586 is a client build only");
        assert_eq!(names("Windows 11 / Server 2025 build 22631")[0].0, "microsoft:windows_11_23h2");
        // A product without its release, and families.
        assert_eq!(names("Windows 10"), [("microsoft:windows_10".into(), None, None, NAMED)]);
        assert_eq!(names("Windows 10/11").iter().map(|n| n.3).collect::<Vec<_>>(), [EITHER, EITHER]);
        assert_eq!(names("Windows 7 Ultimate 7600")[0].0, "microsoft:windows_7");
        assert!(names("Windows").is_empty());
        assert!(names("Windows 10.0").is_empty());
    }

    #[test]
    fn other_systems_name_their_version_when_they_have_one() {
        assert_eq!(names("Linux 3.x"), [("linux:linux_kernel".into(), None, s("3"), 0.8)]);
        assert_eq!(names("Linux/3.10, UPnP/1.0, DH-Hikvision/2.0"), [("linux:linux_kernel".into(), None, s("3.10"), 0.8)]);
        assert_eq!(names("Linux")[0].2, None);
        assert_eq!(names("VxWorks 6.9"), [("windriver:vxworks".into(), None, s("6.9"), NAMED)]);
        assert!(names("embedded RTOS (VxWorks-like)").is_empty());
        assert!(names("Ubuntu Linux").is_empty());
        assert!(names("Cisco IOS").is_empty());
    }

    #[test]
    fn records_hold_as_far_as_the_version_is_known() {
        let t = |edition: Option<&str>, version: Option<&str>| OsTarget {
            vendor: "microsoft",
            product: "x".into(),
            edition: edition.map(str::to_string),
            version: version.map(str::to_string),
            confidence: 1.0,
        };
        let none = Range::default();
        let upto = |v: &str| Range::from_nvd(None, None, None, None, Some(v));
        // Server 2008 R2 is `r2`, not `-` (plain 2008).
        assert_eq!(t(Some("r2"), Some("6.1.7601")).holds("r2", &none), Some(1.0));
        assert_eq!(t(Some("r2"), Some("6.1.7601")).holds("-", &none), None);
        assert_eq!(t(Some("-"), None).holds("-", &none), Some(1.0));
        // A build against a range of patch levels: may be affected.
        assert_eq!(t(None, Some("10.0.17763")).holds("*", &upto("10.0.17763.5329")), Some(0.7));
        assert_eq!(t(None, Some("10.0.17763")).holds("*", &upto("10.0.17763.0")), None);
        // No version: only records for every version, at half.
        assert_eq!(t(None, None).holds("*", &none), Some(0.5));
        assert_eq!(t(None, None).holds("*", &upto("4.0")), None);
        assert_eq!(t(None, None).holds("6.9", &none), None);
        // Linux 3.x: a major version only.
        assert_eq!(t(None, Some("3")).holds("*", &Range::from_nvd(None, Some("3.0"), None, None, Some("3.16"))), Some(0.5));
        assert_eq!(t(None, Some("6.9")).holds("6.9", &none), Some(1.0));
        assert_eq!(t(None, Some("6.9")).holds("6.9.4", &none), Some(0.7));
        assert_eq!(t(None, Some("6.9")).holds("6.8", &none), None);
    }
}
