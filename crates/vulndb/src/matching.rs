//! Matching devices to vulnerabilities.
//!
//! A device's identity facts (vendor, model, product name, order number,
//! firmware) are matched against the CPE products of NVD configurations and
//! the products of CSAF advisories of the same vendor. Every match says
//! which facts and which CPE or CSAF product it rests on, how the product
//! name was matched and how confident it is. Operating systems the device
//! reports are matched to NVD's `o` products ([`crate::os`]), as far as
//! their release and version are known. Results are cached per device
//! with the identity they came from and the database generation, so
//! devices are matched again exactly when their facts or the data change.

use crate::csaf::{Product, AFFECTED, NOT_AFFECTED};
use crate::db::{CpeProduct, StoredMatch, VulnStore};
use crate::kev::KevEntry;
use crate::names::{model_number_matches, vendor_keys, ProductIdentity, ProductLevel};
use crate::nvd::Score;
use crate::os::{os_targets, OsTarget};
use crate::version::{InRange, Range};
use crate::VulnError;
use palisade_engine::Device;
use palisade_model::IdentityField;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An identity fact a match rests on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FactRef {
    /// Field.
    pub field: IdentityField,
    /// Value.
    pub value: String,
    /// Protocol that reported it, or `oui`.
    pub source: String,
}

/// What a device says it is, as used for matching.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// Vendor facts (protocol-reported ones; the OUI vendor only when there are none).
    pub vendors: Vec<FactRef>,
    /// Model and product name facts.
    pub designations: Vec<FactRef>,
    /// Order number facts.
    pub order_numbers: Vec<FactRef>,
    /// The most recently seen firmware fact.
    pub firmware: Option<FactRef>,
    /// Operating system facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<FactRef>,
}

impl DeviceIdentity {
    /// Collects the identity facts of a device.
    pub fn of(device: &Device) -> DeviceIdentity {
        let mut id = DeviceIdentity::default();
        let refs = |field: IdentityField| -> Vec<FactRef> {
            let mut out: Vec<FactRef> = device
                .facts
                .iter()
                .filter(|f| f.field == field)
                .map(|f| FactRef { field, value: f.value.clone(), source: f.source.clone() })
                .collect();
            out.sort();
            out.dedup_by(|a, b| a.value == b.value);
            out
        };
        let vendors = refs(IdentityField::Vendor);
        let (protocol, oui): (Vec<FactRef>, Vec<FactRef>) = vendors.into_iter().partition(|f| f.source != "oui");
        id.vendors = if protocol.is_empty() { oui } else { protocol };
        id.designations = [refs(IdentityField::Model), refs(IdentityField::ProductName)].concat();
        id.designations.sort_by(|a, b| a.value.cmp(&b.value).then(a.field.cmp(&b.field)));
        id.designations.dedup_by(|a, b| a.value == b.value);
        id.order_numbers = refs(IdentityField::OrderNumber);
        id.os = refs(IdentityField::Os);
        id.firmware = device
            .facts
            .iter()
            .filter(|f| f.field == IdentityField::Firmware)
            .max_by(|a, b| a.last_seen.cmp(&b.last_seen).then(b.value.cmp(&a.value)))
            .map(|f| FactRef { field: f.field, value: f.value.clone(), source: f.source.clone() });
        id
    }

    /// True when nothing in it can be matched.
    pub fn is_empty(&self) -> bool {
        (self.vendors.is_empty() || (self.designations.is_empty() && self.order_numbers.is_empty())) && self.os_targets().is_empty()
    }

    /// The CPE operating-system products the OS facts name, each with the
    /// facts that name it. A release named without doubt pushes out the
    /// guesses of the same vendor (SMB's `Windows Server 2019 Standard
    /// 17763` over NTLMSSP's `Windows 10 / Server 2016-2022 build 17763`).
    pub fn os_targets(&self) -> Vec<(OsTarget, Vec<FactRef>)> {
        let mut out: Vec<(OsTarget, Vec<FactRef>)> = Vec::new();
        for fact in &self.os {
            for t in os_targets(&fact.value) {
                match out.iter_mut().find(|(o, _)| (o.vendor, &o.product, &o.edition) == (t.vendor, &t.product, &t.edition)) {
                    Some((o, facts)) => {
                        if t.confidence > o.confidence || (t.confidence == o.confidence && t.version.is_some() && o.version.is_none()) {
                            *o = t;
                        }
                        facts.push(fact.clone());
                    }
                    None => out.push((t, vec![fact.clone()])),
                }
            }
        }
        let best: BTreeMap<&str, f64> = out.iter().fold(BTreeMap::new(), |mut m, (t, _)| {
            let e = m.entry(t.vendor).or_insert(0.0);
            *e = f64::max(*e, t.confidence);
            m
        });
        let best: BTreeMap<String, f64> = best.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        out.retain(|(t, _)| best.get(t.vendor).is_none_or(|b| *b < 0.8 || t.confidence >= *b));
        out
    }

