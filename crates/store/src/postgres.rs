//! PostgreSQL storage: the same tables and answers as SQLite, for a console
//! shared by many analysts. Bulk writes use binary `COPY`; migrations are
//! versioned and run under an advisory lock so several processes can start
//! at once.

use crate::db::{Db, Row, Value};
use crate::rows::{
    assign_ids, join, parse_device, parse_event, DeviceRow, EventRow, FactRow, IpRow, LinkRow, MacRow, ObservationRows, PairRow,
    FIRST_FREE_DEVICE_ID,
};
use crate::{AnalysisRecord, EventFilter, Store, StoreError};
use palisade_engine::{ActivityLog, Device, EventRecord, ExternalEndpoint, Inventory, Observations};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Transaction};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x5041_4c49_5341_4445;

/// Schema migrations, in order; the version is the index plus one. Text
/// columns that the console sorts on use the "C" collation so that the order
/// is the same as SQLite's.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE obs_macs (mac TEXT PRIMARY KEY, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL, packets BIGINT NOT NULL,
                       protocols TEXT NOT NULL, routes_public BOOLEAN NOT NULL);
CREATE TABLE obs_ips (ip TEXT PRIMARY KEY, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL, packets BIGINT NOT NULL,
                      protocols TEXT NOT NULL, arp_macs TEXT NOT NULL, directed_broadcast BOOLEAN NOT NULL);
CREATE TABLE obs_pairs (ip TEXT NOT NULL, mac TEXT NOT NULL, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL,
                        packets BIGINT NOT NULL, PRIMARY KEY (ip, mac));
CREATE TABLE obs_facts (mac TEXT NOT NULL, ip TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, protocol TEXT NOT NULL,
                        first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (mac, ip, field, value));
CREATE TABLE devices (id BIGINT PRIMARY KEY, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, type TEXT COLLATE "C" NOT NULL,
                      vendor TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL,
                      ip TEXT NOT NULL, ip_key TEXT COLLATE "C" NOT NULL, mac TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
                      purdue_level BIGINT NOT NULL, protocols TEXT NOT NULL, subnet TEXT COLLATE "C" NOT NULL, search TEXT NOT NULL);
