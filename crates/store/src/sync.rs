//! Results of remote sensors. A sensor analyses on its own site into its
//! own database and sends the console what changed since its last
//! successful sync as one [`SyncBundle`] (over the network, or as a file
//! for sites without a link). The console stores a bundle into the
//! sensor's site in one transaction: all of it, or nothing.

use crate::alerts::{alert_row, alert_values, ALERT_COLUMNS};
use crate::db::{Db, Value};
use crate::rows::{parse_device, parse_event, DeviceRow, EventRow, FIRST_FREE_DEVICE_ID};
use crate::StoreError;
use palisade_detect::Alert;
use palisade_engine::{Device, EventRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The bundle format this version writes and reads.
pub const SYNC_FORMAT: u32 = 1;

/// Rows written per statement when importing.
const ROWS_PER_STATEMENT: usize = 100;

/// Where a sensor's next bundle starts: what the console already has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    /// Devices with a larger id are new.
    pub device_id: i64,
    /// Devices last seen at or after this capture time (ns) may have changed.
    pub devices_since_ns: i64,
    /// Events with a larger id are new.
    pub event_id: i64,
    /// Alerts with a larger id are new.
    pub alert_id: i64,
    /// Alerts last seen at or after this capture time (ns) may have changed.
    pub alerts_since_ns: i64,
}

/// What a sensor sends: the devices, events and alerts that are new or
/// changed since a cursor.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SyncBundle {
    /// [`SYNC_FORMAT`].
    pub format: u32,
    /// The sensor's database, for messages.
    pub source: String,
    /// The cursor this bundle starts from.
    pub since: SyncCursor,
    /// Devices new or seen since the cursor (with the sensor's ids).
    pub devices: Vec<Device>,
    /// The id of every device the sensor has now: devices the console got
    /// earlier and the sensor has merged away are dropped.
    pub device_ids: Vec<i64>,
    /// New operations and violations, oldest first.
    pub events: Vec<EventRecord>,
    /// New and changed alerts.
    pub alerts: Vec<Alert>,
    /// The cursor of the next bundle, once this one is stored.
    pub next: SyncCursor,
    /// True when events were left for the next bundle.
    pub more: bool,
}

/// What an import stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Devices added or updated.
    pub devices: u64,
    /// Devices dropped (merged away on the sensor).
    pub removed_devices: u64,
    /// Events added (ones already stored are skipped).
    pub events: u64,
    /// Alerts added or updated.
    pub alerts: u64,
}

/// Sensor results. Every [`crate::Database`] has it.
pub trait SyncStore {
    /// What changed in this store's site since `cursor`: devices new or
    /// seen since, at most `max_events` events (the rest in the next
    /// bundle), and the new or changed alerts.
    fn sync_bundle(&self, cursor: &SyncCursor, max_events: usize, source: &str) -> Result<SyncBundle, StoreError>;
    /// Stores a bundle into `site_id`, crediting `sensor` (if any) with
    /// it, all in one transaction; `Invalid` for a bundle that cannot be
    /// stored (nothing is stored then).
    fn import_bundle(&self, site_id: i64, sensor: Option<i64>, bundle: &SyncBundle, now: &str) -> Result<ImportCounts, StoreError>;
}

fn invalid(what: impl Into<String>) -> StoreError {
    StoreError::Invalid { what: what.into() }
}

/// Refuses a bundle that cannot be stored as it is.
fn check(bundle: &SyncBundle) -> Result<(), StoreError> {
    if bundle.format != SYNC_FORMAT {
        return Err(invalid(format!(
            "bundle format {} is not one this console reads ({SYNC_FORMAT}); use the same Palisade version on both sides",
            bundle.format
        )));
    }
    let mut ids = BTreeSet::new();
    for d in &bundle.devices {
        if d.id <= 0 || !ids.insert(d.id) {
            return Err(invalid(format!("device id {} is not positive or comes twice", d.id)));
        }
    }
    if let Some(e) = bundle.events.iter().find(|e| e.id <= 0) {
        return Err(invalid(format!("event id {} is not positive", e.id)));
    }
    if let Some(a) = bundle.alerts.iter().find(|a| a.id <= 0) {
        return Err(invalid(format!("alert id {} is not positive", a.id)));
    }
    Ok(())
}