    /// The vendor came only from the MAC address registry.
    fn vendor_from_oui(&self) -> bool {
        self.vendors.iter().all(|v| v.source == "oui")
    }

    fn product_identity(&self) -> ProductIdentity {
        ProductIdentity::new(
            self.vendors.iter().map(|v| v.value.as_str()),
            self.designations.iter().map(|d| d.value.as_str()),
            self.order_numbers.iter().map(|o| o.value.as_str()),
        )
    }

    /// A stable text of the identity, for the match cache.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The CISA KEV facts of a matched CVE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevInfo {
    /// Added to the catalog.
    pub date_added: String,
    /// Remediation due date.
    pub due_date: String,
    /// What to do.
    pub required_action: String,
    /// Used in ransomware campaigns (`Known`/`Unknown`).
    pub ransomware: String,
}

/// What one match rests on: the record, the product and the facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchBasis {
    /// `nvd` or `csaf`.
    pub source: String,
    /// The CPE match criteria, or `ADVISORY-ID product PRODUCT-ID`.
    pub reference: String,
    /// The product as the record names it.
    pub product: String,
    /// How the product name was matched (`order number`, `model`, `model (loose)`, `product line`).
    pub matched_by: String,
    /// The affected versions.
    pub versions: String,
    /// The device facts it rests on.
    pub facts: Vec<FactRef>,
    /// Confidence of this basis, 0–1.
    pub confidence: f64,
    /// Advisory title, for CSAF.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub advisory: Option<String>,
    /// Advisory address, for CSAF.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url: Option<String>,
}

/// A vulnerability of a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VulnMatch {
    /// Device id.
    pub device_id: i64,
    /// CVE id.
    pub cve: String,
    /// Summary.
    pub summary: String,
    /// CVSS v3.x base score.
    pub cvss3: Option<f64>,
    /// CVSS v3.x vector.
    pub cvss3_vector: Option<String>,
    /// CVSS v4.0 base score.
    pub cvss4: Option<f64>,
    /// CVSS v4.0 vector.
    pub cvss4_vector: Option<String>,
    /// `critical`, `high`, `medium`, `low` or `none` from the highest score.
    pub severity: String,
    /// On the CISA KEV list.
    pub kev: Option<KevInfo>,
    /// Confidence, 0–1 (the best basis).
    pub confidence: f64,
    /// `high` (≥ 0.8), `medium` (≥ 0.5) or `low`.
    pub confidence_label: String,
    /// The firmware version that fixes it, when a record names one.
    pub fixed_version: Option<String>,
    /// Remediations and mitigations the advisories give.
    pub remediations: Vec<String>,
    /// What the match rests on.
    pub basis: Vec<MatchBasis>,
}

impl VulnMatch {
    /// The score used for ranking: CVSS v3 when known, else v4, else 5.
    pub fn score(&self) -> f64 {
        self.cvss3.or(self.cvss4).unwrap_or(5.0)
    }
}

/// Severity words of a CVSS base score.
pub fn severity(score: Option<f64>) -> &'static str {
    match score {
        Some(s) if s >= 9.0 => "critical",
        Some(s) if s >= 7.0 => "high",
        Some(s) if s >= 4.0 => "medium",
        Some(s) if s > 0.0 => "low",
        _ => "none",
    }
}

fn confidence_label(c: f64) -> &'static str {
    if c >= 0.8 {
        "high"
    } else if c >= 0.5 {
        "medium"
    } else {
        "low"
    }
}

/// The firmware version, and how much an unknown one costs in confidence.
const UNKNOWN_VERSION_FACTOR: f64 = 0.5;
/// A vendor known only from the MAC registry (the network card's maker).
const OUI_VENDOR_FACTOR: f64 = 0.7;

