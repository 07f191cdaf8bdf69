//! NVD JSON 2.0: CVE records (the API's and the data feeds'
//! `vulnerabilities` list) and the CPE dictionary (`products`), read as a
//! stream so a feed of any size is never held in memory whole. Only what
//! matching and reports need is kept.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;

/// One CVE as kept: identity, summary, scores and CPE match configurations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CveRecord {
    /// `CVE-YYYY-NNNN`.
    pub id: String,
    /// Publication time, as NVD writes it.
    pub published: Option<String>,
    /// Last modification time, as NVD writes it (re-imports skip unchanged records).
    pub last_modified: Option<String>,
    /// NVD status (`Analyzed`, `Modified`, `Rejected`...).
    pub status: Option<String>,
    /// English description, shortened.
    pub summary: String,
    /// CWE ids, comma-separated.
    pub cwe: String,
    /// CVSS v3.x base score and vector (the primary one when there are several).
    pub cvss3: Option<Score>,
    /// CVSS v4.0 base score and vector.
    pub cvss4: Option<Score>,
    /// The configurations: each a set of nodes of CPE matches.
    pub configurations: Vec<Configuration>,
    /// CISA KEV facts NVD copies into the record (`cisaExploitAdd`...), when listed.
    pub kev: Option<crate::kev::KevEntry>,
}

/// A CVSS base score with its vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// Base score, 0.0–10.0.
    pub base: f64,
    /// Vector string.
    pub vector: String,
}

/// A configuration: nodes joined by AND or OR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Configuration {
    /// All nodes must hold (AND) rather than any (OR).
    pub all: bool,
    /// The nodes.
    pub nodes: Vec<Node>,
}

/// A node: CPE matches joined by AND or OR, maybe negated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// All matches must hold (AND) rather than any (OR).
    pub all: bool,
    /// The node's result is inverted.
    pub negate: bool,
    /// The CPE matches.
    pub matches: Vec<CpeMatch>,
}

/// A CPE match: a CPE name pattern with an optional version range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpeMatch {
    /// The match is vulnerable (otherwise it only says what it runs on).
    pub vulnerable: bool,
    /// The CPE 2.3 name pattern.
    pub criteria: String,
    /// `versionStartIncluding`.
    pub start_including: Option<String>,
    /// `versionStartExcluding`.
    pub start_excluding: Option<String>,
    /// `versionEndIncluding`.
    pub end_including: Option<String>,
    /// `versionEndExcluding`.
    pub end_excluding: Option<String>,
}

/// The parts of a CPE 2.3 name that matching uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpeName<'a> {
    /// `a` (application), `o` (operating system, firmware) or `h` (hardware).
    pub part: &'a str,
    /// Vendor, as written (escapes kept).
    pub vendor: &'a str,
    /// Product, as written (escapes kept).
    pub product: &'a str,
    /// Version (`*` any, `-` not applicable).
    pub version: &'a str,
    /// The name up to and including the product (`cpe:2.3:o:siemens:x`).
    pub product_prefix: &'a str,
}

/// Splits a CPE 2.3 formatted string; `None` when it is not one.
pub fn parse_cpe(text: &str) -> Option<CpeName<'_>> {
    let rest = text.strip_prefix("cpe:2.3:")?;
    let mut fields = Vec::with_capacity(4);
    let mut start = 0usize;
    let mut escaped = false;
    let mut product_end = None;
    for (i, b) in rest.bytes().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b':' => {
                fields.push(rest.get(start..i)?);
                start = i + 1;
                if fields.len() == 3 {
                    product_end = Some(i);
                }
                if fields.len() == 4 {
                    break;
                }
            }
            _ => {}
        }
    }
    if fields.len() < 4 {
        fields.push(rest.get(start..)?);
        if fields.len() == 3 {
            product_end = Some(rest.len());
        }
    }
    let (part, vendor, product) = (*fields.first()?, *fields.get(1)?, *fields.get(2)?);
    if !matches!(part, "a" | "o" | "h") || vendor.is_empty() || product.is_empty() {
        return None;
    }
    let version = fields.get(3).copied().unwrap_or("*");
    let product_prefix = text.get(..8 + product_end?)?;
    Some(CpeName { part, vendor, product, version, product_prefix })
}

