//! `palisade count`: monitored (billable) devices per site and the site
//! licence that covers them.

use palisade_engine::{site_counts, Device, SiteCount};

/// Prints the monitored-device count of a site's devices, named `site`, as
/// text or JSON.
pub fn print_counts(site: &str, devices: &[Device], json: bool) -> anyhow::Result<()> {
    let mut counts = site_counts(devices);
    for c in &mut counts {
        c.site = site.to_string();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&counts)?);
        return Ok(());
    }
    for c in &counts {
        println!("{}", describe(c));
    }
    Ok(())
}

/// One site in words.
fn describe(c: &SiteCount) -> String {
    let licence = match &c.licence {
        Some(l) if l.count == 1 => format!("one {} licence (up to {} devices)", l.size, l.covers),
        Some(l) => format!("{} {} licences stacked (up to {} devices)", l.count, l.size, l.covers),
        None => "no licence size in the table covers it".to_string(),
    };
    let alternative = c
        .stacked_alternative
        .as_ref()
        .map(|a| format!(", or {} {} licences stacked (up to {} devices)", a.count, a.size, a.covers))
        .unwrap_or_default();
    format!(
        "site {}: {} monitored devices ({} in the inventory, {} inactive for 60 days); covered by {licence}{alternative}; \
         Enterprise IoT estimate {}",
        c.site, c.monitored_devices, c.devices, c.inactive_devices, c.enterprise_iot_estimate
    )
}
