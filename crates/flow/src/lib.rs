//! Flows: a table keyed by the bidirectional 5-tuple (or the MAC pair for
//! layer-2 conversations), with idle timeouts, a hard size bound, TCP state
//! and bounded in-order stream reassembly.

mod key;
mod reassembly;
mod table;

pub use key::{Direction, FlowKey};
pub use reassembly::{StreamSink, TcpStream, REASSEMBLY_LIMIT};
pub use table::{Flow, FlowTable, FlowTableStats, TableLimits};