// ----- the NVD document shapes (only the fields kept) -----

#[derive(Deserialize)]
struct CveItem {
    cve: RawCve,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: String,
    published: Option<String>,
    last_modified: Option<String>,
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<LangText>,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    weaknesses: Vec<RawWeakness>,
    #[serde(default)]
    configurations: Vec<RawConfiguration>,
    cisa_exploit_add: Option<String>,
    cisa_action_due: Option<String>,
    cisa_required_action: Option<String>,
    cisa_vulnerability_name: Option<String>,
}

#[derive(Deserialize)]
struct LangText {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    #[serde(rename = "cvssMetricV31", default)]
    v31: Vec<RawMetric>,
    #[serde(rename = "cvssMetricV30", default)]
    v30: Vec<RawMetric>,
    #[serde(rename = "cvssMetricV40", default)]
    v40: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    #[serde(rename = "type")]
    kind: Option<String>,
    cvss_data: RawCvssData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    vector_string: String,
    base_score: f64,
}

#[derive(Deserialize)]
struct RawWeakness {
    #[serde(default)]
    description: Vec<LangText>,
}

#[derive(Deserialize)]
struct RawConfiguration {
    operator: Option<String>,
    #[serde(default)]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNode {
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    cpe_match: Vec<RawCpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCpeMatch {
    vulnerable: bool,
    criteria: String,
    version_start_including: Option<String>,
    version_start_excluding: Option<String>,
    version_end_including: Option<String>,
    version_end_excluding: Option<String>,
}

/// Longest summary kept, in characters.
const SUMMARY_CHARS: usize = 200;

/// Shortens a description to [`SUMMARY_CHARS`] at a word boundary.
pub fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= SUMMARY_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(SUMMARY_CHARS).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut.get(..at).unwrap_or(&cut))
}

fn best_score(metrics: &[RawMetric]) -> Option<Score> {
    let primary = metrics.iter().find(|m| m.kind.as_deref() == Some("Primary")).or_else(|| metrics.first())?;
    let base = primary.cvss_data.base_score;
    (0.0..=10.0).contains(&base).then(|| Score { base, vector: primary.cvss_data.vector_string.clone() })
}

