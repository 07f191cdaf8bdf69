//! CSAF 2.0 security advisories (as ICS vendors and national CERTs publish
//! them): the product tree flattened into products with vendor, name,
//! version or version range and model numbers; per vulnerability the
//! product status, scores and remediations with the fixed version.

use crate::nvd::{shorten, Score};
use serde::Deserialize;
use std::collections::BTreeSet;

/// An advisory, flattened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Advisory {
    /// `document.tracking.id`.
    pub tracking_id: String,
    /// Publisher name.
    pub publisher: String,
    /// Title.
    pub title: String,
    /// `document.tracking.current_release_date`.
    pub release_date: String,
    /// `document.tracking.version`.
    pub revision: String,
    /// The advisory's own address (`self` reference), if given.
    pub url: Option<String>,
    /// Products of the tree.
    pub products: Vec<Product>,
    /// Vulnerabilities.
    pub vulnerabilities: Vec<AdvisoryVuln>,
}

/// A product of an advisory's tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Product {
    /// Product id within the advisory.
    pub id: String,
    /// Vendor (the `vendor` branch, or the publisher).
    pub vendor: String,
    /// Product family (`SIMATIC S7-300`), when the tree has one above the name.
    pub family: Option<String>,
    /// Product name (`CPU 315-2 PN/DP`).
    pub name: String,
    /// The product's full name.
    pub full_name: String,
    /// Exact version (`product_version` branch).
    pub version: Option<String>,
    /// Version range (`product_version_range` branch: a `vers:` string or text).
    pub version_range: Option<String>,
    /// Model numbers (may hold `*` and `?` wildcards).
    pub model_numbers: Vec<String>,
    /// CPE given by the advisory.
    pub cpe: Option<String>,
}

/// One vulnerability of an advisory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdvisoryVuln {
    /// CVE id (or the advisory's own id with an index when there is none).
    pub cve: String,
    /// Title.
    pub title: String,
    /// Summary note, shortened.
    pub summary: String,
    /// Highest CVSS v3 base score given.
    pub cvss3: Option<Score>,
    /// Highest CVSS v4 base score given.
    pub cvss4: Option<Score>,
    /// (product id, status) pairs: `known_affected`, `fixed`, `known_not_affected`...
    pub statuses: Vec<(String, String)>,
    /// Remediations.
    pub remediations: Vec<Remediation>,
}

/// A remediation of a vulnerability for some products.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remediation {
    /// `vendor_fix`, `workaround`, `mitigation`, `no_fix_planned`, `none_available`.
    pub category: String,
    /// What to do.
    pub details: String,
    /// Where to get it.
    pub url: Option<String>,
    /// The products it is for.
    pub product_ids: Vec<String>,
    /// The version that fixes it, when the advisory names one.
    pub fixed_version: Option<String>,
}

// ----- document shapes -----

#[derive(Deserialize)]
struct RawDoc {
    document: RawDocument,
    #[serde(default)]
    product_tree: RawTree,
    #[serde(default)]
    vulnerabilities: Vec<RawVuln>,
}

#[derive(Deserialize)]
struct RawDocument {
    csaf_version: String,
    title: String,
    publisher: RawPublisher,
    tracking: RawTracking,
    #[serde(default)]
    references: Vec<RawReference>,
}

#[derive(Deserialize)]
struct RawPublisher {
    name: String,
}

#[derive(Deserialize)]
struct RawTracking {
    id: String,
    current_release_date: String,
    version: String,
}