/// Inserts rows of `columns` in chunks; `tail` follows each statement
/// (an `ON CONFLICT` clause). Returns the rows written.
fn insert_rows(db: &impl Db, table: &str, columns: &[&str], rows: Vec<Vec<Value>>, tail: &str) -> Result<u64, StoreError> {
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut params = Vec::new();
        for (i, row) in rows.by_ref().take(ROWS_PER_STATEMENT).enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let first = params.len();
            let marks: Vec<String> = (first + 1..=first + row.len()).map(|k| format!("${k}")).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            params.extend(row);
        }
        sql.push_str(tail);
        written += db.exec(&sql, &params)?;
    }
    Ok(written)
}

fn store_devices(db: &impl Db, site_id: i64, bundle: &SyncBundle) -> Result<(u64, u64), StoreError> {
    let known: HashMap<i64, i64> = db
        .rows("SELECT remote_id, id FROM devices WHERE site_id = $1 AND remote_id IS NOT NULL", &[site_id.into()])?
        .iter()
        .map(|r| (r.int(0), r.int(1)))
        .collect();
    let mut next_id = db.row(FIRST_FREE_DEVICE_ID, &[])?.map_or(1, |r| r.int(0).max(1));
    let mut rows = Vec::with_capacity(bundle.devices.len());
    for device in &bundle.devices {
        let id = match known.get(&device.id) {
            Some(id) => {
                db.exec("DELETE FROM devices WHERE id = $1", &[(*id).into()])?;
                *id
            }
            None => {
                next_id += 1;
                next_id - 1
            }
        };
        let mut stored = device.clone();
        stored.id = id;
        let d = DeviceRow::new(&stored);
        rows.push(vec![
            d.id.into(),
            d.first_seen.into(),
            d.last_seen.into(),
            d.device_type.into(),
            d.vendor.into(),
            d.data.into(),
            d.first_ns.into(),
            d.last_ns.into(),
            d.ip.into(),
            d.ip_key.into(),
            d.mac.into(),
            d.name.into(),
            d.purdue_level.into(),
            d.protocols.into(),
            d.subnet.into(),
            d.search.into(),
            site_id.into(),
            device.id.into(),
        ]);
    }
    let columns = [
        "id",
        "first_seen",
        "last_seen",
        "type",
        "vendor",
        "data",
        "first_ns",
        "last_ns",
        "ip",
        "ip_key",
        "mac",
        "name",
        "purdue_level",
        "protocols",
        "subnet",
        "search",
        "site_id",
        "remote_id",
    ];
    let written = insert_rows(db, "devices", &columns, rows, "")?;
    let present: BTreeSet<i64> = bundle.device_ids.iter().chain(bundle.devices.iter().map(|d| &d.id)).copied().collect();
    let mut removed = 0;
    for (remote, id) in &known {
        if !present.contains(remote) {
            removed += db.exec("DELETE FROM devices WHERE id = $1", &[(*id).into()])?;
        }
    }
    Ok((written, removed))
}

fn store_events(db: &impl Db, site_id: i64, events: &[EventRecord]) -> Result<u64, StoreError> {
    let rows = events
        .iter()
        .map(|e| {
            let r = EventRow::new(e);
            vec![
                r.time_ns.into(),
                r.record_type.into(),
                r.protocol.into(),
                r.src_ip.into(),
                r.dst_ip.into(),
                r.data.into(),
                site_id.into(),
                e.id.into(),
            ]
        })
        .collect();
    let columns = ["time_ns", "record_type", "protocol", "src_ip", "dst_ip", "data", "site_id", "remote_id"];
    insert_rows(db, "events", &columns, rows, " ON CONFLICT (site_id, remote_id) WHERE remote_id IS NOT NULL DO NOTHING")
}

fn store_alerts(db: &impl Db, site_id: i64, alerts: &[Alert]) -> Result<u64, StoreError> {
    let rows = alerts
        .iter()
        .map(|a| {
            // Evidence files stay on the sensor.
            let local = Alert { evidence: None, evidence_packets: 0, ..a.clone() };
            let mut values = alert_values(&local);
            values.extend([site_id.into(), a.id.into()]);
            values
        })
        .collect();
    let mut columns: Vec<&str> = ALERT_COLUMNS.split(',').map(str::trim).filter(|c| *c != "id").collect();
    columns.extend(["site_id", "remote_id"]);
    // The console's analysts own the status: a sync updates what was seen.
    let tail = " ON CONFLICT (site_id, remote_id) WHERE remote_id IS NOT NULL DO UPDATE SET title = excluded.title, severity = excluded.severity, \
                first_ns = excluded.first_ns, last_ns = excluded.last_ns, count = excluded.count, \
                description = excluded.description, remediation = excluded.remediation, baseline_items = excluded.baseline_items";
    insert_rows(db, "alerts", &columns, rows, tail)
}

