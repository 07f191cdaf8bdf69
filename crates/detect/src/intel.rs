//! Threat intelligence: indicators the user imports, and matching them.
//!
//! Two formats are read: a plain list (one indicator a line: an IP address
//! or CIDR block, a domain, a URL, a JA3 hash or a JA4 fingerprint, with an
//! optional `ip:`, `domain:`, `url:`, `ja3:` or `ja4:` prefix; `#` starts a
//! comment), and STIX 2.1 bundles, whose `indicator` objects' patterns are
//! searched for equality comparisons on `ipv4-addr:value`,
//! `ipv6-addr:value`, `domain-name:value`, `url:value` and any property
//! naming JA3 or JA4.

use crate::host::Cidr;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What an indicator names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// An IP address or block.
    Ip,
    /// A domain (it and its subdomains).
    Domain,
    /// A TLS client fingerprint (JA3 hash or JA4).
    Fingerprint,
    /// A URL.
    Url,
}

impl IndicatorKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Fingerprint => "fingerprint",
            IndicatorKind::Url => "url",
        }
    }

    /// Looks a kind up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        [IndicatorKind::Ip, IndicatorKind::Domain, IndicatorKind::Fingerprint, IndicatorKind::Url].into_iter().find(|k| k.as_str() == name)
    }
}

/// One indicator of compromise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Indicator {
    /// What it names.
    pub kind: IndicatorKind,
    /// The value, normalised (lower case domains and fingerprints, canonical addresses).
    pub value: String,
    /// Where it came from (the file, or the STIX indicator's name).
    pub source: String,
}

/// An intelligence file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntelError {
    /// A line of a plain list is not an indicator.
    #[error("{file} line {line}: {value:?} is not an IP address, CIDR block, domain, URL, JA3 hash or JA4 fingerprint")]
    Line {
        /// File name.
        file: String,
        /// Line number.
        line: usize,
        /// The text.
        value: String,
    },
    /// A JSON file is not a STIX 2.1 bundle.
    #[error("{file}: not a STIX 2.1 bundle ({what})")]
    Stix {
        /// File name.
        file: String,
        /// What was wrong.
        what: String,
    },
}

/// Reads indicators from a plain list or a STIX 2.1 bundle.
pub fn parse_intel(text: &str, source: &str) -> Result<Vec<Indicator>, IntelError> {
    if text.trim_start().starts_with('{') {
        return parse_stix(text, source);
    }
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let value = raw.split('#').next().unwrap_or("").trim();
        if value.is_empty() {
            continue;
        }
        let indicator =
            classify(value, source).ok_or_else(|| IntelError::Line { file: source.to_string(), line: i + 1, value: value.to_string() })?;
        out.push(indicator);
    }
    Ok(out)
}

/// Turns one value into an indicator, guessing its kind (or taking it from a prefix).
fn classify(value: &str, source: &str) -> Option<Indicator> {
    let make = |kind, value: String| Some(Indicator { kind, value, source: source.to_string() });
    if let Some((prefix, rest)) = value.split_once(':') {
        let rest = rest.trim();
        match prefix.to_ascii_lowercase().as_str() {
            "ip" => return Cidr::parse(rest).and_then(|c| make(IndicatorKind::Ip, cidr_text(c))),
            "domain" => return domain(rest).and_then(|d| make(IndicatorKind::Domain, d)),
            "ja3" | "ja4" | "fingerprint" => {
                return (!rest.is_empty()).then(|| rest.to_ascii_lowercase()).and_then(|f| make(IndicatorKind::Fingerprint, f))
            }
            "url" => return url(rest).and_then(|u| make(IndicatorKind::Url, u)),
            _ => {}
        }
    }
    if let Some(c) = Cidr::parse(value) {
        return make(IndicatorKind::Ip, cidr_text(c));
    }
    if let Some(u) = url(value) {
        return make(IndicatorKind::Url, u);
    }
    if is_ja3(value) || is_ja4(value) {
        return make(IndicatorKind::Fingerprint, value.to_ascii_lowercase());
    }
    domain(value).and_then(|d| make(IndicatorKind::Domain, d))
}