/// One CVE found for an identity before details are attached.
#[derive(Default)]
struct Found {
    basis: Vec<MatchBasis>,
    fixed: Vec<String>,
    remediations: Vec<String>,
    excluded: bool,
}

/// Matches one identity, with the vendor's candidates loaded.
struct Matcher<'a> {
    identity: &'a DeviceIdentity,
    product: ProductIdentity,
    vendor_factor: f64,
    /// The operating systems it runs, as CPE products.
    os: Vec<(OsTarget, Vec<FactRef>)>,
}

impl Matcher<'_> {
    fn facts_for(&self, level: ProductLevel, versioned: bool) -> Vec<FactRef> {
        let mut facts: Vec<FactRef> = self.identity.vendors.clone();
        match level {
            ProductLevel::OrderNumber => facts.extend(self.identity.order_numbers.iter().cloned()),
            _ => facts.extend(self.identity.designations.iter().cloned()),
        }
        if versioned {
            facts.extend(self.identity.firmware.clone());
        }
        facts
    }

    fn version_in(&self, range: &Range) -> InRange {
        if range.bounds.is_empty() {
            return InRange::Yes;
        }
        match &self.identity.firmware {
            Some(f) => range.contains(&f.value),
            None => InRange::Unknown,
        }
    }

    fn confidence(&self, level: ProductLevel, version: InRange) -> f64 {
        let v = if version == InRange::Unknown { UNKNOWN_VERSION_FACTOR } else { 1.0 };
        level.confidence() * v * self.vendor_factor
    }

    /// How a stored CPE match names the device's model or product line.
    fn product_hit(&self, levels: &ProductLevels, r: &StoredMatch) -> Option<Hit> {
        let level = *levels.get(&r.product)?;
        let range = stored_range(r);
        let version = self.version_in(&range);
        (version != InRange::No).then(|| Hit {
            rank: level as u8 + 1,
            matched_by: level.as_str(),
            confidence: self.confidence(level, version),
            facts: self.facts_for(level, !range.bounds.is_empty()),
        })
    }

    /// How a stored CPE match names the device's operating system: the best of its OS targets for that product.
    fn os_hit(&self, os_products: &OsProducts, r: &StoredMatch) -> Option<Hit> {
        let range = Range::from_nvd(
            None,
            r.start_including.as_deref(),
            r.start_excluding.as_deref(),
            r.end_including.as_deref(),
            r.end_excluding.as_deref(),
        );
        os_products
            .get(&r.product)?
            .iter()
            .filter_map(|&i| {
                let (target, facts) = self.os.get(i)?;
                let factor = target.holds(&r.version, &range)?;
                let matched_by = if factor >= 1.0 {
                    "operating system"
                } else if target.version.is_some() || target.edition.is_some() {
                    "operating system (version partly known)"
                } else {
                    "operating system (version unknown)"
                };
                Some(Hit { rank: 0, matched_by, confidence: target.confidence * factor, facts: facts.clone() })
            })
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
    }
}

/// How one stored CPE match names a device, and on which facts.
struct Hit {
    /// Which hit of a configuration its basis is (a model over a product line over an OS).
    rank: u8,
    matched_by: &'static str,
    confidence: f64,
    facts: Vec<FactRef>,
}

/// Per CPE product (by row id), the OS targets of an identity (indexes into [`Matcher::os`]) it is.
type OsProducts = BTreeMap<i64, Vec<usize>>;

fn stored_range(m: &StoredMatch) -> Range {
    Range::from_nvd(
        Some(&m.version),
        m.start_including.as_deref(),
        m.start_excluding.as_deref(),
        m.end_including.as_deref(),
        m.end_excluding.as_deref(),
    )
}

/// Evaluates NVD configurations for one identity.
/// Stored configurations, each as its CPE matches, and which configurations name each product.
struct Configurations<'a> {
    by_config: BTreeMap<(i64, i64), Vec<&'a StoredMatch>>,
    naming: HashMap<i64, Vec<(i64, i64)>>,
}

impl<'a> Configurations<'a> {
    fn new(rows: &'a [StoredMatch]) -> Self {
        let mut by_config: BTreeMap<(i64, i64), Vec<&StoredMatch>> = BTreeMap::new();
        let mut naming: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for r in rows {
            by_config.entry((r.cve, r.config)).or_default().push(r);
            naming.entry(r.product).or_default().push((r.cve, r.config));
        }
        Configurations { by_config, naming }
    }
}