CREATE INDEX devices_type ON devices (type, id);
CREATE INDEX devices_vendor ON devices (vendor, id);
CREATE INDEX devices_level ON devices (purdue_level, id);
CREATE INDEX devices_subnet ON devices (subnet, id);
CREATE INDEX devices_ip ON devices (ip_key, id);
CREATE INDEX devices_mac ON devices (mac, id);
CREATE INDEX devices_name ON devices (name, id);
CREATE INDEX devices_first ON devices (first_ns, id);
CREATE INDEX devices_last ON devices (last_ns, id);
CREATE TABLE device_keys (key TEXT PRIMARY KEY, device_id BIGINT NOT NULL);
CREATE TABLE external_endpoints (ip TEXT COLLATE "C" PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE analyses (id BIGSERIAL PRIMARY KEY, finished_at TEXT NOT NULL, inputs TEXT NOT NULL, packets BIGINT NOT NULL,
                       bytes BIGINT NOT NULL, errors TEXT NOT NULL);
CREATE TABLE events (id BIGSERIAL PRIMARY KEY, time_ns BIGINT NOT NULL, record_type TEXT NOT NULL, protocol TEXT NOT NULL,
                     src_ip TEXT, dst_ip TEXT, data TEXT NOT NULL);
CREATE INDEX events_time ON events (time_ns);
CREATE INDEX events_src ON events (src_ip);
CREATE INDEX events_dst ON events (dst_ip);
CREATE TABLE sites (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '');
INSERT INTO sites (name, description) VALUES ('default', 'The network this database watches');
CREATE TABLE sensors (id BIGSERIAL PRIMARY KEY, site_id BIGINT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL);
INSERT INTO sensors (site_id, name, kind) VALUES (1, 'local', 'local');
CREATE TABLE users (id BIGSERIAL PRIMARY KEY, username TEXT COLLATE "C" NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT NOT NULL,
                    must_change_password BIGINT NOT NULL, disabled BIGINT NOT NULL, created_at TEXT NOT NULL, last_login TEXT);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL, csrf_token TEXT NOT NULL, created_at BIGINT NOT NULL,
                       expires_at BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE api_tokens (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
                         created_at TEXT NOT NULL, last_used TEXT);
CREATE TABLE settings (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
"#,
    crate::alerts::DETECTION_MIGRATION_PG,
    crate::console::CONSOLE_ALERT_MIGRATION,
    LINKS_MIGRATION,
    SITES_MIGRATION,
    crate::console::SITE_COLUMNS_MIGRATION,
];

/// Sites own their data: every observation, device, event, alert, baseline
/// fact and learning state carries its site (the default site, 1, for what
/// was stored before), so inventories merge only within a site.
const SITES_MIGRATION: &str = r#"
ALTER TABLE obs_macs ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE obs_macs DROP CONSTRAINT obs_macs_pkey;
ALTER TABLE obs_macs ADD PRIMARY KEY (site_id, mac);
ALTER TABLE obs_ips ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE obs_ips DROP CONSTRAINT obs_ips_pkey;
ALTER TABLE obs_ips ADD PRIMARY KEY (site_id, ip);
ALTER TABLE obs_pairs ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE obs_pairs DROP CONSTRAINT obs_pairs_pkey;
ALTER TABLE obs_pairs ADD PRIMARY KEY (site_id, ip, mac);
ALTER TABLE obs_facts ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE obs_facts DROP CONSTRAINT obs_facts_pkey;
ALTER TABLE obs_facts ADD PRIMARY KEY (site_id, mac, ip, field, value);
ALTER TABLE obs_links ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE obs_links DROP CONSTRAINT obs_links_pkey;
ALTER TABLE obs_links ADD PRIMARY KEY (site_id, client, server, service);
ALTER TABLE device_keys ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE device_keys DROP CONSTRAINT device_keys_pkey;
ALTER TABLE device_keys ADD PRIMARY KEY (site_id, key);
ALTER TABLE external_endpoints ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE external_endpoints DROP CONSTRAINT external_endpoints_pkey;
ALTER TABLE external_endpoints ADD PRIMARY KEY (site_id, ip);
ALTER TABLE baseline ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE baseline DROP CONSTRAINT baseline_pkey;
ALTER TABLE baseline ADD PRIMARY KEY (site_id, kind, item);
DROP INDEX baseline_first;
CREATE INDEX baseline_first ON baseline (site_id, first_ns);
ALTER TABLE detection_state ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE detection_state DROP CONSTRAINT detection_state_pkey;
ALTER TABLE detection_state ADD PRIMARY KEY (site_id, key);
CREATE TABLE jobs (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, size BIGINT NOT NULL, user_name TEXT NOT NULL, site_id BIGINT NOT NULL,
                   created_at TEXT NOT NULL, state TEXT NOT NULL, packets BIGINT NOT NULL, outcome TEXT, error TEXT);
"#;

/// Who asked whom for what (the behaviour that device classification reads).
const LINKS_MIGRATION: &str = r#"
CREATE TABLE obs_links (client TEXT NOT NULL, server TEXT NOT NULL, service TEXT NOT NULL, first_ns BIGINT NOT NULL,
                        last_ns BIGINT NOT NULL, packets BIGINT NOT NULL, bytes BIGINT NOT NULL, operations TEXT NOT NULL,
                        PRIMARY KEY (client, server, service));
"#;

/// The PostgreSQL store.
pub struct PgStore {
    client: Mutex<Client>,
    /// Statements prepared on this connection, by text (the console runs
    /// the same few over and over).
    statements: Mutex<HashMap<String, postgres::Statement>>,
    /// The URL without its password, for messages.
    url: String,
    /// The site analyses go into and are read from.
    site: i64,
}

/// The URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

/// True for names that are safe to use as a schema without quoting tricks.
fn plain_identifier(name: &str) -> bool {
    !name.is_empty() && name.len() <= 63 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// and migrates it.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_in_schema(url, None)
    }

    /// Connects and works in `schema` (created if missing) instead of the
    /// default search path: tests use a fresh schema each, so they can run
    /// side by side in one database.
    pub fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let shown = redact_url(url);
        let err = |source| StoreError::Postgres { url: shown.clone(), source };
        let mut client = Client::connect(url, NoTls).map_err(err)?;
        if let Some(schema) = schema {
            if !plain_identifier(schema) {
                return Err(StoreError::Invalid { what: format!("schema name {schema:?} must be lowercase letters, digits and _") });
            }
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}")).map_err(err)?;
        }
        let store = PgStore { client: Mutex::new(client), statements: Mutex::default(), url: shown, site: crate::DEFAULT_SITE };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |source| StoreError::Postgres { url: self.url.clone(), source }
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The prepared statement for `sql`, preparing it the first time.
    fn statement(&self, client: &mut Client, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        /// Statements kept at most (queries with many filters vary).
        const MAX_STATEMENTS: usize = 512;
        let mut statements = self.statements.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(statement) = statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        if statements.len() >= MAX_STATEMENTS {
            statements.clear();
        }
        statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let e = self.err();
        let mut client = self.client();
        let mut tx = client.transaction().map_err(&e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(&e)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
            .map_err(&e)?;
        let current: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).map_err(&e)?.get(0);
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(StoreError::TooNew { path: self.url.clone(), found: current, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(sql).map_err(&e)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&(i as i64 + 1), &chrono::Utc::now().to_rfc3339()],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }

    /// Writes the rows of one table of a site with binary COPY (the site
    /// is the first column).
    fn copy_rows<R>(
        tx: &mut Transaction<'_>,
        sql: &str,
        types: &[Type],
        rows: &[R],
        site: &i64,
        fields: impl Fn(&R) -> Vec<&(dyn ToSql + Sync)>,
    ) -> Result<(), postgres::Error> {
        let sink = tx.copy_in(sql)?;
        let mut writer = BinaryCopyInWriter::new(sink, types);
        for row in rows {
            let mut values: Vec<&(dyn ToSql + Sync)> = vec![site];
            values.extend(fields(row));
            writer.write(&values)?;
        }
        writer.finish()?;
        Ok(())
    }

    fn save(
        &self,
        obs: &Observations,
        inventory: &mut Inventory,
        activity: &ActivityLog,
        run: &AnalysisRecord,
    ) -> Result<(), postgres::Error> {
        use Type as T;
        let rows = ObservationRows::from_observations(obs);
        let site = self.site;
        let mut client = self.client();
        let mut tx = client.transaction()?;
        for table in ["obs_macs", "obs_ips", "obs_pairs", "obs_facts", "obs_links", "external_endpoints"] {
            tx.execute(&format!("DELETE FROM {table} WHERE site_id = $1"), &[&site])?;
        }
        tx.execute("DELETE FROM devices WHERE site_id = $1 AND remote_id IS NULL", &[&site])?;
        Self::copy_rows(
            &mut tx,
            "COPY obs_macs (site_id, mac, first_ns, last_ns, packets, protocols, routes_public) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::INT8, T::INT8, T::INT8, T::TEXT, T::BOOL],
            &rows.macs,
            &site,
            |m: &MacRow| vec![&m.mac, &m.first_ns, &m.last_ns, &m.packets, &m.protocols, &m.routes_public],
        )?;
        Self::copy_rows(
            &mut tx,
            "COPY obs_ips (site_id, ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::INT8, T::INT8, T::INT8, T::TEXT, T::TEXT, T::BOOL],
            &rows.ips,
            &site,
            |i: &IpRow| vec![&i.ip, &i.first_ns, &i.last_ns, &i.packets, &i.protocols, &i.arp_macs, &i.directed_broadcast],
        )?;
        Self::copy_rows(
            &mut tx,
            "COPY obs_pairs (site_id, ip, mac, first_ns, last_ns, packets) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::TEXT, T::INT8, T::INT8, T::INT8],
            &rows.pairs,
            &site,
            |p: &PairRow| vec![&p.ip, &p.mac, &p.first_ns, &p.last_ns, &p.packets],
        )?;
        Self::copy_rows(
            &mut tx,
            "COPY obs_facts (site_id, mac, ip, field, value, protocol, first_ns, last_ns, count) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::INT8, T::INT8, T::INT8],
            &rows.facts,
            &site,
            |f: &FactRow| vec![&f.mac, &f.ip, &f.field, &f.value, &f.protocol, &f.first_ns, &f.last_ns, &f.count],
        )?;
        Self::copy_rows(
            &mut tx,
            "COPY obs_links (site_id, client, server, service, first_ns, last_ns, packets, bytes, operations) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::TEXT, T::TEXT, T::INT8, T::INT8, T::INT8, T::INT8, T::TEXT],
            &rows.links,
            &site,
            |l: &LinkRow| vec![&l.client, &l.server, &l.service, &l.first_ns, &l.last_ns, &l.packets, &l.bytes, &l.operations],
        )?;
        let known: HashMap<String, i64> = tx
            .query("SELECT key, device_id FROM device_keys WHERE site_id = $1", &[&site])?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
            .collect();
        let first_free: i64 = tx.query_one(FIRST_FREE_DEVICE_ID, &[])?.get(0);
        let (keys, ids): (Vec<String>, Vec<i64>) = assign_ids(&mut inventory.devices, &known, first_free).into_iter().unzip();
        tx.execute(
            "INSERT INTO device_keys (site_id, key, device_id) SELECT $3, k, d FROM UNNEST($1::text[], $2::int8[]) AS u (k, d) \
             ON CONFLICT (site_id, key) DO UPDATE SET device_id = EXCLUDED.device_id",
            &[&keys, &ids, &site],
        )?;
        let devices: Vec<DeviceRow> = inventory.devices.iter().map(DeviceRow::new).collect();
        Self::copy_rows(
            &mut tx,
            "COPY devices (site_id, id, first_seen, last_seen, type, vendor, data, first_ns, last_ns, ip, ip_key, mac, name, purdue_level, \
             protocols, subnet, search) FROM STDIN BINARY",
            &[
                T::INT8,
                T::INT8,
                T::TEXT,
                T::TEXT,
                T::TEXT,
                T::TEXT,
                T::TEXT,
                T::INT8,
                T::INT8,
                T::TEXT,
                T::TEXT,
                T::TEXT,
                T::TEXT,
                T::INT8,
                T::TEXT,
                T::TEXT,
                T::TEXT,
            ],
            &devices,
            &site,
            |d: &DeviceRow| {
                vec![
                    &d.id,
                    &d.first_seen,
                    &d.last_seen,
                    &d.device_type,
                    &d.vendor,
                    &d.data,
                    &d.first_ns,
                    &d.last_ns,
                    &d.ip,
                    &d.ip_key,
                    &d.mac,
                    &d.name,
                    &d.purdue_level,
                    &d.protocols,
                    &d.subnet,
                    &d.search,
                ]
            },
        )?;
        let external: Vec<(String, String)> =
            inventory.external.iter().map(|x| (x.ip.to_string(), serde_json::to_string(x).unwrap_or_default())).collect();
        Self::copy_rows(
            &mut tx,
            "COPY external_endpoints (site_id, ip, data) FROM STDIN BINARY",
            &[T::INT8, T::TEXT, T::TEXT],
            &external,
            &site,
            |x| vec![&x.0, &x.1],
        )?;
        let events: Vec<EventRow> = activity.records.iter().map(EventRow::new).collect();
        Self::copy_rows(
            &mut tx,
            "COPY events (site_id, time_ns, record_type, protocol, src_ip, dst_ip, data) FROM STDIN BINARY",
            &[T::INT8, T::INT8, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::TEXT],
            &events,
            &site,
            |r: &EventRow| vec![&r.time_ns, &r.record_type, &r.protocol, &r.src_ip, &r.dst_ip, &r.data],
        )?;
        tx.execute(
            "INSERT INTO analyses (finished_at, inputs, packets, bytes, errors, site_id) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &chrono::Utc::now().to_rfc3339(),
                &join(&run.inputs),
                &(run.packets as i64),
                &(run.bytes as i64),
                &run.errors.join("\n"),
                &site,
            ],
        )?;
        tx.commit()
    }
}