/// A single address is written without its prefix length.
fn cidr_text(c: Cidr) -> String {
    let full = if c.addr.is_ipv4() { 32 } else { 128 };
    if c.prefix == full {
        c.addr.to_string()
    } else {
        c.to_string()
    }
}

fn is_ja3(v: &str) -> bool {
    v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// JA4: `t13d1516h2_8daaf6152771_b186095e22b6` (three parts, the last two hex).
fn is_ja4(v: &str) -> bool {
    let parts: Vec<&str> = v.split('_').collect();
    matches!(parts.as_slice(), [a, b, c] if a.len() == 10 && matches!(a.as_bytes().first(), Some(b't' | b'q' | b'd'))
        && b.len() == 12 && c.len() == 12 && b.bytes().chain(c.bytes()).all(|x| x.is_ascii_hexdigit()))
}

/// A normalised domain name, if `v` looks like one.
fn domain(v: &str) -> Option<String> {
    let d = v.trim().trim_end_matches('.').trim_start_matches("*.").to_ascii_lowercase();
    let valid = d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|label| !label.is_empty() && label.len() <= 63)
        && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then_some(d)
}

/// A URL with its scheme and host lower-cased, if `v` is one.
fn url(v: &str) -> Option<String> {
    let (scheme, rest) = v.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ftp") || rest.is_empty() {
        return None;
    }
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some(format!("{scheme}://{}{path}", host.to_ascii_lowercase()))
}