fn nvd_found(
    named: impl Iterator<Item = i64>,
    hit: impl Fn(&StoredMatch) -> Option<Hit>,
    products: &BTreeMap<i64, CpeProduct>,
    configurations: &Configurations<'_>,
    cve_ids: &BTreeMap<i64, String>,
    found: &mut BTreeMap<String, Found>,
) {
    let keys: BTreeSet<(i64, i64)> = named.filter_map(|p| configurations.naming.get(&p)).flatten().copied().collect();
    for (cve, config) in keys {
        let Some(matches) = configurations.by_config.get(&(cve, config)) else { continue };
        let Some(cve_id) = cve_ids.get(&cve) else { continue };
        let mut nodes: BTreeMap<i64, Vec<&StoredMatch>> = BTreeMap::new();
        for r in matches {
            nodes.entry(r.node).or_default().push(r);
        }
        let config_all = matches.first().is_some_and(|r| r.config_all);
        let mut vulnerable_hits: Vec<(&StoredMatch, Hit)> = Vec::new();
        let mut node_results = Vec::new();
        for node in nodes.values() {
            let mut hits = Vec::new();
            for r in node {
                let found = hit(r);
                hits.push(found.is_some());
                if let (true, Some(h)) = (r.vulnerable, found) {
                    vulnerable_hits.push((r, h));
                }
            }
            let node_all = node.first().is_some_and(|r| r.node_all);
            let negate = node.first().is_some_and(|r| r.node_negate);
            let holds = if node_all { hits.iter().all(|h| *h) } else { hits.iter().any(|h| *h) };
            node_results.push(holds != negate);
        }
        let config_holds = if config_all { node_results.iter().all(|h| *h) } else { node_results.iter().any(|h| *h) };
        if !config_holds {
            continue;
        }
        let Some((row, hit)) =
            vulnerable_hits.into_iter().max_by(|a, b| a.1.rank.cmp(&b.1.rank).then(a.1.confidence.total_cmp(&b.1.confidence)))
        else {
            continue;
        };
        let range = stored_range(row);
        let product = products.get(&row.product).map_or_else(String::new, |p| p.product.replace('\\', ""));
        let criteria = products
            .get(&row.product)
            .map_or_else(String::new, |p| format!("cpe:2.3:{}:{}:{}:{}:*:*:*:*:*:*:*", p.part, p.vendor, p.product, row.version));
        let entry = found.entry(cve_id.clone()).or_default();
        if let Some(fixed) = range.fixed_in() {
            entry.fixed.push(fixed.to_string());
        }
        entry.basis.push(MatchBasis {
            source: "nvd".into(),
            reference: criteria,
            product,
            matched_by: hit.matched_by.into(),
            versions: range.describe(),
            facts: hit.facts,
            confidence: round2(hit.confidence),
            advisory: None,
            url: None,
        });
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// How a CSAF product names the device, and whether its version holds.
fn csaf_product_level(m: &Matcher<'_>, p: &Product) -> Option<(ProductLevel, InRange, Range)> {
    let record_vendor = vendor_keys(&p.vendor);
    let by_model_number =
        m.identity.order_numbers.iter().any(|o| p.model_numbers.iter().any(|pattern| model_number_matches(pattern, &o.value)));
    let level = if by_model_number {
        ProductLevel::OrderNumber
    } else if !p.model_numbers.is_empty() && !m.identity.order_numbers.is_empty() {
        // The advisory names its products by model number and the device
        // has an order number that is none of them.
        return None;
    } else {
        let by_name = m.product.match_in_family(p.family.as_deref(), &p.name, &record_vendor);
        // The CPE the advisory gives for the product, when its name did not match.
        let by_cpe = p.cpe.as_deref().and_then(crate::nvd::parse_cpe).and_then(|c| {
            let keys = vendor_keys(c.vendor);
            m.product.vendor_matches(&keys).then(|| m.product.match_name(c.product, &keys)).flatten()
        });
        by_name.max(by_cpe)?
    };
    let range = match (&p.version, &p.version_range) {
        (Some(v), _) => Range { bounds: vec![(crate::version::Op::Equal, v.clone())] },
        (None, Some(r)) => Range::parse(r)?,
        (None, None) => Range::default(),
    };
    let version = m.version_in(&range);
    (version != InRange::No).then_some((level, version, range))
}

/// Evaluates CSAF advisories for one identity.
fn csaf_found(
    m: &Matcher<'_>,
    products: &[(i64, Product)],
    advisories: &BTreeMap<i64, crate::db::AdvisoryInfo>,
    found: &mut BTreeMap<String, Found>,
) {
    for (adv_row, p) in products {
        let Some((level, version, range)) = csaf_product_level(m, p) else { continue };
        let Some(adv) = advisories.get(adv_row) else { continue };
        for v in &adv.vulnerabilities {
            let statuses: Vec<&str> = v.statuses.iter().filter(|(id, _)| *id == p.id).map(|(_, s)| s.as_str()).collect();
            if statuses.iter().any(|s| NOT_AFFECTED.contains(s)) && version == InRange::Yes {
                found.entry(v.cve.clone()).or_default().excluded = true;
                continue;
            }
            if !statuses.iter().any(|s| AFFECTED.contains(s)) {
                continue;
            }
            let entry = found.entry(v.cve.clone()).or_default();
            for r in v.remediations.iter().filter(|r| r.product_ids.contains(&p.id)) {
                if let Some(f) = &r.fixed_version {
                    entry.fixed.push(f.clone());
                }
                let text = format!("{} ({}): {}", adv.tracking_id, r.category.replace('_', " "), r.details);
                if !entry.remediations.contains(&text) {
                    entry.remediations.push(text);
                }
            }
            // Fixed products of the same name give the fixed version too.
            for (id, status) in &v.statuses {
                if matches!(status.as_str(), "fixed" | "first_fixed") {
                    if let Some((_, fixed)) = products.iter().find(|(row, q)| row == adv_row && q.id == *id && q.name == p.name) {
                        entry.fixed.extend(fixed.version.clone());
                    }
                }
            }
            entry.basis.push(MatchBasis {
                source: "csaf".into(),
                reference: format!("{} product {}", adv.tracking_id, p.id),
                product: p.full_name.clone(),
                matched_by: level.as_str().into(),
                versions: range.describe(),
                facts: m.facts_for(level, !range.bounds.is_empty()),
                confidence: round2(m.confidence(level, version)),
                advisory: Some(adv.title.clone()),
                url: adv.url.clone(),
            });
        }
    }
}

/// The lowest of several fixed versions (the first release that fixes it).
fn lowest_version(versions: &[String]) -> Option<String> {
    versions
        .iter()
        .filter(|v| crate::version::Version::parse(v).is_some())
        .min_by(|a, b| crate::version::compare(a, b).unwrap_or(std::cmp::Ordering::Equal))
        .cloned()
}

/// Matches devices against the database, using and refreshing the cache
/// (kept per identity, so identical devices are matched once). Devices
/// come back with their matches, ordered by score then CVE id.
pub fn match_devices(store: &mut dyn VulnStore, devices: &[Device], generation: i64) -> Result<BTreeMap<i64, Vec<VulnMatch>>, VulnError> {
    let mut out = BTreeMap::new();
    let mut by_identity: BTreeMap<String, (DeviceIdentity, Vec<i64>)> = BTreeMap::new();
    for d in devices {
        let identity = DeviceIdentity::of(d);
        if identity.is_empty() {
            out.insert(d.id, Vec::new());
            continue;
        }
        by_identity.entry(identity.key()).or_insert_with(|| (identity, Vec::new())).1.push(d.id);
    }
    let keys: Vec<String> = by_identity.keys().cloned().collect();
    let mut stored = store.cached_matches(&keys, generation)?;
    let mut todo: Vec<(&String, &DeviceIdentity, &Vec<i64>)> = Vec::new();
    for (key, (identity, ids)) in &by_identity {
        let cached = stored.remove(key).and_then(|data| serde_json::from_str::<Vec<VulnMatch>>(&data).ok());
        match cached {
            Some(matches) => assign(&mut out, ids, &matches),
            None => todo.push((key, identity, ids)),
        }
    }
    if todo.is_empty() {
        return Ok(out);
    }
    let identities: Vec<&DeviceIdentity> = todo.iter().map(|(_, i, _)| *i).collect();
    let results = match_identities(&*store, &identities)?;
    let mut entries = Vec::with_capacity(todo.len());
    for ((key, _, ids), matches) in todo.iter().zip(results) {
        assign(&mut out, ids, &matches);
        entries.push(((*key).clone(), serde_json::to_string(&matches).unwrap_or_default()));
    }
    store.cache_matches(generation, &entries)?;
    Ok(out)
}

/// Gives each device its own copy of an identity's matches.
fn assign(out: &mut BTreeMap<i64, Vec<VulnMatch>>, ids: &[i64], matches: &[VulnMatch]) {
    for id in ids {
        out.insert(*id, matches.iter().cloned().map(|m| VulnMatch { device_id: *id, ..m }).collect());
    }
}

fn matchers<'a>(identities: &[&'a DeviceIdentity]) -> Vec<Matcher<'a>> {
    identities
        .iter()
        .map(|identity| Matcher {
            identity,
            product: identity.product_identity(),
            vendor_factor: if identity.vendor_from_oui() { OUI_VENDOR_FACTOR } else { 1.0 },
            os: identity.os_targets(),
        })
        .collect()
}