/// Parameters as the PostgreSQL client takes them.
fn pg_refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Db for PgStore {
    fn scope(&self) -> i64 {
        self.site
    }

    fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let e = self.err();
        let refs = pg_refs(params);
        let mut client = self.client();
        let statement = self.statement(&mut client, sql).map_err(&e)?;
        let rows = client.query(&statement, &refs).map_err(&e)?;
        rows.iter().map(crate::sql::pg_row).collect::<Result<_, _>>().map_err(e)
    }

    fn exec(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let refs = pg_refs(params);
        let mut client = self.client();
        let statement = self.statement(&mut client, sql).map_err(self.err())?;
        client.execute(&statement, &refs).map_err(self.err())
    }
}

impl PgStore {
    fn corrupt(&self, what: String) -> StoreError {
        StoreError::Corrupt { path: self.url.clone(), what }
    }

    fn observation_rows(&self) -> Result<ObservationRows, postgres::Error> {
        let site = &self.site;
        let mut client = self.client();
        let mut rows = ObservationRows::default();
        for r in
            client.query("SELECT mac, first_ns, last_ns, packets, protocols, routes_public FROM obs_macs WHERE site_id = $1", &[site])?
        {
            rows.macs.push(MacRow {
                mac: r.try_get(0)?,
                first_ns: r.try_get(1)?,
                last_ns: r.try_get(2)?,
                packets: r.try_get(3)?,
                protocols: r.try_get(4)?,
                routes_public: r.try_get(5)?,
            });
        }
        for r in client.query(
            "SELECT ip, first_ns, last_ns, packets, protocols, arp_macs, directed_broadcast FROM obs_ips WHERE site_id = $1",
            &[site],
        )? {
            rows.ips.push(IpRow {
                ip: r.try_get(0)?,
                first_ns: r.try_get(1)?,
                last_ns: r.try_get(2)?,
                packets: r.try_get(3)?,
                protocols: r.try_get(4)?,
                arp_macs: r.try_get(5)?,
                directed_broadcast: r.try_get(6)?,
            });
        }
        for r in client.query("SELECT ip, mac, first_ns, last_ns, packets FROM obs_pairs WHERE site_id = $1", &[site])? {
            rows.pairs.push(PairRow {
                ip: r.try_get(0)?,
                mac: r.try_get(1)?,
                first_ns: r.try_get(2)?,
                last_ns: r.try_get(3)?,
                packets: r.try_get(4)?,
            });
        }
        for r in
            client.query("SELECT mac, ip, field, value, protocol, first_ns, last_ns, count FROM obs_facts WHERE site_id = $1", &[site])?
        {
            rows.facts.push(FactRow {
                mac: r.try_get(0)?,
                ip: r.try_get(1)?,
                field: r.try_get(2)?,
                value: r.try_get(3)?,
                protocol: r.try_get(4)?,
                first_ns: r.try_get(5)?,
                last_ns: r.try_get(6)?,
                count: r.try_get(7)?,
            });
        }
        for r in client.query(
            "SELECT client, server, service, first_ns, last_ns, packets, bytes, operations FROM obs_links WHERE site_id = $1",
            &[site],
        )? {
            rows.links.push(LinkRow {
                client: r.try_get(0)?,
                server: r.try_get(1)?,
                service: r.try_get(2)?,
                first_ns: r.try_get(3)?,
                last_ns: r.try_get(4)?,
                packets: r.try_get(5)?,
                bytes: r.try_get(6)?,
                operations: r.try_get(7)?,
            });
        }
        Ok(rows)
    }
}