#[derive(Deserialize)]
struct RawReference {
    url: String,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawTree {
    #[serde(default)]
    branches: Vec<RawBranch>,
    #[serde(default)]
    full_product_names: Vec<RawFullProduct>,
    #[serde(default)]
    relationships: Vec<RawRelationship>,
}

#[derive(Deserialize)]
struct RawBranch {
    category: String,
    name: String,
    #[serde(default)]
    branches: Vec<RawBranch>,
    product: Option<RawFullProduct>,
}

#[derive(Deserialize)]
struct RawFullProduct {
    product_id: String,
    name: String,
    #[serde(default)]
    product_identification_helper: Option<RawHelper>,
}

#[derive(Deserialize, Default)]
struct RawHelper {
    cpe: Option<String>,
    #[serde(default)]
    model_numbers: Vec<String>,
}

#[derive(Deserialize)]
struct RawRelationship {
    product_reference: String,
    relates_to_product_reference: String,
    full_product_name: RawFullProduct,
}

#[derive(Deserialize)]
struct RawVuln {
    cve: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    notes: Vec<RawNote>,
    #[serde(default)]
    product_status: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    scores: Vec<RawScore>,
    #[serde(default)]
    remediations: Vec<RawRemediation>,
}

#[derive(Deserialize)]
struct RawNote {
    category: String,
    text: String,
}

#[derive(Deserialize)]
struct RawScore {
    cvss_v3: Option<RawCvss>,
    cvss_v4: Option<RawCvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvss {
    base_score: f64,
    vector_string: String,
}

#[derive(Deserialize)]
struct RawRemediation {
    category: String,
    details: String,
    url: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
}

/// Statuses that mean "this product has the vulnerability".
pub const AFFECTED: &[&str] = &["known_affected", "first_affected", "last_affected"];
/// Statuses that mean "this product does not have it (any more)".
pub const NOT_AFFECTED: &[&str] = &["fixed", "first_fixed", "known_not_affected"];

/// Context of a branch walk.
#[derive(Clone, Default)]
struct Path {
    vendor: Option<String>,
    family: Option<String>,
    name: Option<String>,
    version: Option<String>,
    range: Option<String>,
}

fn walk(branches: &[RawBranch], path: &Path, publisher: &str, out: &mut Vec<Product>) {
    for b in branches {
        let mut p = path.clone();
        match b.category.as_str() {
            "vendor" => p.vendor = Some(b.name.clone()),
            "product_family" => p.family = Some(b.name.clone()),
            "product_name" => p.name = Some(b.name.clone()),
            "product_version" => p.version = Some(b.name.clone()),
            "product_version_range" => p.range = Some(b.name.clone()),
            _ => {}
        }
        if let Some(product) = &b.product {
            out.push(product_at(product, &p, publisher));
        }
        walk(&b.branches, &p, publisher, out);
    }
}

fn product_at(raw: &RawFullProduct, p: &Path, publisher: &str) -> Product {
    let helper = raw.product_identification_helper.as_ref();
    let (family, name) = match (&p.family, &p.name) {
        (f, Some(n)) => (f.clone(), n.clone()),
        (Some(f), None) => (None, f.clone()),
        (None, None) => (None, raw.name.clone()),
    };
    Product {
        id: raw.product_id.clone(),
        vendor: p.vendor.clone().unwrap_or_else(|| publisher.to_string()),
        family,
        name,
        full_name: raw.name.clone(),
        version: p.version.clone(),
        version_range: p.range.clone(),
        model_numbers: helper.map(|h| h.model_numbers.clone()).unwrap_or_default(),
        cpe: helper.and_then(|h| h.cpe.clone()),
    }
}

/// Finds the version a remediation text names: `Update to V3.2.8 or later
/// version` gives `V3.2.8`.
pub fn version_in_text(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '\'') || (c == '.'));
        let lower = w.to_lowercase();
        let versionish = (lower.starts_with('v') && w.get(1..).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())))
            || (w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.'));
        let after_cue = i > 0
            && words
                .get(i - 1)
                .is_some_and(|p| matches!(p.to_lowercase().trim_end_matches(':'), "to" | "version" | "firmware" | "revision" | "release"));
        if versionish && (after_cue || lower.starts_with('v')) && crate::version::Version::parse(w).is_some() {
            return Some(w.to_string());
        }
    }
    None
}

