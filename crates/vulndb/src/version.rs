//! Firmware and software versions as vendors write them (`V3.2.6`,
//! `30.11`, `2.62`, `16.20`, `V4.03`, `12.2(25)SEG4`, `2.9 SP1`), compared
//! component by component, and the version ranges of NVD (start/end,
//! including/excluding) and CSAF (`vers:` strings and plain comparators).

use std::cmp::Ordering;

/// One part of a version: a number or a word.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Number(u64),
    Word(String),
}

/// A parsed version: numbers and words in order. A leading `v`/`V`
/// (`V3.2.6`) and separators (`.`, `-`, `_`, `(`, `)`, spaces) are dropped;
/// letters and digits that touch are split (`SP1` is `sp`, `1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    parts: Vec<Part>,
}

/// Words that mark a version as coming before the release it names
/// (`2.0 beta` is before `2.0`).
const PRE_RELEASE: &[&str] = &["alpha", "a", "beta", "b", "rc", "pre", "dev", "preview"];

impl Version {
    /// Parses a version; `None` when it holds no digit at all (`-`, `*`, `n/a`, `all`).
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(text);
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut digits = false;
        let flush = |current: &mut String, digits: bool, parts: &mut Vec<Part>| {
            if current.is_empty() {
                return;
            }
            let part = if digits {
                // Absurdly long digit runs saturate rather than fail.
                Part::Number(current.parse().unwrap_or(u64::MAX))
            } else {
                Part::Word(current.to_ascii_lowercase())
            };
            parts.push(part);
            current.clear();
        };
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                let is_digit = c.is_ascii_digit();
                if !current.is_empty() && is_digit != digits {
                    flush(&mut current, digits, &mut parts);
                }
                digits = is_digit;
                current.push(c);
            } else {
                flush(&mut current, digits, &mut parts);
            }
        }
        flush(&mut current, digits, &mut parts);
        Some(Version { parts })
    }

    /// Compares two versions. Missing trailing parts count as zero
    /// (`3.2` equals `3.2.0`); a pre-release word sorts before the release,
    /// any other word (a service pack, a build letter) after it.
    pub fn compare(&self, other: &Version) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        for i in 0..len {
            let ord = match (self.parts.get(i), other.parts.get(i)) {
                (Some(Part::Number(a)), Some(Part::Number(b))) => a.cmp(b),
                (Some(Part::Word(a)), Some(Part::Word(b))) => a.cmp(b),
                (Some(Part::Number(_)), Some(Part::Word(_))) => Ordering::Greater,
                (Some(Part::Word(_)), Some(Part::Number(_))) => Ordering::Less,
                (Some(Part::Number(a)), None) => a.cmp(&0),
                (None, Some(Part::Number(b))) => 0.cmp(b),
                (Some(Part::Word(w)), None) => word_against_nothing(w),
                (None, Some(Part::Word(w))) => word_against_nothing(w).reverse(),
                (None, None) => Ordering::Equal,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    /// The first version after every version that starts with this one
    /// (`6.9` gives `6.10`); `None` when it does not end with a number.
    fn successor(&self) -> Option<Version> {
        let mut parts = self.parts.clone();
        match parts.last_mut() {
            Some(Part::Number(n)) => *n = n.checked_add(1)?,
            _ => return None,
        }
        Some(Version { parts })
    }

    /// Whether this version starts with all of `prefix`'s parts (`6.9.4` starts with `6.9`).
    fn starts_with(&self, prefix: &Version) -> bool {
        self.parts.len() >= prefix.parts.len() && self.parts.iter().zip(&prefix.parts).all(|(a, b)| a == b)
    }

    /// How many parts the version has.
    pub fn depth(&self) -> usize {
        self.parts.len()
    }
}

fn word_against_nothing(word: &str) -> Ordering {
    if PRE_RELEASE.contains(&word) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// Compares two version strings; `None` when either is not a version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Version::parse(a)?.compare(&Version::parse(b)?))
}

/// A comparison operator of a range bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
}

