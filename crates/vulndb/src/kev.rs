//! The CISA Known Exploited Vulnerabilities catalog (JSON).

use serde::Deserialize;

/// One catalog entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KevEntry {
    /// CVE id.
    #[serde(rename = "cveID")]
    pub cve_id: String,
    /// Vendor or project.
    #[serde(default)]
    pub vendor_project: String,
    /// Product.
    #[serde(default)]
    pub product: String,
    /// Name of the vulnerability.
    #[serde(default)]
    pub vulnerability_name: String,
    /// Date it was added to the catalog.
    #[serde(default)]
    pub date_added: String,
    /// What to do.
    #[serde(default)]
    pub required_action: String,
    /// Remediation due date for US federal agencies.
    #[serde(default)]
    pub due_date: String,
    /// `Known` when used in ransomware campaigns, else `Unknown`.
    #[serde(default)]
    pub known_ransomware_campaign_use: String,
}

/// Streams the entries of a KEV catalog document.
pub fn stream_kev<R: std::io::Read>(reader: R, mut each: impl FnMut(KevEntry) -> Result<(), String>) -> Result<(), String> {
    crate::nvd::stream_list(reader, "vulnerabilities", |e: KevEntry| {
        if !e.cve_id.starts_with("CVE-") {
            return Err(format!("cveID {:?} is not a CVE id", e.cve_id));
        }
        each(e)
    })
}