/// The CPE operating-system products the identities run, and per identity which of its OS targets each one is.
fn os_candidates(store: &dyn VulnStore, matchers: &[Matcher<'_>]) -> Result<(Vec<CpeProduct>, Vec<OsProducts>), VulnError> {
    let keys: BTreeSet<String> = matchers.iter().flat_map(|m| m.os.iter().map(|(t, _)| crate::db::stored_vendor_key(t.vendor))).collect();
    let candidates: Vec<CpeProduct> =
        if keys.is_empty() { Vec::new() } else { store.products_of_vendors(&keys)?.into_iter().filter(|p| p.part == "o").collect() };
    let by_name: HashMap<(&str, &str), i64> = candidates.iter().map(|p| ((p.vendor.as_str(), p.product.as_str()), p.id)).collect();
    let per_identity = matchers
        .iter()
        .map(|m| {
            let mut mine = OsProducts::new();
            for (i, (t, _)) in m.os.iter().enumerate() {
                if let Some(id) = by_name.get(&(t.vendor, t.product.as_str())) {
                    mine.entry(*id).or_default().push(i);
                }
            }
            mine
        })
        .collect();
    Ok((candidates, per_identity))
}

/// How each CPE product (by row id) that names an identity matched.
type ProductLevels = BTreeMap<i64, ProductLevel>;

/// The CPE products of the identities' vendors, and per identity how each product that names it matched.
fn cpe_levels(
    store: &dyn VulnStore,
    matchers: &[Matcher<'_>],
    all_keys: &BTreeSet<String>,
) -> Result<(Vec<CpeProduct>, Vec<ProductLevels>), VulnError> {
    let candidates = store.products_of_vendors(all_keys)?;
    // Each product's vendor keys once, and the products of each key.
    let candidate_keys: Vec<BTreeSet<String>> = candidates.iter().map(|p| vendor_keys(&p.vendor)).collect();
    let mut by_vendor: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, keys) in candidate_keys.iter().enumerate() {
        for k in keys {
            by_vendor.entry(k.as_str()).or_default().push(i);
        }
    }
    let mut levels: Vec<ProductLevels> = Vec::with_capacity(matchers.len());
    for m in matchers {
        let mut mine = BTreeMap::new();
        let mine_idx: BTreeSet<usize> = m.product.vendor_keys.iter().filter_map(|k| by_vendor.get(k.as_str())).flatten().copied().collect();
        for i in mine_idx {
            let (Some(p), Some(record_vendor)) = (candidates.get(i), candidate_keys.get(i)) else { continue };
            let by_name = m.product.match_name(&p.product, record_vendor);
            let by_title = p.title.as_deref().and_then(|t| m.product.match_name(t, record_vendor));
            if let Some(level) = by_name.max(by_title) {
                mine.insert(p.id, level);
            }
        }
        levels.push(mine);
    }
    Ok((candidates, levels))
}

/// A CPE name that describes a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceCpe {
    /// Device id.
    pub device_id: i64,
    /// The CPE 2.3 name, with the device's firmware as version for firmware and software.
    pub cpe: String,
    /// Dictionary title, when the dictionary was imported.
    pub title: Option<String>,
    /// How the product name was matched.
    pub matched_by: String,
    /// Confidence, 0–1.
    pub confidence: f64,
    /// The facts it rests on.
    pub facts: Vec<FactRef>,
}