impl Op {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Less => ord == Ordering::Less,
            Op::LessOrEqual => ord != Ordering::Greater,
            Op::Greater => ord == Ordering::Greater,
            Op::GreaterOrEqual => ord != Ordering::Less,
            Op::Equal => ord == Ordering::Equal,
            Op::NotEqual => ord != Ordering::Equal,
        }
    }

    /// The operator's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::LessOrEqual => "<=",
            Op::Greater => ">",
            Op::GreaterOrEqual => ">=",
            Op::Equal => "=",
            Op::NotEqual => "!=",
        }
    }
}

/// A version range: every bound must hold. An empty range holds for every version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Range {
    /// The bounds.
    pub bounds: Vec<(Op, String)>,
}

/// Whether a version is in a range, or that it cannot be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InRange {
    /// In the range.
    Yes,
    /// Outside it.
    No,
    /// The device version or a bound is not a version.
    Unknown,
}

impl Range {
    /// The NVD form: `versionStartIncluding` … `versionEndExcluding`, plus the
    /// exact version of the CPE (`*` and `-` mean none).
    pub fn from_nvd(
        exact: Option<&str>,
        start_including: Option<&str>,
        start_excluding: Option<&str>,
        end_including: Option<&str>,
        end_excluding: Option<&str>,
    ) -> Range {
        let mut bounds = Vec::new();
        if let Some(v) = exact.filter(|v| !matches!(*v, "*" | "-" | "")) {
            bounds.push((Op::Equal, v.to_string()));
        }
        for (op, v) in [
            (Op::GreaterOrEqual, start_including),
            (Op::Greater, start_excluding),
            (Op::LessOrEqual, end_including),
            (Op::Less, end_excluding),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                bounds.push((op, v.to_string()));
            }
        }
        Range { bounds }
    }

    /// Parses a CSAF range: a `vers:` string (`vers:intdot/>=1.0|<3.2.8`,
    /// `vers:all/*`) or plain text with comparators (`<V3.2.8`,
    /// `>= 2.0, < 2.62`, `All versions < V3.2.8`). `None` when nothing in it
    /// is a comparator and a version.
    pub fn parse(text: &str) -> Option<Range> {
        let text = text.trim();
        let constraints = match text.strip_prefix("vers:") {
            Some(rest) => {
                let (_scheme, list) = rest.split_once('/')?;
                list
            }
            None => text,
        };
        if constraints.trim() == "*" {
            return Some(Range::default());
        }
        let mut bounds = Vec::new();
        for piece in constraints.split(['|', ',', ';']).flat_map(split_on_operators) {
            let piece = piece.trim();
            let (op, rest) = if let Some(r) = piece.strip_prefix(">=") {
                (Op::GreaterOrEqual, r)
            } else if let Some(r) = piece.strip_prefix("<=") {
                (Op::LessOrEqual, r)
            } else if let Some(r) = piece.strip_prefix("!=") {
                (Op::NotEqual, r)
            } else if let Some(r) = piece.strip_prefix('<') {
                (Op::Less, r)
            } else if let Some(r) = piece.strip_prefix('>') {
                (Op::Greater, r)
            } else if let Some(r) = piece.strip_prefix('=') {
                (Op::Equal, r)
            } else if Version::parse(piece).is_some() && text.starts_with("vers:") {
                (Op::Equal, piece)
            } else {
                continue;
            };
            let version = rest.split_whitespace().next().unwrap_or("");
            if Version::parse(version).is_some() {
                bounds.push((op, version.to_string()));
            }
        }
        (!bounds.is_empty()).then_some(Range { bounds })
    }

    /// Whether `version` is in the range.
    pub fn contains(&self, version: &str) -> InRange {
        if self.bounds.is_empty() {
            return InRange::Yes;
        }
        let Some(v) = Version::parse(version) else { return InRange::Unknown };
        for (op, bound) in &self.bounds {
            let Some(b) = Version::parse(bound) else { return InRange::Unknown };
            if !op.holds(v.compare(&b)) {
                return InRange::No;
            }
        }
        InRange::Yes
    }

    /// Whether some version that starts with `prefix` (a release known
    /// only that far: `3` for Linux 3.x, `10.0.17763` for a Windows build
    /// whose patch level is unknown) is in the range: `Yes` when the two
    /// overlap (the device may be affected), `No` when none can be.
    pub fn overlaps_prefix(&self, prefix: &str) -> InRange {
        let (Some(low), Some(high)) = (Version::parse(prefix), Version::parse(prefix).and_then(|p| p.successor())) else {
            return InRange::Unknown;
        };
        for (op, bound) in &self.bounds {
            let Some(b) = Version::parse(bound) else { return InRange::Unknown };
            let holds = match op {
                Op::Equal => b.starts_with(&low) || b.compare(&low) == Ordering::Equal,
                Op::NotEqual => true,
                Op::Greater | Op::GreaterOrEqual => b.compare(&high) == Ordering::Less,
                Op::LessOrEqual => low.compare(&b) != Ordering::Greater,
                Op::Less => low.compare(&b) == Ordering::Less,
            };
            if !holds {
                return InRange::No;
            }
        }
        InRange::Yes
    }

    /// The first version outside the range from above (`< 3.2.8` gives
    /// `3.2.8`): the version that fixes what the range describes.
    pub fn fixed_in(&self) -> Option<&str> {
        self.bounds.iter().find(|(op, _)| *op == Op::Less).map(|(_, v)| v.as_str())
    }

    /// A short human form, e.g. `>= 2.0, < 3.2.8`, or `all versions`.
    pub fn describe(&self) -> String {
        if self.bounds.is_empty() {
            return "all versions".into();
        }
        self.bounds.iter().map(|(op, v)| format!("{} {v}", op.as_str())).collect::<Vec<_>>().join(", ")
    }
}