impl<T: Db> SyncStore for T {
    fn sync_bundle(&self, cursor: &SyncCursor, max_events: usize, source: &str) -> Result<SyncBundle, StoreError> {
        let site = Value::Int(self.scope());
        let devices = self
            .rows(
                "SELECT data FROM devices WHERE site_id = $1 AND (id > $2 OR last_ns >= $3) ORDER BY id",
                &[site.clone(), cursor.device_id.into(), cursor.devices_since_ns.into()],
            )?
            .iter()
            .map(|r| parse_device("devices", &r.text(0)))
            .collect::<Result<Vec<_>, _>>()?;
        let device_ids = self
            .rows("SELECT id FROM devices WHERE site_id = $1 ORDER BY id", std::slice::from_ref(&site))?
            .iter()
            .map(|r| r.int(0))
            .collect();
        let limit = max_events.max(1);
        let mut events = self
            .rows(
                "SELECT id, data FROM events WHERE site_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                &[site.clone(), cursor.event_id.into(), (limit as i64 + 1).into()],
            )?
            .iter()
            .map(|r| parse_event("events", r.int(0), &r.text(1)))
            .collect::<Result<Vec<_>, _>>()?;
        let more = events.len() > limit;
        events.truncate(limit);
        let alerts = self
            .rows(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE site_id = $1 AND (id > $2 OR last_ns >= $3) ORDER BY id"),
                &[site.clone(), cursor.alert_id.into(), cursor.alerts_since_ns.into()],
            )?
            .iter()
            .map(alert_row)
            .collect::<Result<Vec<_>, _>>()?;
        let top = |sql: &str| -> Result<i64, StoreError> { Ok(self.row(sql, std::slice::from_ref(&site))?.map_or(0, |r| r.int(0))) };
        let next = SyncCursor {
            device_id: top("SELECT COALESCE(MAX(id), 0) FROM devices WHERE site_id = $1")?,
            devices_since_ns: top("SELECT COALESCE(MAX(last_ns), 0) FROM devices WHERE site_id = $1")?,
            event_id: events.last().map_or(cursor.event_id, |e| e.id),
            alert_id: top("SELECT COALESCE(MAX(id), 0) FROM alerts WHERE site_id = $1")?,
            alerts_since_ns: top("SELECT COALESCE(MAX(last_ns), 0) FROM alerts WHERE site_id = $1")?,
        };
        Ok(SyncBundle {
            format: SYNC_FORMAT,
            source: source.to_string(),
            since: cursor.clone(),
            devices,
            device_ids,
            events,
            alerts,
            next,
            more,
        })
    }

    fn import_bundle(&self, site_id: i64, sensor: Option<i64>, bundle: &SyncBundle, now: &str) -> Result<ImportCounts, StoreError> {
        check(bundle)?;
        if self.row("SELECT id FROM sites WHERE id = $1", &[site_id.into()])?.is_none() {
            return Err(invalid(format!("there is no site with id {site_id}")));
        }
        self.atomically(|db| {
            let (devices, removed_devices) = store_devices(db, site_id, bundle)?;
            let counts = ImportCounts {
                devices,
                removed_devices,
                events: store_events(db, site_id, &bundle.events)?,
                alerts: store_alerts(db, site_id, &bundle.alerts)?,
            };
            if let Some(id) = sensor {
                db.exec(
                    "UPDATE sensors SET last_sync = $1, synced_devices = synced_devices + $2, synced_events = synced_events + $3, \
                     synced_alerts = synced_alerts + $4 WHERE id = $5",
                    &[
                        now.into(),
                        Value::Int(counts.devices as i64),
                        Value::Int(counts.events as i64),
                        Value::Int(counts.alerts as i64),
                        id.into(),
                    ],
                )?;
            }
            Ok(counts)
        })
    }
}
