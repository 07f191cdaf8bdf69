//! The analysis side: consumes sensor events on one thread (no locks).
//!
//! [`Observations`] keeps what the traffic showed (which IP was seen with
//! which MAC, over which protocols, when, and what devices said about
//! themselves); [`build_inventory`] turns it into devices. Observations are
//! what the store persists, so analysing more captures into the same
//! database refines the same inventory.

mod activity;
mod behaviour;
mod classify;
mod fingerprint;
mod inventory;
mod licence;
mod monitored;
mod observations;

pub use activity::{ActivityLog, EventRecord};
pub use fingerprint::{dhcp_os, tcp_os, OsFamily, OsMatch};
pub use inventory::{build_inventory, Device, ExternalEndpoint, Inventory, SourcedFact};
pub use licence::{enterprise_iot_estimate, licence_for, licence_sizes, stacked_alternative, LicenceNeed, LicenceSize};
pub use monitored::{mark_monitored, site_counts, site_of, SiteCount, DEFAULT_SITE, INACTIVE_AFTER_NS};
pub use observations::{
    FactKey, FactSeen, IpSeen, LinkKey, LinkSeen, MacSeen, Observations, OperationCounts, PairSeen, Party, Seen, Service, MAX_LINKS,
};