/// Splits `All versions >= 1.0 < 2.0` before each operator so each piece holds one.
fn split_on_operators(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        let prev = if i == 0 { 0 } else { bytes.get(i - 1).copied().unwrap_or(0) };
        let opens = matches!(b, b'<' | b'>' | b'=' | b'!') && !matches!(prev, b'<' | b'>' | b'!' | b'=');
        if opens {
            if let Some(s) = start {
                out.push(text.get(s..i).unwrap_or(""));
            }
            start = Some(i);
        }
        i += 1;
    }
    match start {
        Some(s) => out.push(text.get(s..).unwrap_or("")),
        None => out.push(text),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn firmware_schemes_compare() {
        assert_eq!(cmp("V3.2.6", "3.2.6"), Ordering::Equal);
        assert_eq!(cmp("V3.2.7", "V3.2.8"), Ordering::Less);
        assert_eq!(cmp("V3.2.10", "V3.2.9"), Ordering::Greater);
        assert_eq!(cmp("30.11", "30.2"), Ordering::Greater);
        assert_eq!(cmp("2.62", "2.7"), Ordering::Greater);
        assert_eq!(cmp("16.20", "16.20.0"), Ordering::Equal);
        assert_eq!(cmp("V4.03", "4.3"), Ordering::Equal);
        assert_eq!(cmp("4.03", "4.10"), Ordering::Less);
        assert_eq!(cmp("2.0 beta", "2.0"), Ordering::Less);
        assert_eq!(cmp("2.9 SP1", "2.9"), Ordering::Greater);
        assert_eq!(cmp("12.2(25)SEG4", "12.2(25)SEG5"), Ordering::Less);
        assert_eq!(cmp("12.2(25)SEG4", "12.2(44)SE"), Ordering::Less);
        assert!(compare("-", "1.0").is_none());
        assert!(compare("*", "1.0").is_none());
    }

    #[test]
    fn nvd_ranges() {
        let r = Range::from_nvd(Some("*"), Some("3.0"), None, None, Some("3.2.8"));
        assert_eq!(r.contains("V3.2.7"), InRange::Yes);
        assert_eq!(r.contains("V3.2.8"), InRange::No);
        assert_eq!(r.contains("2.9"), InRange::No);
        assert_eq!(r.fixed_in(), Some("3.2.8"));
        let r = Range::from_nvd(None, None, None, Some("16.20"), None);
        assert_eq!(r.contains("16.20"), InRange::Yes);
        assert_eq!(r.contains("16.21"), InRange::No);
        assert_eq!(Range::from_nvd(Some("2.62"), None, None, None, None).contains("2.62"), InRange::Yes);
        assert_eq!(Range::from_nvd(Some("-"), None, None, None, None).contains("anything"), InRange::Yes);
        assert_eq!(Range::from_nvd(None, None, None, None, Some("2.0")).contains("unknown"), InRange::Unknown);
    }

    #[test]
    fn csaf_ranges() {
        let r = Range::parse("vers:intdot/>=1.0|<3.2.8").unwrap();
        assert_eq!(r.bounds, vec![(Op::GreaterOrEqual, "1.0".to_string()), (Op::Less, "3.2.8".to_string())]);
        assert_eq!(r.contains("V3.2.7"), InRange::Yes);
        assert_eq!(Range::parse("vers:all/*").unwrap().contains("9"), InRange::Yes);
        let r = Range::parse("All versions < V3.2.8").unwrap();
        assert_eq!(r.bounds, vec![(Op::Less, "V3.2.8".to_string())]);
        let r = Range::parse(">=2.0 <2.62").unwrap();
        assert_eq!(r.contains("2.61"), InRange::Yes);
        assert_eq!(r.contains("2.62"), InRange::No);
        assert_eq!(Range::parse("vers:generic/2.3.1").unwrap().contains("2.3.1"), InRange::Yes);
        assert!(Range::parse("All versions").is_none());
        assert_eq!(r.describe(), ">= 2.0, < 2.62");
    }

    #[test]
    fn a_release_known_only_so_far_overlaps_ranges() {
        let r = |start: Option<&str>, end: Option<&str>| Range::from_nvd(None, start, None, None, end);
        // Linux 3.x against kernel ranges.
        assert_eq!(r(Some("3.0"), Some("3.18.5")).overlaps_prefix("3"), InRange::Yes);
        assert_eq!(r(Some("4.1"), Some("4.14.200")).overlaps_prefix("3"), InRange::No);
        assert_eq!(r(Some("2.6.12"), Some("3.0")).overlaps_prefix("3"), InRange::No);
        // A Windows build whose patch level is unknown.
        assert_eq!(r(None, Some("10.0.17763.5329")).overlaps_prefix("10.0.17763"), InRange::Yes);
        assert_eq!(r(None, Some("10.0.17763.0")).overlaps_prefix("10.0.17763"), InRange::No);
        assert_eq!(r(Some("10.0.19041.0"), Some("10.0.19041.3930")).overlaps_prefix("10.0.17763"), InRange::No);
        // An exact CPE version.
        let exact = |v: &str| Range::from_nvd(Some(v), None, None, None, None);
        assert_eq!(exact("6.9.4").overlaps_prefix("6.9"), InRange::Yes);
        assert_eq!(exact("6.9").overlaps_prefix("6.9"), InRange::Yes);
        assert_eq!(exact("6.8").overlaps_prefix("6.9"), InRange::No);
        assert_eq!(exact("6.90").overlaps_prefix("6.9"), InRange::No);
        assert_eq!(r(None, Some("2.0")).overlaps_prefix("x"), InRange::Unknown);
    }
}