impl Store for PgStore {
    fn load_observations(&self) -> Result<Observations, StoreError> {
        self.observation_rows().map_err(self.err())?.into_observations().map_err(|what| self.corrupt(what))
    }

    fn save_analysis(
        &mut self,
        observations: &Observations,
        inventory: &mut Inventory,
        activity: &ActivityLog,
        run: &AnalysisRecord,
    ) -> Result<(), StoreError> {
        self.save(observations, inventory, activity, run).map_err(self.err())
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let mut q = crate::db::Query::new("SELECT id, data FROM events WHERE site_id = ");
        q.bind(self.site);
        if let Some(t) = &filter.record_type {
            q.push(" AND record_type = ").bind(t.as_str());
        }
        if let Some(p) = &filter.protocol {
            q.push(" AND protocol = ").bind(p.as_str());
        }
        if let Some(ip) = &filter.ip {
            q.push(" AND (src_ip = ").bind(ip.as_str()).push(" OR dst_ip = ").bind(ip.as_str()).push(")");
        }
        q.push(" ORDER BY time_ns, id");
        if let Some(limit) = filter.limit {
            q.push(" LIMIT ").bind(limit as i64);
        }
        self.rows(&q.sql, &q.params)?.iter().map(|r| parse_event(&self.url, r.int(0), &r.text(1))).collect()
    }

    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        self.rows("SELECT data FROM devices WHERE site_id = $1 ORDER BY id", &[self.site.into()])?
            .iter()
            .map(|r| parse_device(&self.url, &r.text(0)))
            .collect()
    }

    fn external_endpoints(&self) -> Result<Vec<ExternalEndpoint>, StoreError> {
        self.rows("SELECT data FROM external_endpoints WHERE site_id = $1 ORDER BY ip", &[self.site.into()])?
            .iter()
            .map(|r| serde_json::from_str(&r.text(0)).map_err(|err| self.corrupt(format!("external endpoint: {err}"))))
            .collect()
    }
    fn set_site(&mut self, site_id: i64) {
        self.site = site_id;
    }

    fn site_id(&self) -> i64 {
        self.site
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h"), "postgres://h");
        assert!(plain_identifier("t_12_ab") && !plain_identifier("x; DROP") && !plain_identifier(""));
    }
}