impl From<RawCve> for CveRecord {
    fn from(raw: RawCve) -> Self {
        let summary = raw.descriptions.iter().find(|d| d.lang == "en").or_else(|| raw.descriptions.first()).map(|d| shorten(&d.value));
        let mut cwes: Vec<&str> =
            raw.weaknesses.iter().flat_map(|w| w.description.iter().map(|d| d.value.as_str())).filter(|v| v.starts_with("CWE-")).collect();
        cwes.sort_unstable();
        cwes.dedup();
        let is_and = |op: &Option<String>| op.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("AND"));
        CveRecord {
            summary: summary.unwrap_or_default(),
            cwe: cwes.join(","),
            cvss3: best_score(&raw.metrics.v31).or_else(|| best_score(&raw.metrics.v30)),
            cvss4: best_score(&raw.metrics.v40),
            configurations: raw
                .configurations
                .into_iter()
                .map(|c| Configuration {
                    all: is_and(&c.operator),
                    nodes: c
                        .nodes
                        .into_iter()
                        .map(|n| Node {
                            all: is_and(&n.operator),
                            negate: n.negate,
                            matches: n
                                .cpe_match
                                .into_iter()
                                .map(|m| CpeMatch {
                                    vulnerable: m.vulnerable,
                                    criteria: m.criteria,
                                    start_including: m.version_start_including,
                                    start_excluding: m.version_start_excluding,
                                    end_including: m.version_end_including,
                                    end_excluding: m.version_end_excluding,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            kev: raw.cisa_exploit_add.map(|added| crate::kev::KevEntry {
                cve_id: raw.id.clone(),
                vulnerability_name: raw.cisa_vulnerability_name.unwrap_or_default(),
                date_added: added,
                required_action: raw.cisa_required_action.unwrap_or_default(),
                due_date: raw.cisa_action_due.unwrap_or_default(),
                ..Default::default()
            }),
            id: raw.id,
            published: raw.published,
            last_modified: raw.last_modified,
            status: raw.vuln_status,
        }
    }
}

/// An entry of the CPE dictionary, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpeEntry {
    /// The CPE 2.3 name.
    pub name: String,
    /// English title.
    pub title: Option<String>,
    /// Deprecated by NVD.
    pub deprecated: bool,
}

#[derive(Deserialize)]
struct CpeItem {
    cpe: RawCpe,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCpe {
    cpe_name: String,
    #[serde(default)]
    deprecated: bool,
    #[serde(default)]
    titles: Vec<RawTitle>,
}

#[derive(Deserialize)]
struct RawTitle {
    title: String,
    lang: String,
}

impl From<RawCpe> for CpeEntry {
    fn from(raw: RawCpe) -> Self {
        let title = raw.titles.iter().find(|t| t.lang == "en").or_else(|| raw.titles.first()).map(|t| t.title.clone());
        CpeEntry { name: raw.cpe_name, title, deprecated: raw.deprecated }
    }
}

// ----- streaming -----

/// Reads a top-level object, handing each element of the array under `key`
/// to `each` as it is parsed; everything else is skipped. `each` returning
/// an error stops the parse with that error.
struct ListUnder<'f, T, F> {
    key: &'static str,
    each: &'f mut F,
    found: bool,
    item: PhantomData<T>,
}

impl<'de, T, F> Visitor<'de> for &mut ListUnder<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with a `{}` list", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.key {
                self.found = true;
                map.next_value_seed(Items::<T, F> { each: &mut *self.each, item: PhantomData })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de, T, F> DeserializeSeed<'de> for &mut ListUnder<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

struct Items<'f, T, F> {
    each: &'f mut F,
    item: PhantomData<T>,
}

impl<'de, T, F> Visitor<'de> for Items<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(item) = seq.next_element::<T>().map_err(|e| de::Error::custom(format_args!("entry {index}: {e}")))? {
            (self.each)(item).map_err(de::Error::custom)?;
            index += 1;
        }
        Ok(())
    }
}

impl<'de, T, F> DeserializeSeed<'de> for Items<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// Streams a JSON document, calling `each` for every element of the
/// top-level list named `key`. Fails when the document has no such list.
pub(crate) fn stream_list<R, T, F>(reader: R, key: &'static str, mut each: F) -> Result<(), String>
where
    R: std::io::Read,
    T: for<'de> Deserialize<'de>,
    F: FnMut(T) -> Result<(), String>,
{
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut list = ListUnder { key, each: &mut each, found: false, item: PhantomData::<T> };
    (&mut list).deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    if !list.found {
        return Err(format!("no `{key}` list"));
    }
    Ok(())
}

/// Streams the CVE records of an NVD CVE JSON 2.0 document.
pub fn stream_cves<R: std::io::Read>(reader: R, mut each: impl FnMut(CveRecord) -> Result<(), String>) -> Result<(), String> {
    stream_list(reader, "vulnerabilities", |item: CveItem| each(item.cve.into()))
}

/// The layouts CVE records in the NVD 2.0 schema come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CveLayout {
    /// An API response or a data feed: `{"vulnerabilities": [{"cve": {...}}]}`.
    Feed,
    /// A community mirror feed: `{"cve_items": [{...}]}`.
    Items,
    /// One record: `{"id": "CVE-...", ...}`.
    Single,
}

/// Streams the CVE records of a document in any of the [`CveLayout`]s.
pub fn stream_cves_in<R: std::io::Read>(
    reader: R,
    layout: CveLayout,
    mut each: impl FnMut(CveRecord) -> Result<(), String>,
) -> Result<(), String> {
    match layout {
        CveLayout::Feed => stream_cves(reader, each),
        CveLayout::Items => stream_list(reader, "cve_items", |item: RawCve| each(item.into())),
        CveLayout::Single => {
            let raw: RawCve = serde_json::from_reader(reader).map_err(|e| e.to_string())?;
            each(raw.into())
        }
    }
}

/// Streams the entries of an NVD CPE dictionary JSON 2.0 document.
pub fn stream_cpes<R: std::io::Read>(reader: R, mut each: impl FnMut(CpeEntry) -> Result<(), String>) -> Result<(), String> {
    stream_list(reader, "products", |item: CpeItem| each(item.cpe.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_names_split() {
        let c = parse_cpe("cpe:2.3:o:siemens:simatic_s7-300_cpu_315-2_pn\\/dp_firmware:*:*:*:*:*:*:*:*").unwrap();
        assert_eq!((c.part, c.vendor, c.product, c.version), ("o", "siemens", "simatic_s7-300_cpu_315-2_pn\\/dp_firmware", "*"));
        assert_eq!(c.product_prefix, "cpe:2.3:o:siemens:simatic_s7-300_cpu_315-2_pn\\/dp_firmware");
        let c = parse_cpe("cpe:2.3:h:rockwellautomation:1756-enbt\\:a:-:*:*:*:*:*:*:*").unwrap();
        assert_eq!((c.product, c.version), ("1756-enbt\\:a", "-"));
        assert!(parse_cpe("cpe:/o:siemens:x").is_none());
        assert!(parse_cpe("cpe:2.3:x:siemens:x:1").is_none());
        assert_eq!(parse_cpe("cpe:2.3:a:v:p").unwrap().version, "*");
    }

    #[test]
    fn streams_records_and_reports_errors() {
        let doc = r#"{"format":"NVD_CVE","version":"2.0","vulnerabilities":[
            {"cve":{"id":"CVE-2000-0001","lastModified":"2020-01-01T00:00:00.000","descriptions":[{"lang":"es","value":"x"},{"lang":"en","value":"Test."}],
             "metrics":{"cvssMetricV31":[{"type":"Secondary","cvssData":{"vectorString":"A","baseScore":5.0}},{"type":"Primary","cvssData":{"vectorString":"B","baseScore":9.8}}]},
             "configurations":[{"operator":"AND","nodes":[{"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:o:a:b:*:*:*:*:*:*:*:*","versionEndExcluding":"2.0","matchCriteriaId":"X"}]}]}],
             "references":[{"url":"http://example.invalid"}],
             "cisaExploitAdd":"2021-11-03","cisaActionDue":"2022-05-03","cisaRequiredAction":"Apply updates.","cisaVulnerabilityName":"X"}}]}"#;
        let mut got = Vec::new();
        stream_cves(doc.as_bytes(), |c| {
            got.push(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!((c.id.as_str(), c.summary.as_str()), ("CVE-2000-0001", "Test."));
        assert_eq!(c.cvss3, Some(Score { base: 9.8, vector: "B".into() }));
        assert!(c.configurations[0].all && !c.configurations[0].nodes[0].all);
        assert_eq!(c.configurations[0].nodes[0].matches[0].end_excluding.as_deref(), Some("2.0"));
        assert_eq!(c.kev.as_ref().map(|k| k.date_added.as_str()), Some("2021-11-03"));
        let err = stream_cves(r#"{"vulnerabilities":[{"cve":{"id":"CVE-1"}},{"cve":{}}]}"#.as_bytes(), |_| Ok(())).unwrap_err();
        assert!(err.contains("entry 1"), "{err}");
        let err = stream_cves(r#"{"products":[]}"#.as_bytes(), |_| Ok(())).unwrap_err();
        assert!(err.contains("no `vulnerabilities` list"), "{err}");
        let err = stream_cves(r#"{"vulnerabilities":[]} trailing"#.as_bytes(), |_| Ok(())).unwrap_err();
        assert!(err.contains("trailing"), "{err}");
    }
}
