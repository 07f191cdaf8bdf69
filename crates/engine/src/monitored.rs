//! Monitored (billable) devices and their count per site.
//!
//! A device counts when it is a unicast endpoint inside the monitored
//! network and was seen in the last 60 days before the newest capture time
//! in the database. The inventory already leaves out public internet
//! addresses, multicast and broadcast groups, and keeps one device per
//! physical endpoint with all its IPs (a switch or router with many
//! addresses is one device). On top of that, a virtual router MAC is not a
//! device of its own, and devices that share a serial number or a name the
//! host announced itself (DHCP, NetBIOS, SMB, LLDP, CDP) are one device
//! with several network interfaces and count once.

use crate::inventory::Device;
use crate::licence::{enterprise_iot_estimate, licence_for, stacked_alternative, LicenceNeed};
use palisade_model::{IdentityField, Timestamp};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A device not seen for this long before the newest capture time is inactive (60 days).
pub const INACTIVE_AFTER_NS: i64 = 60 * 24 * 3600 * 1_000_000_000;

/// The site every device belongs to until sites are configured.
pub const DEFAULT_SITE: &str = "default";

/// Sources whose host names the host announced itself (unique per host).
const SELF_NAMING_SOURCES: &[&str] = &["dhcp", "nbns", "smb", "lldp", "cdp"];

/// The site a device belongs to (one site for now; sites will come from configuration).
pub fn site_of(_device: &Device) -> &'static str {
    DEFAULT_SITE
}

/// Keys under which two devices are the same host with several interfaces.
fn same_host_keys(d: &Device) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(serial) = d.serial.as_deref().filter(|s| !s.trim().is_empty()) {
        keys.push(format!("serial:{}:{}", d.vendor.as_deref().unwrap_or(""), serial.trim()));
    }
    for f in d.facts.iter().filter(|f| f.field == IdentityField::Hostname && SELF_NAMING_SOURCES.contains(&f.source.as_str())) {
        keys.push(format!("name:{}", f.value.trim_end_matches('.').to_ascii_lowercase()));
    }
    keys
}

/// Sets `active` and `billable` on every device; `newest` is the newest
/// capture time in the database.
pub fn mark_monitored(devices: &mut [Device], newest: Timestamp) {
    let cutoff = newest.0.saturating_sub(INACTIVE_AFTER_NS);
    let mut counted: BTreeSet<String> = BTreeSet::new();
    for d in devices.iter_mut() {
        d.active = d.last_seen.0 >= cutoff;
        let virtual_only = !d.behind_router && !d.macs.is_empty() && d.macs.iter().all(|m| m.is_virtual_router());
        let keys = same_host_keys(d);
        let duplicate = keys.iter().any(|k| counted.contains(k));
        d.billable = d.active && !virtual_only && !duplicate;
        if d.billable {
            counted.extend(keys);
        }
    }
}

/// The monitored-device count of one site and the licence that covers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SiteCount {
    /// Site name.
    pub site: String,
    /// Monitored (billable, active) devices.
    pub monitored_devices: u64,
    /// Devices in the inventory, counted or not.
    pub devices: u64,
    /// Devices not seen in the last 60 days.
    pub inactive_devices: u64,
    /// The site licence that covers the monitored devices.
    pub licence: Option<LicenceNeed>,
    /// Stacked XL licences, where the site is larger than one XL.
    pub stacked_alternative: Option<LicenceNeed>,
    /// Monitored devices rounded up to a multiple of 100.
    pub enterprise_iot_estimate: u64,
}

/// Counts the monitored devices of each site.
pub fn site_counts(devices: &[Device]) -> Vec<SiteCount> {
    let mut per_site: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    per_site.entry(DEFAULT_SITE).or_default();
    for d in devices {
        let entry = per_site.entry(site_of(d)).or_default();
        entry.0 += u64::from(d.billable && d.active);
        entry.1 += 1;
        entry.2 += u64::from(!d.active);
    }
    per_site
        .into_iter()
        .map(|(site, (monitored, all, inactive))| SiteCount {
            site: site.to_string(),
            monitored_devices: monitored,
            devices: all,
            inactive_devices: inactive,
            licence: licence_for(monitored),
            stacked_alternative: stacked_alternative(monitored),
            enterprise_iot_estimate: enterprise_iot_estimate(monitored),
        })
        .collect()
}
