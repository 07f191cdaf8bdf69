//! SQLite storage.

use crate::{AnalysisRecord, EventFilter, Store, StoreError};
use palisade_engine::{
    ActivityLog, Device, EventRecord, ExternalEndpoint, FactKey, FactSeen, Inventory, IpSeen, MacSeen, Observations, Seen,
};
use palisade_model::{IdentityField, MacAddr, Protocol, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

/// Schema migrations, in order; the version is the index plus one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE obs_macs (mac TEXT PRIMARY KEY, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, packets INTEGER NOT NULL,
                       protocols TEXT NOT NULL, routes_public INTEGER NOT NULL);
CREATE TABLE obs_ips (ip TEXT PRIMARY KEY, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, packets INTEGER NOT NULL,
                      protocols TEXT NOT NULL, arp_macs TEXT NOT NULL, directed_broadcast INTEGER NOT NULL);
CREATE TABLE obs_pairs (ip TEXT NOT NULL, mac TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
                        packets INTEGER NOT NULL, PRIMARY KEY (ip, mac));
CREATE TABLE obs_facts (mac TEXT NOT NULL, ip TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, protocol TEXT NOT NULL,
                        first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, count INTEGER NOT NULL,
                        PRIMARY KEY (mac, ip, field, value));
CREATE TABLE devices (id INTEGER PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, type TEXT NOT NULL,
                      vendor TEXT, data TEXT NOT NULL);
CREATE TABLE device_keys (key TEXT PRIMARY KEY, device_id INTEGER NOT NULL);
CREATE TABLE external_endpoints (ip TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE analyses (id INTEGER PRIMARY KEY, finished_at TEXT NOT NULL, inputs TEXT NOT NULL, packets INTEGER NOT NULL,
                       bytes INTEGER NOT NULL, errors TEXT NOT NULL);
"#,
    r#"
CREATE TABLE events (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, record_type TEXT NOT NULL, protocol TEXT NOT NULL,
                     src_ip TEXT, dst_ip TEXT, data TEXT NOT NULL);
CREATE INDEX events_time ON events (time_ns);
CREATE INDEX events_src ON events (src_ip);
CREATE INDEX events_dst ON events (dst_ip);
"#,
];

