//! SQLite storage.

use crate::db::{sqlite_placeholders, Db, Row, Value};
use crate::rows::{
    assign_ids, insert_event_rows, join, parse_device, parse_event, DeviceRow, FactRow, IpRow, LinkRow, MacRow, ObservationRows, PairRow,
    FIRST_FREE_DEVICE_ID,
};
use crate::{AnalysisRecord, EventFilter, Store, StoreError};
use palisade_engine::{ActivityLog, Device, EventRecord, ExternalEndpoint, Inventory, Observations};
use rusqlite::types::ValueRef;
use rusqlite::{params, params_from_iter, Connection};
use std::collections::HashMap;
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
    CONSOLE_MIGRATION,
    crate::alerts::DETECTION_MIGRATION_SQLITE,
    crate::console::CONSOLE_ALERT_MIGRATION,
    LINKS_MIGRATION,
    SITES_MIGRATION,
    crate::console::SITE_COLUMNS_MIGRATION,
];

/// Sites own their data: every observation, device, event, alert, baseline
/// fact and learning state carries its site (the default site, 1, for what
/// was stored before), so inventories merge only within a site. SQLite
/// cannot change a primary key, so the keyed tables are copied.
const SITES_MIGRATION: &str = r#"
CREATE TABLE obs_macs_s (site_id INTEGER NOT NULL, mac TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
                         packets INTEGER NOT NULL, protocols TEXT NOT NULL, routes_public INTEGER NOT NULL, PRIMARY KEY (site_id, mac));
INSERT INTO obs_macs_s SELECT 1, mac, first_ns, last_ns, packets, protocols, routes_public FROM obs_macs;
DROP TABLE obs_macs;
ALTER TABLE obs_macs_s RENAME TO obs_macs;
CREATE TABLE obs_ips_s (site_id INTEGER NOT NULL, ip TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
                        packets INTEGER NOT NULL, protocols TEXT NOT NULL, arp_macs TEXT NOT NULL, directed_broadcast INTEGER NOT NULL,
                        PRIMARY KEY (site_id, ip));
INSERT INTO obs_ips_s SELECT 1, ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast FROM obs_ips;
DROP TABLE obs_ips;
ALTER TABLE obs_ips_s RENAME TO obs_ips;
CREATE TABLE obs_pairs_s (site_id INTEGER NOT NULL, ip TEXT NOT NULL, mac TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,
                          packets INTEGER NOT NULL, PRIMARY KEY (site_id, ip, mac));
INSERT INTO obs_pairs_s SELECT 1, ip, mac, first_ns, last_ns, packets FROM obs_pairs;
DROP TABLE obs_pairs;
ALTER TABLE obs_pairs_s RENAME TO obs_pairs;
CREATE TABLE obs_facts_s (site_id INTEGER NOT NULL, mac TEXT NOT NULL, ip TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
                          protocol TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, count INTEGER NOT NULL,
                          PRIMARY KEY (site_id, mac, ip, field, value));
INSERT INTO obs_facts_s SELECT 1, mac, ip, field, value, protocol, first_ns, last_ns, count FROM obs_facts;
DROP TABLE obs_facts;
ALTER TABLE obs_facts_s RENAME TO obs_facts;
CREATE TABLE obs_links_s (site_id INTEGER NOT NULL, client TEXT NOT NULL, server TEXT NOT NULL, service TEXT NOT NULL,
                          first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
                          operations TEXT NOT NULL, PRIMARY KEY (site_id, client, server, service));
INSERT INTO obs_links_s SELECT 1, client, server, service, first_ns, last_ns, packets, bytes, operations FROM obs_links;
DROP TABLE obs_links;
ALTER TABLE obs_links_s RENAME TO obs_links;
CREATE TABLE device_keys_s (site_id INTEGER NOT NULL, key TEXT NOT NULL, device_id INTEGER NOT NULL, PRIMARY KEY (site_id, key));
INSERT INTO device_keys_s SELECT 1, key, device_id FROM device_keys;
DROP TABLE device_keys;
ALTER TABLE device_keys_s RENAME TO device_keys;
CREATE TABLE external_endpoints_s (site_id INTEGER NOT NULL, ip TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site_id, ip));
INSERT INTO external_endpoints_s SELECT 1, ip, data FROM external_endpoints;
DROP TABLE external_endpoints;
ALTER TABLE external_endpoints_s RENAME TO external_endpoints;
CREATE TABLE baseline_s (site_id INTEGER NOT NULL, kind TEXT NOT NULL, item TEXT NOT NULL, first_ns INTEGER NOT NULL,
                         last_ns INTEGER NOT NULL, count INTEGER NOT NULL, learned INTEGER NOT NULL, peak_bytes INTEGER NOT NULL,
                         peak_packets INTEGER NOT NULL, PRIMARY KEY (site_id, kind, item));