/// A version as a CPE version field: lower case, leading `v` dropped, CPE's special characters escaped.
fn cpe_version(version: &str) -> String {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).filter(|r| r.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(v);
    let mut out = String::with_capacity(v.len());
    for c in v.chars().flat_map(char::to_lowercase) {
        match c {
            ' ' => out.push('_'),
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

/// The CPE names (of the imported CPE products) that describe each device, best first.
pub fn device_cpes(store: &dyn VulnStore, devices: &[Device]) -> Result<BTreeMap<i64, Vec<DeviceCpe>>, VulnError> {
    let identities: Vec<(i64, DeviceIdentity)> =
        devices.iter().map(|d| (d.id, DeviceIdentity::of(d))).filter(|(_, i)| !i.is_empty()).collect();
    let refs: Vec<&DeviceIdentity> = identities.iter().map(|(_, i)| i).collect();
    let matchers = matchers(&refs);
    let all_keys: BTreeSet<String> = matchers.iter().flat_map(|m| m.product.vendor_keys.iter().cloned()).collect();
    let (candidates, levels) = cpe_levels(store, &matchers, &all_keys)?;
    let (os_candidates, os_levels) = os_candidates(store, &matchers)?;
    let products: BTreeMap<i64, &CpeProduct> = candidates.iter().map(|p| (p.id, p)).collect();
    let os_products: BTreeMap<i64, &CpeProduct> = os_candidates.iter().map(|p| (p.id, p)).collect();
    let mut out = BTreeMap::new();
    for (i, ((id, identity), (m, lv))) in identities.iter().zip(matchers.iter().zip(&levels)).enumerate() {
        let mut list: Vec<DeviceCpe> = lv
            .iter()
            .filter_map(|(pid, level)| {
                let p = products.get(pid)?;
                let firmware = identity.firmware.as_ref().map(|f| cpe_version(&f.value));
                let version = match (p.part.as_str(), &firmware) {
                    ("h", _) => "-".to_string(),
                    (_, Some(v)) => v.clone(),
                    (_, None) => "*".to_string(),
                };
                let versioned = p.part != "h" && firmware.is_some();
                let known = if versioned || p.part == "h" { InRange::Yes } else { InRange::Unknown };
                Some(DeviceCpe {
                    device_id: *id,
                    cpe: format!("cpe:2.3:{}:{}:{}:{version}:*:*:*:*:*:*:*", p.part, p.vendor, p.product),
                    title: p.title.clone(),
                    matched_by: level.as_str().into(),
                    confidence: round2(m.confidence(*level, known)),
                    facts: m.facts_for(*level, versioned),
                })
            })
            .collect();
        for (pid, targets) in os_levels.get(i).into_iter().flatten() {
            let Some(p) = os_products.get(pid) else { continue };
            for (target, facts) in targets.iter().filter_map(|t| m.os.get(*t)) {
                let known = target.edition.is_some() || target.version.is_some();
                list.push(DeviceCpe {
                    device_id: *id,
                    cpe: target.cpe(),
                    title: p.title.clone(),
                    matched_by: "operating system".into(),
                    confidence: round2(target.confidence * if known { 1.0 } else { UNKNOWN_VERSION_FACTOR }),
                    facts: facts.clone(),
                });
            }
        }
        list.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.cpe.cmp(&b.cpe)));
        out.insert(*id, list);
    }
    Ok(out)
}

/// Matches identities (no cache); one list of matches per identity, in order.
pub fn match_identities(store: &dyn VulnStore, identities: &[&DeviceIdentity]) -> Result<Vec<Vec<VulnMatch>>, VulnError> {
    let matchers = matchers(identities);
    let all_keys: BTreeSet<String> = matchers.iter().flat_map(|m| m.product.vendor_keys.iter().cloned()).collect();
    let (candidates, levels) = cpe_levels(store, &matchers, &all_keys)?;
    let (os_candidates, os_levels) = os_candidates(store, &matchers)?;
    let matched: BTreeSet<i64> =
        levels.iter().flat_map(|l| l.keys().copied()).chain(os_levels.iter().flat_map(|l| l.keys().copied())).collect();
    let rows = if matched.is_empty() { Vec::new() } else { store.configurations_naming(&matched)? };
    let cve_rows: BTreeSet<i64> = rows.iter().map(|r| r.cve).collect();
    let products: BTreeMap<i64, CpeProduct> = candidates.into_iter().chain(os_candidates).map(|p| (p.id, p)).collect();
    let cve_ids: BTreeMap<i64, String> = store.cves(&cve_rows)?.into_iter().map(|c| (c.row, c.cve_id)).collect();
    // CSAF: advisory products of the vendors.
    let advisory_products = store.advisory_products_of_vendors(&all_keys)?;
    let advisory_rows: BTreeSet<i64> = advisory_products.iter().map(|(a, _)| *a).collect();
    let advisories: BTreeMap<i64, crate::db::AdvisoryInfo> = store.advisories(&advisory_rows)?.into_iter().map(|a| (a.row, a)).collect();
    let configurations = Configurations::new(&rows);
    let advisory_keys: Vec<BTreeSet<String>> = advisory_products.iter().map(|(_, p)| vendor_keys(&p.vendor)).collect();
    let mut all_found = Vec::with_capacity(matchers.len());
    for ((m, lv), os) in matchers.iter().zip(&levels).zip(&os_levels) {
        let mut found = BTreeMap::new();
        let named = lv.keys().chain(os.keys()).copied();
        nvd_found(named, |r| m.product_hit(lv, r).or_else(|| m.os_hit(os, r)), &products, &configurations, &cve_ids, &mut found);
        let mine: Vec<(i64, Product)> = advisory_products
            .iter()
            .zip(&advisory_keys)
            .filter(|(_, keys)| m.product.vendor_matches(keys))
            .map(|(p, _)| p.clone())
            .collect();
        csaf_found(m, &mine, &advisories, &mut found);
        found.retain(|_, f| !f.excluded && !f.basis.is_empty());
        all_found.push(found);
    }
    // Details of every CVE found, and the KEV list.
    let found_ids: BTreeSet<String> = all_found.iter().flat_map(|f| f.keys().cloned()).collect();
    let details: BTreeMap<String, crate::db::CveInfo> = store.cves_by_id(&found_ids)?.into_iter().map(|c| (c.cve_id.clone(), c)).collect();
    let kev: BTreeMap<String, KevEntry> = store.kev(&found_ids)?.into_iter().map(|k| (k.cve_id.clone(), k)).collect();
    let csaf_scores: BTreeMap<&str, (&Option<Score>, &Option<Score>, &str)> = advisories
        .values()
        .flat_map(|a| a.vulnerabilities.iter().map(|v| (v.cve.as_str(), (&v.cvss3, &v.cvss4, v.title.as_str()))))
        .collect();
    let mut out = Vec::with_capacity(all_found.len());
    for found in all_found {
        let mut list: Vec<VulnMatch> = found
            .into_iter()
            .map(|(cve, f)| {
                let info = details.get(&cve);
                let fallback = csaf_scores.get(cve.as_str());
                let cvss3 = info.and_then(|i| i.cvss3.clone()).or_else(|| fallback.and_then(|s| s.0.clone()));
                let cvss4 = info.and_then(|i| i.cvss4.clone()).or_else(|| fallback.and_then(|s| s.1.clone()));
                let confidence = f.basis.iter().map(|b| b.confidence).fold(0.0, f64::max);
                let summary = info.map(|i| i.summary.clone()).filter(|s| !s.is_empty()).or_else(|| fallback.map(|s| s.2.to_string()));
                let top = cvss3.as_ref().map(|s| s.base).or(cvss4.as_ref().map(|s| s.base));
                VulnMatch {
                    device_id: 0,
                    summary: summary.unwrap_or_default(),
                    severity: severity(top).into(),
                    cvss3: cvss3.as_ref().map(|s| s.base),
                    cvss3_vector: cvss3.map(|s| s.vector),
                    cvss4: cvss4.as_ref().map(|s| s.base),
                    cvss4_vector: cvss4.map(|s| s.vector),
                    kev: kev.get(&cve).or_else(|| info.and_then(|i| i.kev.as_ref())).map(|k| KevInfo {
                        date_added: k.date_added.clone(),
                        due_date: k.due_date.clone(),
                        required_action: k.required_action.clone(),
                        ransomware: k.known_ransomware_campaign_use.clone(),
                    }),
                    confidence,
                    confidence_label: confidence_label(confidence).into(),
                    fixed_version: lowest_version(&f.fixed),
                    remediations: f.remediations,
                    basis: f.basis,
                    cve,
                }
            })
            .collect();
        list.sort_by(|a, b| b.score().total_cmp(&a.score()).then_with(|| a.cve.cmp(&b.cve)));
        out.push(list);
    }
    Ok(out)
}
