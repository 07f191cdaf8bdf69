//! Operating systems from passive fingerprints: TCP SYN/SYN-ACK signatures
//! and DHCP parameter request lists, matched against tables the project
//! ships as data (`data/tcp_signatures.tsv`, `data/dhcp_fingerprints.tsv`).
//! The first matching row of a table wins.

use palisade_model::{DeviceType, OptionLayout, SynKind, TcpSignature};
use std::sync::OnceLock;

/// The TCP signature table, built into the binary.
const TCP_TABLE: &str = include_str!("../data/tcp_signatures.tsv");
/// The DHCP fingerprint table, built into the binary.
const DHCP_TABLE: &str = include_str!("../data/dhcp_fingerprints.tsv");

/// Broad OS families, which the classification rules reason with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OsFamily {
    /// Microsoft Windows.
    Windows,
    /// Linux (desktop, server).
    Linux,
    /// macOS and iOS.
    Apple,
    /// Android.
    Android,
    /// FreeBSD, OpenBSD.
    Bsd,
    /// Network operating systems (Cisco IOS...).
    Network,
    /// Embedded and real-time stacks (VxWorks, vendor firmware, BusyBox).
    Embedded,
    /// Not an OS: the raw probes of a port scanner.
    Scanner,
}

impl OsFamily {
    fn from_name(text: &str) -> Option<Self> {
        Some(match text {
            "windows" => OsFamily::Windows,
            "linux" => OsFamily::Linux,
            "apple" => OsFamily::Apple,
            "android" => OsFamily::Android,
            "bsd" => OsFamily::Bsd,
            "network" => OsFamily::Network,
            "embedded" => OsFamily::Embedded,
            "scanner" => OsFamily::Scanner,
            _ => return None,
        })
    }

    /// The family an OS name reported by a protocol (DHCP vendor class,
    /// HTTP User-Agent, SMB, SNMP...) belongs to, if it is clear.
    pub fn of_os_name(os: &str) -> Option<Self> {
        let os = os.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| os.contains(w));
        if has(&["windows", "microsoft"]) {
            Some(OsFamily::Windows)
        } else if has(&["cisco ios", "nx-os", "junos", "routeros", "fortios", "pan-os"]) {
            Some(OsFamily::Network)
        } else if has(&["android"]) {
            Some(OsFamily::Android)
        } else if has(&["mac os", "macos", "os x", "ios", "iphone", "ipad", "darwin"]) {
            Some(OsFamily::Apple)
        } else if has(&["vxworks", "rtos", "busybox", "embedded", "firmware", "nucleus", "qnx", "threadx"]) {
            Some(OsFamily::Embedded)
        } else if has(&["freebsd", "openbsd", "netbsd"]) {
            Some(OsFamily::Bsd)
        } else if has(&["linux", "ubuntu", "debian", "red hat", "centos", "fedora", "suse"]) {
            Some(OsFamily::Linux)
        } else {
            None
        }
    }
}

/// What a matching table row says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsMatch {
    /// The OS named on the device.
    pub os: String,
    /// Its family.
    pub family: OsFamily,
    /// The device type the fingerprint suggests, if any.
    pub device_type: Option<DeviceType>,
}

/// One alternative of a numeric column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Number {
    Any,
    Absent,
    Exact(u32),
    Range(u32, u32),
    /// A multiple of the MSS (windows only).
    MssTimes(u32),
}

impl Number {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "*" => Number::Any,
            "-" => Number::Absent,
            _ => match (text.strip_prefix("mssx"), text.split_once('-')) {
                (Some(k), _) => Number::MssTimes(k.parse().ok()?),
                (None, Some((a, b))) => Number::Range(a.parse().ok()?, b.parse().ok()?),
                (None, None) => Number::Exact(text.parse().ok()?),
            },
        })
    }

    fn matches(self, value: Option<u32>, mss: Option<u16>) -> bool {
        match (self, value) {
            (Number::Any, _) => true,
            (Number::Absent, v) => v.is_none(),
            (Number::Exact(n), Some(v)) => n == v,
            (Number::Range(a, b), Some(v)) => (a..=b).contains(&v),
            (Number::MssTimes(k), Some(v)) => mss.is_some_and(|m| u32::from(m) * k == v),
            (_, None) => false,
        }
    }
}