INSERT INTO baseline_s SELECT 1, kind, item, first_ns, last_ns, count, learned, peak_bytes, peak_packets FROM baseline;
DROP TABLE baseline;
ALTER TABLE baseline_s RENAME TO baseline;
CREATE INDEX baseline_first ON baseline (site_id, first_ns);
CREATE TABLE detection_state_s (site_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (site_id, key));
INSERT INTO detection_state_s SELECT 1, key, value FROM detection_state;
DROP TABLE detection_state;
ALTER TABLE detection_state_s RENAME TO detection_state;
CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL, user_name TEXT NOT NULL, site_id INTEGER NOT NULL,
                   created_at TEXT NOT NULL, state TEXT NOT NULL, packets INTEGER NOT NULL, outcome TEXT, error TEXT);
"#;

/// Who asked whom for what (the behaviour that device classification reads).
const LINKS_MIGRATION: &str = r#"
CREATE TABLE obs_links (client TEXT NOT NULL, server TEXT NOT NULL, service TEXT NOT NULL, first_ns INTEGER NOT NULL,
                        last_ns INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL, operations TEXT NOT NULL,
                        PRIMARY KEY (client, server, service));
"#;

/// The console's columns and tables (sorting and filtering devices, sites,
/// sensors, users, sessions, API tokens, settings).
const CONSOLE_MIGRATION: &str = r#"
ALTER TABLE devices ADD COLUMN first_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN last_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN ip_key TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN purdue_level INTEGER NOT NULL DEFAULT -1;
ALTER TABLE devices ADD COLUMN protocols TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN subnet TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE devices SET vendor = '' WHERE vendor IS NULL;
CREATE INDEX devices_type ON devices (type, id);
CREATE INDEX devices_vendor ON devices (vendor, id);
CREATE INDEX devices_level ON devices (purdue_level, id);
CREATE INDEX devices_subnet ON devices (subnet, id);
CREATE INDEX devices_ip ON devices (ip_key, id);
CREATE INDEX devices_mac ON devices (mac, id);
CREATE INDEX devices_name ON devices (name, id);
CREATE INDEX devices_first ON devices (first_ns, id);
CREATE INDEX devices_last ON devices (last_ns, id);
CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '');
INSERT INTO sites (name, description) VALUES ('default', 'The network this database watches');
CREATE TABLE sensors (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL);
INSERT INTO sensors (site_id, name, kind) VALUES (1, 'local', 'local');
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                    must_change_password INTEGER NOT NULL, disabled INTEGER NOT NULL, created_at TEXT NOT NULL, last_login TEXT);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, csrf_token TEXT NOT NULL, created_at INTEGER NOT NULL,
                       expires_at INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                         created_at TEXT NOT NULL, last_used TEXT);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// The embedded SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: String,
    /// The site analyses go into and are read from.
    site: i64,
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
        let mut store = SqliteStore { conn, path: name, site: crate::DEFAULT_SITE };
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

    /// Reads the observation tables.
    fn observation_rows(&self) -> Result<ObservationRows, StoreError> {
        let e = self.err();
        let mut rows = ObservationRows::default();
        let mut stmt = self
            .conn
            .prepare("SELECT mac, first_ns, last_ns, packets, protocols, routes_public FROM obs_macs WHERE site_id = ?1")
            .map_err(&e)?;
        let mapped = stmt
            .query_map([self.site], |r| {
                Ok(MacRow {
                    mac: r.get(0)?,
                    first_ns: r.get(1)?,
                    last_ns: r.get(2)?,
                    packets: r.get(3)?,
                    protocols: r.get(4)?,
                    routes_public: r.get(5)?,
                })
            })
            .map_err(&e)?;
        rows.macs = mapped.collect::<Result<_, _>>().map_err(&e)?;
        let mut stmt = self
            .conn
            .prepare("SELECT ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast FROM obs_ips WHERE site_id = ?1")
            .map_err(&e)?;
        let mapped = stmt
            .query_map([self.site], |r| {
                Ok(IpRow {
                    ip: r.get(0)?,
                    first_ns: r.get(1)?,
                    last_ns: r.get(2)?,
                    packets: r.get(3)?,
                    protocols: r.get(4)?,
                    arp_macs: r.get(5)?,
                    directed_broadcast: r.get(6)?,
                })
            })
            .map_err(&e)?;
        rows.ips = mapped.collect::<Result<_, _>>().map_err(&e)?;
        let mut stmt = self.conn.prepare("SELECT ip, mac, first_ns, last_ns, packets FROM obs_pairs WHERE site_id = ?1").map_err(&e)?;
        let mapped = stmt
            .query_map([self.site], |r| {
                Ok(PairRow { ip: r.get(0)?, mac: r.get(1)?, first_ns: r.get(2)?, last_ns: r.get(3)?, packets: r.get(4)? })
            })
            .map_err(&e)?;
        rows.pairs = mapped.collect::<Result<_, _>>().map_err(&e)?;
        let mut stmt = self
            .conn
            .prepare("SELECT mac, ip, field, value, protocol, first_ns, last_ns, count FROM obs_facts WHERE site_id = ?1")
            .map_err(&e)?;
        let mapped = stmt
            .query_map([self.site], |r| {
                Ok(FactRow {
                    mac: r.get(0)?,
                    ip: r.get(1)?,
                    field: r.get(2)?,
                    value: r.get(3)?,
                    protocol: r.get(4)?,
                    first_ns: r.get(5)?,
                    last_ns: r.get(6)?,
                    count: r.get(7)?,
                })
            })
            .map_err(&e)?;
        rows.facts = mapped.collect::<Result<_, _>>().map_err(&e)?;
        let mut stmt = self
            .conn
            .prepare("SELECT client, server, service, first_ns, last_ns, packets, bytes, operations FROM obs_links WHERE site_id = ?1")
            .map_err(&e)?;
        let mapped = stmt
            .query_map([self.site], |r| {
                Ok(LinkRow {
                    client: r.get(0)?,
                    server: r.get(1)?,
                    service: r.get(2)?,
                    first_ns: r.get(3)?,
                    last_ns: r.get(4)?,
                    packets: r.get(5)?,
                    bytes: r.get(6)?,
                    operations: r.get(7)?,
                })
            })
            .map_err(&e)?;
        rows.links = mapped.collect::<Result<_, _>>().map_err(&e)?;
        Ok(rows)
    }
}