/// Splits a normalised URL into its host (without port) and path.
fn url_parts(u: &str) -> (&str, &str) {
    let rest = u.split_once("://").map_or(u, |(_, r)| r);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.trim_start_matches('[').split(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    (host, path)
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    objects: Vec<serde_json::Value>,
}

fn parse_stix(text: &str, source: &str) -> Result<Vec<Indicator>, IntelError> {
    let stix = |what: String| IntelError::Stix { file: source.to_string(), what };
    let bundle: Bundle = serde_json::from_str(text).map_err(|e| stix(e.to_string()))?;
    if bundle.kind != "bundle" {
        return Err(stix(format!("type is {:?}, expected \"bundle\"", bundle.kind)));
    }
    let mut out = Vec::new();
    for object in &bundle.objects {
        if object.get("type").and_then(|t| t.as_str()) != Some("indicator") {
            continue;
        }
        let Some(pattern) = object.get("pattern").and_then(|p| p.as_str()) else { continue };
        let name = object.get("name").and_then(|n| n.as_str()).or_else(|| object.get("id").and_then(|i| i.as_str())).unwrap_or(source);
        let label = format!("{source}: {name}");
        for (path, value) in comparisons(pattern) {
            let path = path.to_ascii_lowercase();
            let indicator = if path.starts_with("ipv4-addr:") || path.starts_with("ipv6-addr:") {
                Cidr::parse(&value).map(|c| (IndicatorKind::Ip, cidr_text(c)))
            } else if path.starts_with("domain-name:") {
                domain(&value).map(|d| (IndicatorKind::Domain, d))
            } else if path.starts_with("url:") {
                url(&value).map(|u| (IndicatorKind::Url, u))
            } else if path.contains("ja3") || path.contains("ja4") {
                Some((IndicatorKind::Fingerprint, value.to_ascii_lowercase()))
            } else {
                None
            };
            if let Some((kind, value)) = indicator {
                out.push(Indicator { kind, value, source: label.clone() });
            }
        }
    }
    Ok(out)
}

/// The `PATH = 'VALUE'` comparisons of a STIX pattern.
fn comparisons(pattern: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i) != Some(&'\'') {
            i += 1;
            continue;
        }
        // A quoted value: read it, then look back for `PATH =`.
        let open = i;
        let mut value = String::new();
        i += 1;
        while let Some(&c) = chars.get(i) {
            match c {
                '\\' => {
                    if let Some(&escaped) = chars.get(i + 1) {
                        value.push(escaped);
                    }
                    i += 2;
                }
                '\'' => break,
                _ => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        i += 1;
        let mut j = open;
        while j > 0 && chars.get(j - 1).is_some_and(|c| c.is_whitespace()) {
            j -= 1;
        }
        if j == 0 || chars.get(j - 1) != Some(&'=') || (j >= 2 && matches!(chars.get(j - 2), Some('!' | '<' | '>'))) {
            continue;
        }
        j -= 1;
        while j > 0 && chars.get(j - 1).is_some_and(|c| c.is_whitespace()) {
            j -= 1;
        }
        let end = j;
        while j > 0 && chars.get(j - 1).is_some_and(|c| !c.is_whitespace() && *c != '[' && *c != '(') {
            j -= 1;
        }
        let path: String = chars.get(j..end).unwrap_or_default().iter().collect();
        if !path.is_empty() {
            out.push((path, value));
        }
    }
    out
}

/// Indicators ready for matching.
#[derive(Clone, Debug, Default)]
pub struct IntelSet {
    ips: hashbrown::HashMap<IpAddr, usize>,
    blocks: Vec<(Cidr, usize)>,
    domains: hashbrown::HashMap<String, usize>,
    fingerprints: hashbrown::HashMap<String, usize>,
    /// URL paths (longer than `/`) with the indicator.
    url_paths: Vec<(String, usize)>,
    indicators: Vec<Indicator>,
}

impl IntelSet {
    /// Builds the matching tables.
    pub fn new(indicators: Vec<Indicator>) -> Self {
        let mut set = IntelSet::default();
        for (i, ind) in indicators.iter().enumerate() {
            match ind.kind {
                IndicatorKind::Ip => match Cidr::parse(&ind.value) {
                    Some(c) if c.prefix == if c.addr.is_ipv4() { 32 } else { 128 } => {
                        set.ips.insert(c.addr, i);
                    }
                    Some(c) => set.blocks.push((c, i)),
                    None => {}
                },
                IndicatorKind::Domain => {
                    set.domains.insert(ind.value.clone(), i);
                }
                IndicatorKind::Fingerprint => {
                    set.fingerprints.insert(ind.value.clone(), i);
                }
                IndicatorKind::Url => {
                    let (host, path) = url_parts(&ind.value);
                    match host.parse::<IpAddr>() {
                        Ok(ip) => {
                            set.ips.entry(ip).or_insert(i);
                        }
                        Err(_) => {
                            if let Some(d) = domain(host) {
                                set.domains.entry(d).or_insert(i);
                            }
                        }
                    }
                    if path.len() > 1 {
                        set.url_paths.push((path.to_string(), i));
                    }
                }
            }
        }
        set.indicators = indicators;
        set
    }

    /// True when there is nothing to match.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// True if any IP indicator exists.
    pub fn has_ips(&self) -> bool {
        !self.ips.is_empty() || !self.blocks.is_empty()
    }

    /// The indicator matching an address.
    pub fn ip(&self, ip: IpAddr) -> Option<&Indicator> {
        let i = self.ips.get(&ip).copied().or_else(|| self.blocks.iter().find(|(c, _)| c.contains(ip)).map(|(_, i)| *i))?;
        self.indicators.get(i)
    }

    /// The indicator matching a name or one of its parent domains.
    pub fn domain(&self, name: &str) -> Option<&Indicator> {
        if self.domains.is_empty() {
            return None;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = name.as_str();
        loop {
            if let Some(i) = self.domains.get(rest) {
                return self.indicators.get(*i);
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return None,
            }
        }
    }

    /// The indicator matching a TLS fingerprint.
    pub fn fingerprint(&self, value: &str) -> Option<&Indicator> {
        if self.fingerprints.is_empty() {
            return None;
        }
        self.fingerprints.get(&value.to_ascii_lowercase()).and_then(|i| self.indicators.get(*i))
    }

    /// The URL indicator whose path an HTTP request target matches.
    pub fn url_path(&self, target: &str) -> Option<&Indicator> {
        let path = target.split_once("://").map_or(target, |(_, rest)| rest.find('/').map_or("/", |p| rest.get(p..).unwrap_or("/")));
        self.url_paths
            .iter()
            .find(|(p, _)| path == p || path.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('?')))
            .and_then(|(_, i)| self.indicators.get(*i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_list() {
        let text = "# feed\n198.51.100.7\n45.0.0.0/8\nEvil.Example.COM.\nhttp://Bad.Example.net/payload.bin\n\
                    e7d705a3286e19ea42f587b344ee6865\nt13d1516h2_8daaf6152771_b186095e22b6\nja3: 0123456789abcdef0123456789ABCDEF\n";
        let ind = parse_intel(text, "feed.txt").unwrap();
        let kinds: Vec<_> = ind.iter().map(|i| (i.kind, i.value.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (IndicatorKind::Ip, "198.51.100.7"),
                (IndicatorKind::Ip, "45.0.0.0/8"),
                (IndicatorKind::Domain, "evil.example.com"),
                (IndicatorKind::Url, "http://bad.example.net/payload.bin"),
                (IndicatorKind::Fingerprint, "e7d705a3286e19ea42f587b344ee6865"),
                (IndicatorKind::Fingerprint, "t13d1516h2_8daaf6152771_b186095e22b6"),
                (IndicatorKind::Fingerprint, "0123456789abcdef0123456789abcdef"),
            ]
        );
        let set = IntelSet::new(ind);
        assert!(set.ip("198.51.100.7".parse().unwrap()).is_some());
        assert!(set.ip("45.1.2.3".parse().unwrap()).is_some());
        assert!(set.ip("46.1.2.3".parse().unwrap()).is_none());
        assert!(set.domain("www.EVIL.example.com").is_some());
        assert!(set.domain("example.com").is_none());
        assert!(set.domain("bad.example.net").is_some(), "a URL's host is a domain indicator");
        assert!(set.url_path("/payload.bin?x=1").is_some());
        assert!(set.url_path("/other").is_none());
        assert!(set.fingerprint("E7D705A3286E19EA42F587B344EE6865").is_some());
        let err = parse_intel("10.0.0.1\nnot an indicator\n", "f.txt").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn stix_bundle() {
        let text = r#"{"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "identity", "id": "identity--1", "name": "ACME"},
            {"type": "indicator", "id": "indicator--1", "name": "C2 server", "pattern_type": "stix",
             "pattern": "[ipv4-addr:value = '203.0.113.9' OR ipv4-addr:value = '192.0.2.0/24']"},
            {"type": "indicator", "id": "indicator--2", "pattern": "[domain-name:value = 'c2.example.org'] AND [url:value = 'https://x.example.org/a\\'b']"},
            {"type": "indicator", "id": "indicator--3", "pattern": "[network-traffic:extensions.'tls-ext'.ja3 = 'E7D705A3286E19EA42F587B344EE6865']"},
            {"type": "indicator", "id": "indicator--4", "pattern": "[file:hashes.'SHA-256' = 'aa']"},
            {"type": "indicator", "id": "indicator--5", "pattern": "[ipv4-addr:value != '10.0.0.1']"}
        ]}"#;
        let ind = parse_intel(text, "bundle.json").unwrap();
        let kinds: Vec<_> = ind.iter().map(|i| (i.kind, i.value.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (IndicatorKind::Ip, "203.0.113.9"),
                (IndicatorKind::Ip, "192.0.2.0/24"),
                (IndicatorKind::Domain, "c2.example.org"),
                (IndicatorKind::Url, "https://x.example.org/a'b"),
                (IndicatorKind::Fingerprint, "e7d705a3286e19ea42f587b344ee6865"),
            ]
        );
        assert_eq!(ind[0].source, "bundle.json: C2 server");
        assert!(parse_intel("{\"type\": \"report\"}", "r.json").is_err());
        assert!(parse_intel("{ not json", "r.json").is_err());
    }
}