/// Alternatives joined by `|`; any of them may match.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Numbers(Vec<Number>);

impl Numbers {
    fn parse(text: &str) -> Option<Self> {
        text.split('|').map(Number::parse).collect::<Option<Vec<_>>>().map(Numbers)
    }

    fn matches(&self, value: Option<u32>, mss: Option<u16>) -> bool {
        self.0.iter().any(|n| n.matches(value, mss))
    }
}

/// One row of the TCP signature table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TcpRow {
    kind: SynKind,
    ttl: u8,
    window: Numbers,
    mss: Numbers,
    window_scale: Numbers,
    /// Option layouts (`M,N,W`), any of which matches; `None` for `*`.
    options: Option<Vec<String>>,
    /// Required don't-fragment bit; `None` for `*`.
    dont_fragment: Option<bool>,
    result: OsMatch,
}

impl TcpRow {
    fn parse(line: &str) -> Option<Self> {
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, ttl, window, mss, ws, options, df, family, os] = cols.as_slice() else { return None };
        Some(TcpRow {
            kind: SynKind::from_name(kind)?,
            ttl: ttl.parse().ok()?,
            window: Numbers::parse(window)?,
            mss: Numbers::parse(mss)?,
            window_scale: Numbers::parse(ws)?,
            options: (*options != "*").then(|| options.split('|').map(str::to_string).collect()),
            dont_fragment: match *df {
                "*" => None,
                "df" => Some(true),
                "nodf" => Some(false),
                _ => return None,
            },
            result: OsMatch { os: os.to_string(), family: OsFamily::from_name(family)?, device_type: None },
        })
    }

    fn matches(&self, sig: &TcpSignature, layout: &str) -> bool {
        self.kind == sig.kind
            && self.ttl == sig.initial_ttl
            && self.window.matches(Some(u32::from(sig.window)), sig.mss)
            && self.mss.matches(sig.mss.map(u32::from), sig.mss)
            && self.window_scale.matches(sig.window_scale.map(u32::from), sig.mss)
            && self.options.as_ref().is_none_or(|o| o.iter().any(|x| x == layout))
            && self.dont_fragment.is_none_or(|df| df == sig.dont_fragment)
    }
}

/// One row of the DHCP fingerprint table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DhcpRow {
    /// The option list, without a trailing `,*`.
    list: String,
    /// The list is a prefix (it ended in `,*`).
    prefix: bool,
    result: OsMatch,
}

impl DhcpRow {
    fn parse(line: &str) -> Option<Self> {
        let cols: Vec<&str> = line.split('\t').collect();
        let [list, family, os, device_type] = cols.as_slice() else { return None };
        let (list, prefix) = match list.strip_suffix(",*") {
            Some(head) => (head, true),
            None => (*list, false),
        };
        let device_type = match *device_type {
            "-" => None,
            name => Some(DeviceType::from_name(name)?),
        };
        Some(DhcpRow {
            list: list.to_string(),
            prefix,
            result: OsMatch { os: os.to_string(), family: OsFamily::from_name(family)?, device_type },
        })
    }

    fn matches(&self, list: &str) -> bool {
        if self.prefix {
            list.strip_prefix(self.list.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(','))
        } else {
            list == self.list
        }
    }
}