impl Db for SqliteStore {
    fn scope(&self) -> i64 {
        self.site
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare_cached(&sqlite_placeholders(sql)).map_err(&e)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(params)).map_err(&e)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&e)? {
            let mut row = Vec::with_capacity(columns);
            for i in 0..columns {
                row.push(match r.get_ref(i).map_err(&e)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn exec(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare_cached(&sqlite_placeholders(sql)).map_err(&e)?;
        Ok(stmt.execute(params_from_iter(params)).map_err(&e)? as u64)
    }
}

impl Store for SqliteStore {
    fn load_observations(&self) -> Result<Observations, StoreError> {
        self.observation_rows()?.into_observations().map_err(|what| self.corrupt(what))
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
        let rows = ObservationRows::from_observations(obs);
        let site = self.site;
        let tx = self.conn.transaction().map_err(e)?;
        for table in ["obs_macs", "obs_ips", "obs_pairs", "obs_facts", "obs_links", "external_endpoints"] {
            tx.execute(&format!("DELETE FROM {table} WHERE site_id = ?1"), [site]).map_err(e)?;
        }
        tx.execute("DELETE FROM devices WHERE site_id = ?1 AND remote_id IS NULL", [site]).map_err(e)?;
        {
            let mut ins = tx
                .prepare("INSERT INTO obs_macs (site_id, mac, first_ns, last_ns, packets, protocols, routes_public) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(e)?;
            for m in &rows.macs {
                ins.execute(params![site, m.mac, m.first_ns, m.last_ns, m.packets, m.protocols, m.routes_public]).map_err(e)?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO obs_ips (site_id, ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(e)?;
            for i in &rows.ips {
                ins.execute(params![site, i.ip, i.first_ns, i.last_ns, i.packets, i.protocols, i.arp_macs, i.directed_broadcast])
                    .map_err(e)?;
            }
            let mut ins = tx
                .prepare("INSERT INTO obs_pairs (site_id, ip, mac, first_ns, last_ns, packets) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(e)?;
            for p in &rows.pairs {
                ins.execute(params![site, p.ip, p.mac, p.first_ns, p.last_ns, p.packets]).map_err(e)?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO obs_facts (site_id, mac, ip, field, value, protocol, first_ns, last_ns, count) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(e)?;
            for f in &rows.facts {
                ins.execute(params![site, f.mac, f.ip, f.field, f.value, f.protocol, f.first_ns, f.last_ns, f.count]).map_err(e)?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO obs_links (site_id, client, server, service, first_ns, last_ns, packets, bytes, operations) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(e)?;
            for l in &rows.links {
                ins.execute(params![site, l.client, l.server, l.service, l.first_ns, l.last_ns, l.packets, l.bytes, l.operations])
                    .map_err(e)?;
            }
            let mut known = HashMap::new();
            let mut stmt = tx.prepare("SELECT key, device_id FROM device_keys WHERE site_id = ?1").map_err(e)?;
            for row in stmt.query_map([site], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).map_err(e)? {
                let (key, id) = row.map_err(e)?;
                known.insert(key, id);
            }
            let first_free: i64 = tx.query_row(FIRST_FREE_DEVICE_ID, [], |r| r.get(0)).map_err(e)?;
            let mut add_key = tx.prepare("INSERT OR REPLACE INTO device_keys (site_id, key, device_id) VALUES (?1, ?2, ?3)").map_err(e)?;
            for (key, id) in assign_ids(&mut inventory.devices, &known, first_free) {
                add_key.execute(params![site, key, id]).map_err(e)?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO devices (id, first_seen, last_seen, type, vendor, data, first_ns, last_ns, ip, ip_key, mac, name, \
                     purdue_level, protocols, subnet, search, site_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                )
                .map_err(e)?;
            for device in &inventory.devices {
                let d = DeviceRow::new(device);
                ins.execute(params![
                    d.id,
                    d.first_seen,
                    d.last_seen,
                    d.device_type,
                    d.vendor,
                    d.data,
                    d.first_ns,
                    d.last_ns,
                    d.ip,
                    d.ip_key,
                    d.mac,
                    d.name,
                    d.purdue_level,
                    d.protocols,
                    d.subnet,
                    d.search,
                    site
                ])
                .map_err(e)?;
            }
            let mut ins = tx.prepare("INSERT INTO external_endpoints (site_id, ip, data) VALUES (?1, ?2, ?3)").map_err(e)?;
            for ext in &inventory.external {
                ins.execute(params![site, ext.ip.to_string(), serde_json::to_string(ext).unwrap_or_default()]).map_err(e)?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT INTO events (time_ns, record_type, protocol, src_ip, dst_ip, data, site_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(e)?;
            insert_event_rows(&activity.records, |r| {
                ins.execute(params![r.time_ns, r.record_type, r.protocol, r.src_ip, r.dst_ip, r.data, site]).map(|_| ()).map_err(e)
            })?;
            tx.execute(
                "INSERT INTO analyses (finished_at, inputs, packets, bytes, errors, site_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    chrono::Utc::now().to_rfc3339(),
                    join(&run.inputs),
                    run.packets as i64,
                    run.bytes as i64,
                    run.errors.join("\n"),
                    site
                ],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare("SELECT data FROM devices WHERE site_id = ?1 ORDER BY id").map_err(&e)?;
        let rows = stmt.query_map([self.site], |r| r.get::<_, String>(0)).map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse_device(&self.path, &row.map_err(&e)?)?);
        }
        Ok(out)
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let e = self.err();
        let sql = "SELECT id, data FROM events WHERE (?1 IS NULL OR record_type = ?1) AND (?2 IS NULL OR protocol = ?2) \
                   AND (?3 IS NULL OR src_ip = ?3 OR dst_ip = ?3) AND site_id = ?5 ORDER BY time_ns, id LIMIT ?4";
        let mut stmt = self.conn.prepare(sql).map_err(&e)?;
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let rows = stmt
            .query_map(params![filter.record_type, filter.protocol, filter.ip, limit, self.site], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, data) = row.map_err(&e)?;
            out.push(parse_event(&self.path, id, &data)?);
        }
        Ok(out)
    }

    fn external_endpoints(&self) -> Result<Vec<ExternalEndpoint>, StoreError> {
        let e = self.err();
        let mut stmt = self.conn.prepare("SELECT data FROM external_endpoints WHERE site_id = ?1 ORDER BY ip").map_err(&e)?;
        let rows = stmt.query_map([self.site], |r| r.get::<_, String>(0)).map_err(&e)?;
        let mut out = Vec::new();
        for row in rows {
            let data = row.map_err(&e)?;
            out.push(serde_json::from_str(&data).map_err(|err| self.corrupt(format!("external endpoint: {err}")))?);
        }
        Ok(out)
    }

    fn set_site(&mut self, site_id: i64) {
        self.site = site_id;
    }

    fn site_id(&self) -> i64 {
        self.site
    }
}
