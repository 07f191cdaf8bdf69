//! The analysis side: consumes sensor events on one thread (no locks).
//!
//! [`Observations`] keeps what the traffic showed (which IP was seen with
//! which MAC, over which protocols, when, and what devices said about
//! themselves); [`build_inventory`] turns it into devices. Observations are
//! what the store persists, so analysing more captures into the same
//! database refines the same inventory.

mod activity;
mod inventory;
mod observations;

pub use activity::{ActivityLog, EventRecord};
pub use inventory::{build_inventory, Device, ExternalEndpoint, Inventory, SourcedFact};
pub use observations::{FactKey, FactSeen, IpSeen, MacSeen, Observations, PairSeen, Seen};