/// The data lines of a table (no comments, no blank lines), with their line numbers.
fn data_lines(table: &str) -> impl Iterator<Item = (usize, &str)> {
    table.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Parses every data line of a table; rows that do not parse are skipped
/// (a unit test keeps the shipped tables free of them).
fn parse_table<T>(table: &str, parse: fn(&str) -> Option<T>) -> Vec<T> {
    data_lines(table).filter_map(|(_, l)| parse(l)).collect()
}

fn tcp_rows() -> &'static [TcpRow] {
    static ROWS: OnceLock<Vec<TcpRow>> = OnceLock::new();
    ROWS.get_or_init(|| parse_table(TCP_TABLE, TcpRow::parse))
}

fn dhcp_rows() -> &'static [DhcpRow] {
    static ROWS: OnceLock<Vec<DhcpRow>> = OnceLock::new();
    ROWS.get_or_init(|| parse_table(DHCP_TABLE, DhcpRow::parse))
}

/// The OS a TCP signature (a `tcp_fingerprint` fact's text) points to.
pub fn tcp_os(fingerprint: &str) -> Option<&'static OsMatch> {
    let sig = TcpSignature::parse(fingerprint)?;
    let layout = OptionLayout(sig.options()).to_string();
    tcp_rows().iter().find(|row| row.matches(&sig, &layout)).map(|row| &row.result)
}

