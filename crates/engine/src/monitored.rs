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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::SourcedFact;
    use palisade_model::{DeviceType, MacAddr};

    const DAY_NS: i64 = 24 * 3600 * 1_000_000_000;

    fn device(mac: u8, last_seen_days: i64) -> Device {
        Device {
            id: 0,
            macs: vec![MacAddr([0, 0x1b, 0x1b, 0, 0, mac])],
            ips: Vec::new(),
            hostnames: Vec::new(),
            vendor: None,
            model: None,
            firmware: None,
            serial: None,
            os: None,
            device_type: DeviceType::Unknown,
            confidence: 0,
            purdue_level: None,
            protocols: Vec::new(),
            first_seen: Timestamp(0),
            last_seen: Timestamp(last_seen_days * DAY_NS),
            billable: false,
            active: false,
            behind_router: false,
            classification_reasons: Vec::new(),
            facts: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn hostname(value: &str, source: &str) -> SourcedFact {
        SourcedFact {
            field: IdentityField::Hostname,
            value: value.into(),
            source: source.into(),
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
        }
    }

    #[test]
    fn sixty_days_is_the_limit() {
        let mut devices = vec![device(1, 100), device(2, 40), device(3, 39)];
        mark_monitored(&mut devices, Timestamp(100 * DAY_NS));
        let state: Vec<(bool, bool)> = devices.iter().map(|d| (d.active, d.billable)).collect();
        assert_eq!(state, [(true, true), (true, true), (false, false)]);
    }

    #[test]
    fn one_host_with_several_interfaces_counts_once() {
        let mut a = device(1, 1);
        a.facts.push(hostname("HMI-LINE1", "nbns"));
        let mut b = device(2, 1);
        b.facts.push(hostname("hmi-line1", "dhcp"));
        let mut c = device(3, 1);
        c.facts.push(hostname("hmi-line1.plant.local", "dns"));
        let (mut d, mut e) = (device(4, 1), device(5, 1));
        d.vendor = Some("Siemens".into());
        d.serial = Some("S C-X4U12345".into());
        e.vendor = d.vendor.clone();
        e.serial = d.serial.clone();
        let mut devices = vec![a, b, c, d, e];
        mark_monitored(&mut devices, Timestamp(DAY_NS));
        let billable: Vec<bool> = devices.iter().map(|d| d.billable).collect();
        // DNS names are per address, not per host: they never merge devices.
        assert_eq!(billable, [true, false, true, true, false]);
    }

    #[test]
    fn virtual_router_macs_are_not_devices_to_count() {
        let mut vrrp = device(1, 1);
        vrrp.macs = vec![MacAddr([0x00, 0x00, 0x5e, 0x00, 0x01, 0x07])];
        let mut devices = vec![vrrp, device(2, 1)];
        mark_monitored(&mut devices, Timestamp(DAY_NS));
        assert_eq!(devices.iter().map(|d| d.billable).collect::<Vec<_>>(), [false, true]);
    }

    #[test]
    fn sites_count_their_monitored_devices() {
        let mut devices: Vec<Device> = (0..=120u8).map(|i| device(i, if i < 5 { 1 } else { 100 })).collect();
        mark_monitored(&mut devices, Timestamp(100 * DAY_NS));
        let counts = site_counts(&devices);
        assert_eq!(counts.len(), 1);
        let c = &counts[0];
        assert_eq!((c.site.as_str(), c.monitored_devices, c.devices, c.inactive_devices), ("default", 116, 121, 5));
        assert_eq!(c.licence.as_ref().map(|l| (l.size.as_str(), l.count)), Some(("S", 1)));
        assert_eq!((c.stacked_alternative.is_none(), c.enterprise_iot_estimate), (true, 200));
        let empty = site_counts(&[]);
        assert_eq!((empty[0].monitored_devices, empty[0].enterprise_iot_estimate), (0, 0));
    }
}