/// The embedded SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn protocols(text: &str) -> BTreeSet<Protocol> {
    text.split(',').filter_map(Protocol::from_name).collect()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let err = |source| StoreError::Database { path: name.clone(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        let mut store = SqliteStore { conn, path: name };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Database { path: self.path.clone(), source }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Database { path: path.clone(), source };
        self.conn
            .execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);")
            .map_err(err)?;
        let current: i64 = self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(err)?;
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(StoreError::TooNew { path, found: current, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![i as i64 + 1, chrono::Utc::now().to_rfc3339()],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    fn corrupt(&self, what: String) -> StoreError {
        StoreError::Corrupt { path: self.path.clone(), what }
    }
}

impl Store for SqliteStore {
    fn load_observations(&self) -> Result<Observations, StoreError> {
        let mut obs = Observations::default();
        let e = self.err();
        let seen = |r: &rusqlite::Row<'_>, at: usize| -> rusqlite::Result<Seen> {
            Ok(Seen::new(Timestamp(r.get(at)?), Timestamp(r.get(at + 1)?), r.get::<_, i64>(at + 2)? as u64))
        };
        let mut stmt = self.conn.prepare("SELECT mac, first_ns, last_ns, packets, protocols, routes_public FROM obs_macs").map_err(&e)?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, seen(r, 1)?, r.get::<_, String>(4)?, r.get::<_, bool>(5)?))).map_err(&e)?;
        for row in rows {
            let (mac, seen, protos, routes_public) = row.map_err(&e)?;
            let mac = MacAddr::parse(&mac).ok_or_else(|| self.corrupt(format!("MAC {mac:?}")))?;
            obs.macs.insert(mac, MacSeen { seen, protocols: protocols(&protos), routes_public });
        }
        let mut stmt =
            self.conn.prepare("SELECT ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast FROM obs_ips").map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, seen(r, 1)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, bool>(6)?))
            })
            .map_err(&e)?;
        for row in rows {
            let (ip, seen, protos, arp, directed_broadcast) = row.map_err(&e)?;
            let ip: IpAddr = ip.parse().map_err(|_| self.corrupt(format!("IP {ip:?}")))?;
            let arp_macs = arp.split(',').filter_map(MacAddr::parse).collect();
            obs.ips.insert(ip, IpSeen { seen, protocols: protocols(&protos), arp_macs, directed_broadcast });
        }
        let mut stmt = self.conn.prepare("SELECT ip, mac, first_ns, last_ns, packets FROM obs_pairs").map_err(&e)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, seen(r, 2)?))).map_err(&e)?;
        for row in rows {
            let (ip, mac, seen) = row.map_err(&e)?;
            let (Ok(ip), Some(mac)) = (ip.parse::<IpAddr>(), MacAddr::parse(&mac)) else {
                return Err(self.corrupt(format!("address pair {ip:?} {mac:?}")));
            };
            obs.pairs.insert((ip, mac), seen);
        }
        let mut stmt = self.conn.prepare("SELECT mac, ip, field, value, protocol, first_ns, last_ns, count FROM obs_facts").map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    seen(r, 5)?,
                ))
            })
            .map_err(&e)?;
        for row in rows {
            let (mac, ip, field, value, protocol, seen) = row.map_err(&e)?;
            let (Some(field), Some(protocol)) = (IdentityField::from_name(&field), Protocol::from_name(&protocol)) else {
                return Err(self.corrupt(format!("fact {field:?} from {protocol:?}")));
            };
            let key = FactKey { mac: MacAddr::parse(&mac), ip: ip.parse().ok(), field, value };
            obs.facts.insert(key, FactSeen { protocol, seen });
        }
        Ok(obs)
    }

    fn save_analysis(
        &mut self,
        obs: &Observations,
        inventory: &mut Inventory,
        activity: &ActivityLog,
        run: &AnalysisRecord,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e = |source| StoreError::Database { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute_batch("DELETE FROM obs_macs; DELETE FROM obs_ips; DELETE FROM obs_pairs; DELETE FROM obs_facts; DELETE FROM devices; DELETE FROM external_endpoints;")
            .map_err(e)?;
        {
            let mut ins = tx.prepare("INSERT INTO obs_macs VALUES (?1, ?2, ?3, ?4, ?5, ?6)").map_err(e)?;
            for (mac, m) in &obs.macs {
                ins.execute(params![
                    mac.to_string(),
                    m.seen.first.0,
                    m.seen.last.0,
                    m.seen.packets as i64,
                    join(&m.protocols),
                    m.routes_public
                ])
                .map_err(e)?;
            }
            let mut ins = tx.prepare("INSERT INTO obs_ips VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)").map_err(e)?;
            for (ip, i) in &obs.ips {
                ins.execute(params![
                    ip.to_string(),
                    i.seen.first.0,
                    i.seen.last.0,
                    i.seen.packets as i64,
                    join(&i.protocols),
                    join(&i.arp_macs),
                    i.directed_broadcast
                ])
                .map_err(e)?;
            }
            let mut ins = tx.prepare("INSERT INTO obs_pairs VALUES (?1, ?2, ?3, ?4, ?5)").map_err(e)?;
            for ((ip, mac), s) in &obs.pairs {
                ins.execute(params![ip.to_string(), mac.to_string(), s.first.0, s.last.0, s.packets as i64]).map_err(e)?;
            }
            let mut ins = tx.prepare("INSERT INTO obs_facts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)").map_err(e)?;
            for (k, f) in &obs.facts {
                let mac = k.mac.map(|m| m.to_string()).unwrap_or_default();
                let ip = k.ip.map(|i| i.to_string()).unwrap_or_default();
                ins.execute(params![
                    mac,
                    ip,
                    k.field.as_str(),
                    k.value,
                    f.protocol.as_str(),
                    f.seen.first.0,
                    f.seen.last.0,
                    f.seen.packets as i64
                ])
                .map_err(e)?;
            }
            let mut next_id: i64 = tx.query_row("SELECT COALESCE(MAX(device_id), 0) + 1 FROM device_keys", [], |r| r.get(0)).map_err(e)?;
            let mut find = tx.prepare("SELECT device_id FROM device_keys WHERE key = ?1").map_err(e)?;
            let mut add_key = tx.prepare("INSERT OR REPLACE INTO device_keys (key, device_id) VALUES (?1, ?2)").map_err(e)?;
            let mut ins = tx
                .prepare("INSERT INTO devices (id, first_seen, last_seen, type, vendor, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(e)?;
            let mut used = BTreeSet::new();
            for device in &mut inventory.devices {
                let mut id = None;
                for key in &device.keys {
                    if let Some(found) = find.query_row(params![key], |r| r.get::<_, i64>(0)).optional().map_err(e)? {
                        if !used.contains(&found) {
                            id = Some(id.map_or(found, |i: i64| i.min(found)));
                        }
                    }
                }
                let id = id.unwrap_or_else(|| {
                    next_id += 1;
                    next_id - 1
                });
                used.insert(id);
                device.id = id;
                for key in &device.keys {
                    add_key.execute(params![key, id]).map_err(e)?;
                }
                let data = serde_json::to_string(device).unwrap_or_default();
                ins.execute(params![
                    id,
                    device.first_seen.to_rfc3339(),
                    device.last_seen.to_rfc3339(),
                    device.device_type.as_str(),
                    device.vendor,
                    data
                ])
                .map_err(e)?;
            }
            let mut ins = tx.prepare("INSERT INTO external_endpoints (ip, data) VALUES (?1, ?2)").map_err(e)?;
            for ext in &inventory.external {
                ins.execute(params![ext.ip.to_string(), serde_json::to_string(ext).unwrap_or_default()]).map_err(e)?;
            }
            let mut ins = tx
                .prepare("INSERT INTO events (time_ns, record_type, protocol, src_ip, dst_ip, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(e)?;
            for r in &activity.records {
                let data = serde_json::to_string(r).unwrap_or_default();
                let (src, dst) = (r.src_ip.map(|i| i.to_string()), r.dst_ip.map(|i| i.to_string()));
                ins.execute(params![r.time.0, r.record_type, r.protocol.as_str(), src, dst, data]).map_err(e)?;
            }
            tx.execute(
                "INSERT INTO analyses (finished_at, inputs, packets, bytes, errors) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![chrono::Utc::now().to_rfc3339(), join(&run.inputs), run.packets as i64, run.bytes as i64, run.errors.join("\n")],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare("SELECT data FROM devices ORDER BY id").map_err(&e)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let data = row.map_err(&e)?;
            out.push(serde_json::from_str(&data).map_err(|err| self.corrupt(format!("device: {err}")))?);
        }
        Ok(out)
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let e = self.err();
        let sql = "SELECT id, data FROM events WHERE (?1 IS NULL OR record_type = ?1) AND (?2 IS NULL OR protocol = ?2) \
                   AND (?3 IS NULL OR src_ip = ?3 OR dst_ip = ?3) ORDER BY time_ns, id LIMIT ?4";
        let mut stmt = self.conn.prepare(sql).map_err(&e)?;
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let rows = stmt
            .query_map(params![filter.record_type, filter.protocol, filter.ip, limit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, data) = row.map_err(&e)?;
            let mut record: EventRecord = serde_json::from_str(&data).map_err(|err| self.corrupt(format!("event: {err}")))?;
            record.id = id;
            out.push(record);
        }
        Ok(out)
    }

    fn external_endpoints(&self) -> Result<Vec<ExternalEndpoint>, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare("SELECT data FROM external_endpoints ORDER BY ip").map_err(&e)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let data = row.map_err(&e)?;
            out.push(serde_json::from_str(&data).map_err(|err| self.corrupt(format!("external endpoint: {err}")))?);
        }
        Ok(out)
    }
}