/// The OS a DHCP parameter request list (`1,3,6,15`) points to.
pub fn dhcp_os(list: &str) -> Option<&'static OsMatch> {
    let list: String = list.chars().filter(|c| !c.is_whitespace()).collect();
    dhcp_rows().iter().find(|row| row.matches(&list)).map(|row| &row.result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tables_parse_completely() {
        for (n, line) in data_lines(TCP_TABLE) {
            assert!(TcpRow::parse(line).is_some(), "tcp_signatures.tsv line {n}: {line:?}");
        }
        for (n, line) in data_lines(DHCP_TABLE) {
            assert!(DhcpRow::parse(line).is_some(), "dhcp_fingerprints.tsv line {n}: {line:?}");
        }
        assert!(tcp_rows().len() >= 30);
        assert!(dhcp_rows().len() >= 15);
    }

    fn os(fp: &str) -> Option<(&'static str, OsFamily)> {
        tcp_os(fp).map(|m| (m.os.as_str(), m.family))
    }

    #[test]
    fn tcp_stacks() {
        use OsFamily::*;
        let cases = [
            ("syn ttl=128 win=64240 mss=1460 ws=8 opts=M,N,W,N,N,S df", Some(("Windows", Windows))),
            ("syn ttl=128 win=8192 mss=1460 ws=2 opts=M,N,W,N,N,S df", Some(("Windows", Windows))),
            ("syn ttl=128 win=65535 mss=1460 ws=- opts=M,N,N,S df", Some(("Windows", Windows))),
            ("syn ttl=128 win=1024 mss=1460 ws=- opts=M df", Some(("port scanner", Scanner))),
            ("syn-ack ttl=128 win=64240 mss=1460 ws=- opts=M df", Some(("Windows", Windows))),
            ("syn ttl=64 win=64240 mss=1460 ws=7 opts=M,S,T,N,W df", Some(("Linux", Linux))),
            ("syn-ack ttl=64 win=64240 mss=1460 ws=7 opts=M,N,N,S,N,W df", Some(("Linux", Linux))),
            ("syn-ack ttl=64 win=29200 mss=1460 ws=- opts=M df", Some(("Linux", Linux))),
            ("syn-ack ttl=64 win=14600 mss=1460 ws=- opts=M df", Some(("Linux", Linux))),
            ("syn ttl=64 win=65535 mss=1460 ws=6 opts=M,N,W,N,N,T,S,E df", Some(("macOS/iOS", Apple))),
            ("syn-ack ttl=64 win=65535 mss=16344 ws=6 opts=M,N,W,N,N,T,S,E df", Some(("macOS/iOS", Apple))),
            ("syn ttl=64 win=5840 mss=1460 ws=6 opts=M,N,N,S,N,W df", Some(("Linux", Linux))),
            ("syn-ack ttl=64 win=4096 mss=1460 ws=0 opts=M,N,W nodf", Some(("embedded RTOS", Embedded))),
            ("syn ttl=64 win=65535 mss=1460 ws=6 opts=M,N,W,S,T df", Some(("FreeBSD", Bsd))),
            ("syn ttl=255 win=4128 mss=536 ws=- opts=M nodf", Some(("Cisco IOS", Network))),
            ("syn ttl=64 win=1024 mss=1460 ws=- opts=M nodf", Some(("port scanner", Scanner))),
            ("syn ttl=32 win=8192 mss=1460 ws=- opts=M df", Some(("Siemens SIMATIC firmware", Embedded))),
            ("syn-ack ttl=255 win=8192 mss=1460 ws=- opts=M df", Some(("embedded RTOS (VxWorks-like)", Embedded))),
            ("syn ttl=64 win=4096 mss=1460 ws=- opts=M df", Some(("embedded RTOS", Embedded))),
            ("syn ttl=64 win=2048 mss=- ws=- opts=- nodf", Some(("embedded RTOS", Embedded))),
            ("syn ttl=128 win=16384 mss=1460 ws=0 opts=M,N,W,S,T df", Some(("Windows", Windows))),
            // Unknown layouts stay unknown rather than guessed.
            ("syn ttl=64 win=32768 mss=1460 ws=3 opts=M,W,N df", None),
            ("syn ttl=255 win=65535 mss=1460 ws=- opts=M df", None),
            ("garbage", None),
        ];
        for (fp, want) in cases {
            assert_eq!(os(fp), want, "{fp}");
        }
    }

    #[test]
    fn mss_multiples() {
        let n = Number::parse("mssx44").unwrap();
        assert!(n.matches(Some(64240), Some(1460)));
        assert!(!n.matches(Some(64240), Some(1400)));
        assert!(!n.matches(Some(64240), None));
        assert_eq!(Number::parse("1-8192"), Some(Number::Range(1, 8192)));
        assert_eq!(Number::parse("x"), None);
    }

    #[test]
    fn dhcp_clients() {
        let cases = [
            ("1,3,6,15,31,33,43,44,46,47,119,121,249,252", Some(("Windows", OsFamily::Windows, None))),
            ("1,121,3,6,15,108,114,119,252,95,44,46", Some(("macOS/iOS", OsFamily::Apple, None))),
            ("1,3,6,15,26,28,51,58,59,43", Some(("Android", OsFamily::Android, None))),
            ("1,28,2,3,15,6,119,12,44,47,26,121,42", Some(("Linux", OsFamily::Linux, None))),
            ("1,3,6,12,15,28,42", Some(("embedded Linux (BusyBox)", OsFamily::Embedded, None))),
            ("1,66,6,3,15,150,35,151", Some(("Cisco IP phone firmware", OsFamily::Embedded, Some(DeviceType::Phone)))),
            // A prefix row needs a whole option code after it, not part of one.
            ("1,121,3,6,150", None),
            ("1,3,6,15,26,28,51,58,590", None),
            ("1,3,6", None),
        ];
        for (list, want) in cases {
            assert_eq!(dhcp_os(list).map(|m| (m.os.as_str(), m.family, m.device_type)), want, "{list}");
        }
    }

    #[test]
    fn os_names_have_families() {
        assert_eq!(OsFamily::of_os_name("Windows 10/11"), Some(OsFamily::Windows));
        assert_eq!(OsFamily::of_os_name("Ubuntu"), Some(OsFamily::Linux));
        assert_eq!(OsFamily::of_os_name("Cisco IOS"), Some(OsFamily::Network));
        assert_eq!(OsFamily::of_os_name("Android 14"), Some(OsFamily::Android));
        assert_eq!(OsFamily::of_os_name("VxWorks 6.9"), Some(OsFamily::Embedded));
        assert_eq!(OsFamily::of_os_name("Plan 9"), None);
    }
}