/// Parses a CSAF document. Errors name what is wrong (missing fields,
/// product ids the tree does not define); nothing is returned then.
pub fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    let raw: RawDoc = serde_json::from_slice(bytes).map_err(|e| format!("not a CSAF 2.0 document: {e}"))?;
    if !raw.document.csaf_version.starts_with("2.") {
        return Err(format!("csaf_version {:?} is not 2.x", raw.document.csaf_version));
    }
    let publisher = raw.document.publisher.name.clone();
    let mut products = Vec::new();
    walk(&raw.product_tree.branches, &Path::default(), &publisher, &mut products);
    for fp in &raw.product_tree.full_product_names {
        products.push(product_at(fp, &Path::default(), &publisher));
    }
    for rel in &raw.product_tree.relationships {
        let Some(component) = products.iter().find(|p| p.id == rel.product_reference).cloned() else {
            return Err(format!("relationship names product id {:?} that the product tree does not define", rel.product_reference));
        };
        let platform = products.iter().find(|p| p.id == rel.relates_to_product_reference).map(|p| p.name.clone());
        let mut model_numbers = component.model_numbers.clone();
        if let Some(pl) = products.iter().find(|p| p.id == rel.relates_to_product_reference) {
            model_numbers.extend(pl.model_numbers.iter().cloned());
        }
        products.push(Product {
            id: rel.full_product_name.product_id.clone(),
            name: platform.map_or(component.name.clone(), |pl| format!("{} {}", pl, component.name)),
            full_name: rel.full_product_name.name.clone(),
            model_numbers,
            ..component
        });
    }
    let known: BTreeSet<&str> = products.iter().map(|p| p.id.as_str()).collect();
    let mut vulnerabilities = Vec::new();
    for (i, v) in raw.vulnerabilities.iter().enumerate() {
        let cve = v.cve.clone().unwrap_or_else(|| format!("{}#{}", raw.document.tracking.id, i + 1));
        let mut statuses = Vec::new();
        for (status, ids) in &v.product_status {
            for id in ids {
                if !known.contains(id.as_str()) {
                    return Err(format!("vulnerabilities[{i}] ({cve}): product_status.{status} names product id {id:?} that the product tree does not define"));
                }
                statuses.push((id.clone(), status.clone()));
            }
        }
        let max_score = |pick: fn(&RawScore) -> Option<&RawCvss>| {
            v.scores
                .iter()
                .filter_map(pick)
                .filter(|s| (0.0..=10.0).contains(&s.base_score))
                .max_by(|a, b| a.base_score.total_cmp(&b.base_score))
                .map(|s| Score { base: s.base_score, vector: s.vector_string.clone() })
        };
        let remediations = v
            .remediations
            .iter()
            .map(|r| Remediation {
                category: r.category.clone(),
                details: r.details.clone(),
                url: r.url.clone(),
                product_ids: r.product_ids.clone(),
                fixed_version: if r.category == "vendor_fix" { version_in_text(&r.details) } else { None },
            })
            .collect();
        let summary = v.notes.iter().find(|n| n.category == "summary").or_else(|| v.notes.first()).map(|n| shorten(&n.text));
        vulnerabilities.push(AdvisoryVuln {
            title: v.title.clone().unwrap_or_default(),
            summary: summary.unwrap_or_default(),
            cvss3: max_score(|s| s.cvss_v3.as_ref()),
            cvss4: max_score(|s| s.cvss_v4.as_ref()),
            statuses,
            remediations,
            cve,
        });
    }
    let url = raw.document.references.iter().find(|r| r.category.as_deref() == Some("self")).map(|r| r.url.clone());
    Ok(Advisory {
        tracking_id: raw.document.tracking.id,
        publisher,
        title: raw.document.title,
        release_date: raw.document.tracking.current_release_date,
        revision: raw.document.tracking.version,
        url,
        products,
        vulnerabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remediation_versions() {
        assert_eq!(version_in_text("Update to V3.2.8 or later version").as_deref(), Some("V3.2.8"));
        assert_eq!(version_in_text("Update firmware to 4.04.").as_deref(), Some("4.04"));
        assert_eq!(version_in_text("Upgrade to revision 20.011 or later").as_deref(), Some("20.011"));
        assert_eq!(version_in_text("Restrict network access to port 102"), None);
    }

    #[test]
    fn branches_flatten_and_bad_ids_are_refused() {
        let doc = r#"{"document":{"csaf_version":"2.0","title":"T","category":"csaf_security_advisory",
          "publisher":{"name":"Example CERT","category":"coordinator","namespace":"https://cert.example"},
          "tracking":{"id":"EX-1","current_release_date":"2024-01-01T00:00:00Z","initial_release_date":"2024-01-01T00:00:00Z","version":"1","status":"final","revision_history":[]}},
          "product_tree":{"branches":[{"category":"vendor","name":"Siemens","branches":[{"category":"product_family","name":"SIMATIC S7-300",
            "branches":[{"category":"product_name","name":"CPU 315-2 PN/DP","branches":[
              {"category":"product_version_range","name":"vers:intdot/<3.2.8","product":{"product_id":"P1","name":"CPU 315-2 PN/DP < V3.2.8",
                "product_identification_helper":{"model_numbers":["6ES7315-2EH14-0AB0"]}}},
              {"category":"product_version","name":"V3.2.8","product":{"product_id":"P2","name":"CPU 315-2 PN/DP V3.2.8"}}]}]}]}]},
          "vulnerabilities":[{"cve":"CVE-2000-1","product_status":{"known_affected":["P1"],"fixed":["P2"]},
            "scores":[{"products":["P1"],"cvss_v3":{"version":"3.1","baseScore":7.5,"vectorString":"CVSS:3.1/AV:N"}}],
            "remediations":[{"category":"vendor_fix","details":"Update to V3.2.8 or later version","product_ids":["P1"]}]}]}"#;
        let a = parse(doc.as_bytes()).unwrap();
        assert_eq!(a.products.len(), 2);
        assert_eq!((a.products[0].family.as_deref(), a.products[0].name.as_str()), (Some("SIMATIC S7-300"), "CPU 315-2 PN/DP"));
        assert_eq!(a.products[0].vendor, "Siemens");
        assert_eq!(a.products[0].version_range.as_deref(), Some("vers:intdot/<3.2.8"));
        assert_eq!(a.products[1].version.as_deref(), Some("V3.2.8"));
        assert_eq!(a.vulnerabilities[0].remediations[0].fixed_version.as_deref(), Some("V3.2.8"));
        assert_eq!(a.vulnerabilities[0].cvss3.as_ref().map(|s| s.base), Some(7.5));
        let bad = doc.replace(r#""fixed":["P2"]"#, r#""fixed":["P9"]"#);
        let err = parse(bad.as_bytes()).unwrap_err();
        assert!(err.contains("\"P9\"") && err.contains("CVE-2000-1"), "{err}");
        let err = parse(br#"{"document":{}}"#).unwrap_err();
        assert!(err.contains("missing field"), "{err}");
    }
}
