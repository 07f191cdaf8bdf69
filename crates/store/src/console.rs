//! What the console reads and keeps: paged device and event lists, counts
//! for the dashboard, sites and sensors, users, sessions, API tokens and
//! settings. Written once over [`Db`], so SQLite and PostgreSQL answer the
//! same.

use crate::alerts::{alert_row, ALERT_COLUMNS};
use crate::db::{Db, Query, Row, Value};
use crate::rows::{parse_device, parse_event};
use crate::StoreError;
use palisade_detect::Alert;
use palisade_engine::{Device, EventRecord};
use serde::Serialize;
use std::collections::BTreeMap;

/// Indexes the console's alert lists and dashboard use (after the
/// detection tables exist); the same text runs on SQLite and PostgreSQL.
pub(crate) const CONSOLE_ALERT_MIGRATION: &str = r#"
CREATE INDEX IF NOT EXISTS alerts_severity ON alerts (severity, id);
CREATE INDEX IF NOT EXISTS alerts_engine ON alerts (engine, id);
CREATE INDEX IF NOT EXISTS alerts_category ON alerts (category, id);
CREATE INDEX IF NOT EXISTS alerts_src_ip ON alerts (src_ip);
CREATE INDEX IF NOT EXISTS alerts_dst_ip ON alerts (dst_ip);
CREATE INDEX IF NOT EXISTS alerts_status_severity ON alerts (status, severity);
"#;

/// The site of devices, events, alerts and analyses, with the sensor
/// columns (token, last sync) and the indexes that keep per-site lists
/// fast; the same text runs on SQLite and PostgreSQL. `remote_id` is the
/// id a row has in a remote sensor's database (NULL for local rows, which
/// its partial indexes leave out, so local analyses do not pay for them).
pub(crate) const SITE_COLUMNS_MIGRATION: &str = r#"
ALTER TABLE devices ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE devices ADD COLUMN remote_id BIGINT;
CREATE UNIQUE INDEX devices_remote ON devices (site_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX devices_site_id ON devices (site_id, id);
CREATE INDEX devices_site_type ON devices (site_id, type, id);
CREATE INDEX devices_site_vendor ON devices (site_id, vendor, id);
CREATE INDEX devices_site_level ON devices (site_id, purdue_level, id);
CREATE INDEX devices_site_subnet ON devices (site_id, subnet, id);
CREATE INDEX devices_site_ip ON devices (site_id, ip_key, id);
CREATE INDEX devices_site_mac ON devices (site_id, mac, id);
CREATE INDEX devices_site_name ON devices (site_id, name, id);
CREATE INDEX devices_site_first ON devices (site_id, first_ns, id);
CREATE INDEX devices_site_last ON devices (site_id, last_ns, id);
ALTER TABLE events ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN remote_id BIGINT;
CREATE UNIQUE INDEX events_remote ON events (site_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX events_site ON events (site_id, id);
ALTER TABLE alerts ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN remote_id BIGINT;
CREATE UNIQUE INDEX alerts_remote ON alerts (site_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX alerts_site ON alerts (site_id, id);
CREATE INDEX alerts_site_status ON alerts (site_id, status, id);
ALTER TABLE analyses ADD COLUMN site_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sensors ADD COLUMN token_hash TEXT;
ALTER TABLE sensors ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
ALTER TABLE sensors ADD COLUMN last_sync TEXT;
ALTER TABLE sensors ADD COLUMN synced_devices BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sensors ADD COLUMN synced_events BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sensors ADD COLUMN synced_alerts BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX sensors_token ON sensors (token_hash);
"#;

/// How the device list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceSort {
    /// By id (the order devices were first stored).
    #[default]
    Id,
    /// By first IP address, numerically.
    Ip,
    /// By first MAC address.
    Mac,
    /// By first host name.
    Name,
    /// By vendor.
    Vendor,
    /// By device type.
    Type,
    /// By Purdue level (unknown first).
    PurdueLevel,
    /// By first seen.
    FirstSeen,
    /// By last seen.
    LastSeen,
}

impl DeviceSort {
    /// Every order, with its name.
    pub const ALL: &'static [(&'static str, DeviceSort)] = &[
        ("id", DeviceSort::Id),
        ("ip", DeviceSort::Ip),
        ("mac", DeviceSort::Mac),
        ("name", DeviceSort::Name),
        ("vendor", DeviceSort::Vendor),
        ("type", DeviceSort::Type),
        ("purdue_level", DeviceSort::PurdueLevel),
        ("first_seen", DeviceSort::FirstSeen),
        ("last_seen", DeviceSort::LastSeen),
    ];

    /// The order called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    fn column(self) -> &'static str {
        match self {
            DeviceSort::Id => "id",
            DeviceSort::Ip => "ip_key",
            DeviceSort::Mac => "mac",
            DeviceSort::Name => "name",
            DeviceSort::Vendor => "vendor",
            DeviceSort::Type => "type",
            DeviceSort::PurdueLevel => "purdue_level",
            DeviceSort::FirstSeen => "first_ns",
            DeviceSort::LastSeen => "last_ns",
        }
    }

    fn is_integer(self) -> bool {
        matches!(self, DeviceSort::Id | DeviceSort::PurdueLevel | DeviceSort::FirstSeen | DeviceSort::LastSeen)
    }
}

/// Which devices to list, in which order, from where.
#[derive(Clone, Debug, Default)]
pub struct DeviceQuery {
    /// Only devices of this site (every site when `None`).
    pub site: Option<i64>,
    /// Words that must all appear in the device's addresses, names, vendor,
    /// model, firmware, serial, OS, type or protocols (case-insensitive).
    pub search: Option<String>,
    /// Only this device type.
    pub device_type: Option<String>,
    /// Only this Purdue level (`-1`: unknown).
    pub purdue_level: Option<i64>,
    /// Only this vendor (exact).
    pub vendor: Option<String>,
    /// Only devices that spoke this protocol.
    pub protocol: Option<String>,
    /// Only devices in this subnet (as listed by the map, e.g. `10.0.1.0/24`).
    pub subnet: Option<String>,
    /// Order.
    pub sort: DeviceSort,
    /// Largest first.
    pub descending: bool,
    /// Continue after this cursor (from the previous page).
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// One page of a list, and where the next one starts.
#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which events to list (newest first).
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Only events of this site (every site when `None`).
    pub site: Option<i64>,
    /// Only `operation` or `violation`.
    pub record_type: Option<String>,
    /// Only this protocol.
    pub protocol: Option<String>,
    /// Only events involving one of these IPs.
    pub ips: Vec<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// Which alerts to list (newest first).
#[derive(Clone, Debug, Default)]
pub struct AlertQuery {
    /// Only alerts of this site (every site when `None`).
    pub site: Option<i64>,
    /// Only these statuses (any when empty).
    pub statuses: Vec<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this engine.
    pub engine: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only alerts whose source or destination is one of these IPs or MACs.
    pub hosts: Vec<String>,
    /// Words that must all appear in the title, category or addresses (case-insensitive).
    pub search: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// Alert counts for the dashboard.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AlertStats {
    /// Open (new or acknowledged) alerts by severity.
    pub open_by_severity: BTreeMap<String, u64>,
    /// All alerts by status.
    pub by_status: BTreeMap<String, u64>,
    /// Alerts by day of their last occurrence (capture time) and severity,
    /// for the last `days` days that have alerts.
    pub timeline: Vec<DayCounts>,
    /// Hosts with the most severe open alerts.
    pub top_risks: Vec<HostRisk>,
}

/// Alerts of one day by severity.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DayCounts {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Alerts by severity.
    pub counts: BTreeMap<String, u64>,
}

/// A host's open alerts, weighted by severity.
#[derive(Clone, Debug, Serialize)]
pub struct HostRisk {
    /// The host's IP (or MAC).
    pub ip: String,
    /// Its device, if in the inventory.
    pub device_id: Option<i64>,
    /// The device's name, if known.
    pub name: String,
    /// Sum of severity weights (critical 10, high 5, medium 2, low 1).
    pub score: u64,
    /// Open alerts.
    pub alerts: u64,
    /// Worst severity among them.
    pub worst: String,
}

/// A service one host used on another, as learned by detection.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceLink {
    /// Client IP or MAC.
    pub client: String,
    /// Server IP or MAC.
    pub server: String,
    /// Protocol name, or `tcp/PORT` / `udp/PORT`.
    pub service: String,
    /// First seen (capture time, ns).
    pub first_ns: i64,
    /// Last seen (capture time, ns).
    pub last_ns: i64,
    /// Part of the learned baseline.
    pub learned: bool,
}

/// Device counts for the dashboard.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeviceStats {
    /// All devices.
    pub total: u64,
    /// By device type.
    pub by_type: BTreeMap<String, u64>,
    /// By Purdue level (`unknown` when not estimated).
    pub by_purdue_level: BTreeMap<String, u64>,
    /// The ten most common vendors.
    pub top_vendors: Vec<(String, u64)>,
}

/// A device as drawn on the map.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceSummary {
    /// Device id.
    pub id: i64,
    /// First IP.
    pub ip: String,
    /// First MAC.
    pub mac: String,
    /// First host name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Device type.
    #[serde(rename = "type")]
    pub device_type: String,
    /// Purdue level, when estimated.
    pub purdue_level: Option<i64>,
    /// Subnet (`a.b.c.0/24`), empty without IP.
    pub subnet: String,
}

/// A site: one plant or network watched by one or more sensors.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
}

/// A sensor feeding a site.
#[derive(Clone, Debug, Serialize)]
pub struct Sensor {
    /// Id.
    pub id: i64,
    /// Site it belongs to.
    pub site_id: i64,
    /// Name.
    pub name: String,
    /// `local` (this process) or `remote`.
    pub kind: String,
    /// Analyses it stored.
    pub analyses: u64,
    /// Packets it analysed.
    pub packets: u64,
    /// When its last analysis finished (wall clock, RFC 3339).
    pub last_analysis: Option<String>,
    /// When a remote sensor last sent its results (wall clock, RFC 3339).
    pub last_sync: Option<String>,
    /// Devices received from it (new or changed, over every sync).
    pub synced_devices: u64,
    /// Events received from it.
    pub synced_events: u64,
    /// Alerts received from it (new or changed).
    pub synced_alerts: u64,
}

/// A site with what it holds, for the sites list.
#[derive(Clone, Debug, Serialize)]
pub struct SiteSummary {
    /// The site.
    #[serde(flatten)]
    pub site: Site,
    /// Its devices.
    pub devices: u64,
    /// Its open (new or acknowledged) alerts.
    pub open_alerts: u64,
    /// All its alerts.
    pub alerts: u64,
    /// Its sensors, with when they were last heard from.
    pub sensors: Vec<Sensor>,
}

/// One stored analysis run.
#[derive(Clone, Debug, Serialize)]
pub struct AnalysisInfo {
    /// Id.
    pub id: i64,
    /// When it finished (wall clock, RFC 3339).
    pub finished_at: String,
    /// Input names.
    pub inputs: Vec<String>,
    /// Packets read.
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Errors met.
    pub errors: Vec<String>,
}

/// A console user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// `admin`, `security-analyst` or `read-only`.
    pub role: String,
    /// Must set a new password before doing anything else.
    pub must_change_password: bool,
    /// Cannot log in.
    pub disabled: bool,
    /// When created (RFC 3339).
    pub created_at: String,
    /// Last successful login (RFC 3339).
    pub last_login: Option<String>,
}

/// What to change on a user (`None` leaves it).
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    /// New role.
    pub role: Option<String>,
    /// New argon2 password hash.
    pub password_hash: Option<String>,
    /// Must change the password at next login.
    pub must_change_password: Option<bool>,
    /// Disabled.
    pub disabled: Option<bool>,
    /// Last login time.
    pub last_login: Option<String>,
}

/// A login session (the token itself is never stored, only its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session token, hex.
    pub token_hash: String,
    /// Whose session.
    pub user_id: i64,
    /// The CSRF token that state-changing requests must echo.
    pub csrf_token: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is invalid.
    pub expires_at: i64,
}

/// An API token for scripts (the token itself is shown once, only its hash is stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Owner; the token acts with the owner's role.
    pub user_id: i64,
    /// What it is for.
    pub name: String,
    /// When created (RFC 3339).
    pub created_at: String,
    /// Last used (RFC 3339).
    pub last_used: Option<String>,
}

/// The console's view of a store.
pub trait ConsoleStore: Send {
    /// One page of devices.
    fn device_page(&self, query: &DeviceQuery) -> Result<Page<Device>, StoreError>;
    /// One page of devices as JSON objects without their facts (for lists).
    fn device_list(&self, query: &DeviceQuery) -> Result<Page<String>, StoreError>;
    /// How many devices match the query's filters.
    fn device_count(&self, query: &DeviceQuery) -> Result<u64, StoreError>;
    /// One device.
    fn device(&self, id: i64) -> Result<Option<Device>, StoreError>;
    /// Counts by type, level and vendor, of one site's devices (every
    /// site's when `None`).
    fn device_stats(&self, site: Option<i64>) -> Result<DeviceStats, StoreError>;
    /// Up to `limit` devices as drawn on the map, by id.
    fn device_summaries(&self, limit: usize) -> Result<Vec<DeviceSummary>, StoreError>;
    /// One page of operations and violations, newest first.
    fn event_page(&self, query: &EventQuery) -> Result<Page<EventRecord>, StoreError>;
    /// Sites.
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
    /// Adds a site.
    fn create_site(&self, name: &str, description: &str) -> Result<Site, StoreError>;
    /// Sensors, with what they analysed or sent.
    fn sensors(&self) -> Result<Vec<Sensor>, StoreError>;
    /// Sites with their device and alert counts and their sensors.
    fn site_summaries(&self) -> Result<Vec<SiteSummary>, StoreError>;
    /// Adds a remote sensor of a site, which authenticates with the token
    /// whose hash is given; `Invalid` if there is no such site.
    fn create_sensor(&self, site_id: i64, name: &str, token_hash: &str, now: &str) -> Result<Sensor, StoreError>;
    /// The remote sensor whose token has this hash.
    fn sensor_by_token(&self, token_hash: &str) -> Result<Option<Sensor>, StoreError>;
    /// Stored analysis runs, newest first.
    fn analyses(&self, limit: usize) -> Result<Vec<AnalysisInfo>, StoreError>;
    /// All users, by name.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// One user.
    fn user(&self, id: i64) -> Result<Option<User>, StoreError>;
    /// A user by login name, with the password hash.
    fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Adds a user; `Conflict` if the name is taken.
    fn create_user(&self, username: &str, role: &str, password_hash: &str, must_change: bool, now: &str) -> Result<User, StoreError>;
    /// Changes a user; `false` if there is none with that id.
    fn update_user(&self, id: i64, update: &UserUpdate) -> Result<bool, StoreError>;
    /// Removes a user, their sessions and tokens; `false` if there was none.
    fn delete_user(&self, id: i64) -> Result<bool, StoreError>;
    /// Records a session (and forgets the expired ones).
    fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A live session (not expired at `now`) and its user.
    fn session(&self, token_hash: &str, now: i64) -> Result<Option<(SessionRecord, User)>, StoreError>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of a user except `keep`.
    fn delete_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<(), StoreError>;
    /// Records an API token.
    fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str, now: &str) -> Result<ApiToken, StoreError>;
    /// The token with this hash and its user, marking it used at `now`.
    fn use_api_token(&self, token_hash: &str, now: &str) -> Result<Option<(ApiToken, User)>, StoreError>;
    /// Tokens of one user, or of everyone.
    fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>, StoreError>;
    /// Revokes a token; `false` if there was none.
    fn delete_api_token(&self, id: i64) -> Result<bool, StoreError>;
    /// One page of alerts, newest first.
    fn alert_page(&self, query: &AlertQuery) -> Result<Page<Alert>, StoreError>;
    /// Alert counts by severity, status and day, and the riskiest hosts, of
    /// one site's alerts (every site's when `None`).
    fn alert_stats(&self, days: usize, site: Option<i64>) -> Result<AlertStats, StoreError>;
    /// The device that has this IP or MAC as its first address.
    fn device_id_of(&self, host: &str) -> Result<Option<i64>, StoreError>;
    /// Services hosts used on each other (up to `limit`), optionally only those involving `hosts`.
    fn service_links(&self, hosts: &[String], limit: usize) -> Result<Vec<ServiceLink>, StoreError>;
    /// Console settings.
    fn settings(&self) -> Result<BTreeMap<String, String>, StoreError>;
    /// Sets one setting.
    fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;
}

fn invalid_cursor() -> StoreError {
    StoreError::Invalid { what: "cursor is not one this server gave out; start again without it".into() }
}

/// Encodes a keyset position: the row id and its sort value.
fn encode_cursor(id: i64, value: &str) -> String {
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{id}.{hex}")
}

/// Decodes a keyset position.
fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let (id, hex) = cursor.split_once('.').ok_or_else(invalid_cursor)?;
    let id: i64 = id.parse().map_err(|_| invalid_cursor())?;
    if hex.len() % 2 != 0 || hex.len() > 2048 {
        return Err(invalid_cursor());
    }
    let bytes: Result<Vec<u8>, _> =
        (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or(())).collect();
    let text = String::from_utf8(bytes.map_err(|_| invalid_cursor())?).map_err(|_| invalid_cursor())?;
    Ok((id, text))
}

/// Appends ` AND site_id = $n` when the rows of one site are wanted
/// (every site's when `None`).
fn in_site(q: &mut Query, site: Option<i64>) -> &mut Query {
    if let Some(site) = site {
        q.push(" AND site_id = ").bind(site);
    }
    q
}

/// A statement over the rows of one site (or every site): `head` up to
/// its `WHERE` conditions, which the site filter ends.
fn site_query(head: &str, site: Option<i64>) -> Query {
    let mut q = Query::new(head);
    in_site(&mut q, site);
    q
}

/// Appends the filters of a device query.
fn device_filters(q: &mut Query, query: &DeviceQuery) {
    q.push(" WHERE 1 = 1");
    in_site(q, query.site);
    if let Some(t) = &query.device_type {
        q.push(" AND type = ").bind(t.as_str());
    }
    if let Some(level) = query.purdue_level {
        q.push(" AND purdue_level = ").bind(level);
    }
    if let Some(v) = &query.vendor {
        q.push(" AND vendor = ").bind(v.as_str());
    }
    if let Some(p) = &query.protocol {
        q.push(" AND protocols LIKE ").bind(format!("%,{},%", like_escape(&p.to_lowercase())));
        q.push(" ESCAPE '\\'");
    }
    if let Some(s) = &query.subnet {
        q.push(" AND subnet = ").bind(s.as_str());
    }
    if let Some(search) = &query.search {
        for word in search.split_whitespace().take(8) {
            q.push(" AND search LIKE ").bind(format!("%{}%", like_escape(&word.to_lowercase())));
            q.push(" ESCAPE '\\'");
        }
    }
}

/// One page of devices as their stored JSON.
fn device_json_page<T: Db>(db: &T, query: &DeviceQuery) -> Result<Page<String>, StoreError> {
    let sort = query.sort;
    let column = sort.column();
    let mut q = Query::new(&format!("SELECT data, id, {column} FROM devices"));
    device_filters(&mut q, query);
    let (cmp, dir) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some(cursor) = &query.cursor {
        let (id, value) = decode_cursor(cursor)?;
        if sort == DeviceSort::Id {
            q.push(&format!(" AND id {cmp} ")).bind(id);
        } else {
            let value: Value = if sort.is_integer() { Value::Int(value.parse().map_err(|_| invalid_cursor())?) } else { value.into() };
            q.push(&format!(" AND ({column}, id) {cmp} (")).bind(value).push(", ").bind(id).push(")");
        }
    }
    if sort == DeviceSort::Id {
        q.push(&format!(" ORDER BY id {dir}"));
    } else {
        q.push(&format!(" ORDER BY {column} {dir}, id {dir}"));
    }
    let limit = query.limit.clamp(1, 1000);
    q.push(" LIMIT ").bind(limit as i64 + 1);
    let rows = db.rows(&q.sql, &q.params)?;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit);
    let mut next_cursor = None;
    for r in rows.into_iter().take(limit) {
        next_cursor = Some(encode_cursor(r.int(1), &r.text(2)));
        items.push(r.text(0));
    }
    Ok(Page { items, next_cursor: if more { next_cursor } else { None } })
}

/// A stored device's JSON without its identity facts (lists show the
/// summary; one device's page shows the facts).
fn without_facts(data: &str) -> Result<String, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt { path: "devices".into(), what: format!("device: {e}") };
    let mut fields: BTreeMap<&str, &serde_json::value::RawValue> = serde_json::from_str(data).map_err(corrupt)?;
    fields.remove("facts");
    serde_json::to_string(&fields).map_err(corrupt)
}

/// Escapes LIKE wildcards so user text matches literally.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

fn user_from(r: &Row, at: usize) -> User {
    User {
        id: r.int(at),
        username: r.text(at + 1),
        role: r.text(at + 2),
        must_change_password: r.flag(at + 3),
        disabled: r.flag(at + 4),
        created_at: r.text(at + 5),
        last_login: r.opt_text(at + 6),
    }
}

const USER_COLUMNS: &str = "u.id, u.username, u.role, u.must_change_password, u.disabled, u.created_at, u.last_login";

fn token_from(r: &Row) -> ApiToken {
    ApiToken { id: r.int(0), user_id: r.int(1), name: r.text(2), created_at: r.text(3), last_used: r.opt_text(4) }
}

impl<T: Db + Send> ConsoleStore for T {
    fn device_page(&self, query: &DeviceQuery) -> Result<Page<Device>, StoreError> {
        let page = device_json_page(self, query)?;
        let items = page.items.iter().map(|data| parse_device("devices", data)).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    fn device_list(&self, query: &DeviceQuery) -> Result<Page<String>, StoreError> {
        let page = device_json_page(self, query)?;
        let items = page.items.iter().map(|data| without_facts(data)).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    fn device_count(&self, query: &DeviceQuery) -> Result<u64, StoreError> {
        let mut q = Query::new("SELECT COUNT(*) FROM devices");
        device_filters(&mut q, query);
        Ok(self.row(&q.sql, &q.params)?.map_or(0, |r| count(r.int(0))))
    }

    fn device(&self, id: i64) -> Result<Option<Device>, StoreError> {
        match self.row("SELECT data FROM devices WHERE id = $1", &[id.into()])? {
            Some(r) => Ok(Some(parse_device("devices", &r.text(0))?)),
            None => Ok(None),
        }
    }

    fn device_stats(&self, site: Option<i64>) -> Result<DeviceStats, StoreError> {
        let mut stats = DeviceStats::default();
        // The site's devices (or every site's) meeting `condition`, counted by `column`, then `tail`.
        let grouped = |column: &str, condition: &str, tail: &str| -> Result<Vec<Row>, StoreError> {
            let mut q = site_query(&format!("SELECT {column}, COUNT(*) AS n FROM devices WHERE {condition}"), site);
            q.push(&format!(" GROUP BY {column}{tail}"));
            self.rows(&q.sql, &q.params)
        };
        for r in grouped("type", "1 = 1", "")? {
            stats.total += count(r.int(1));
            stats.by_type.insert(r.text(0), count(r.int(1)));
        }
        for r in grouped("purdue_level", "1 = 1", "")? {
            let level = r.int(0);
            let key = if level < 0 { "unknown".to_string() } else { level.to_string() };
            stats.by_purdue_level.insert(key, count(r.int(1)));
        }
        let vendors = grouped("vendor", "vendor <> ''", " ORDER BY n DESC, vendor LIMIT 10")?;
        stats.top_vendors = vendors.iter().map(|r| (r.text(0), count(r.int(1)))).collect();
        Ok(stats)
    }

    fn device_summaries(&self, limit: usize) -> Result<Vec<DeviceSummary>, StoreError> {
        let rows = self.rows(
            "SELECT id, ip, mac, name, vendor, type, purdue_level, subnet FROM devices ORDER BY id LIMIT $1",
            &[(limit as i64).into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| DeviceSummary {
                id: r.int(0),
                ip: r.text(1),
                mac: r.text(2),
                name: r.text(3),
                vendor: r.text(4),
                device_type: r.text(5),
                purdue_level: Some(r.int(6)).filter(|l| *l >= 0),
                subnet: r.text(7),
            })
            .collect())
    }

    fn event_page(&self, query: &EventQuery) -> Result<Page<EventRecord>, StoreError> {
        let mut q = site_query("SELECT id, data FROM events WHERE 1 = 1", query.site);
        if let Some(t) = &query.record_type {
            q.push(" AND record_type = ").bind(t.as_str());
        }
        if let Some(p) = &query.protocol {
            q.push(" AND protocol = ").bind(p.as_str());
        }
        if !query.ips.is_empty() {
            q.push(" AND (");
            for (i, ip) in query.ips.iter().take(64).enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push("src_ip = ").bind(ip.as_str()).push(" OR dst_ip = ").bind(ip.as_str());
            }
            q.push(")");
        }
        if let Some(cursor) = &query.cursor {
            let (id, _) = decode_cursor(cursor)?;
            q.push(" AND id < ").bind(id);
        }
        let limit = query.limit.clamp(1, 1000);
        q.push(" ORDER BY id DESC LIMIT ").bind(limit as i64 + 1);
        let rows = self.rows(&q.sql, &q.params)?;
        let more = rows.len() > limit;
        let items = rows.iter().take(limit).map(|r| parse_event("events", r.int(0), &r.text(1))).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if more { items.last().map(|e| encode_cursor(e.id, "")) } else { None };
        Ok(Page { items, next_cursor })
    }

    fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows = self.rows("SELECT id, name, description FROM sites ORDER BY id", &[])?;
        Ok(rows.iter().map(|r| Site { id: r.int(0), name: r.text(1), description: r.text(2) }).collect())
    }

    fn create_site(&self, name: &str, description: &str) -> Result<Site, StoreError> {
        if self.row("SELECT id FROM sites WHERE name = $1", &[name.into()])?.is_some() {
            return Err(StoreError::Conflict { what: format!("a site named {name:?} exists already") });
        }
        let id = self.insert_id("INSERT INTO sites (name, description) VALUES ($1, $2)", &[name.into(), description.into()])?;
        Ok(Site { id, name: name.to_string(), description: description.to_string() })
    }

    fn sensors(&self) -> Result<Vec<Sensor>, StoreError> {
        let totals = self.row("SELECT COUNT(*), CAST(COALESCE(SUM(packets), 0) AS BIGINT), MAX(finished_at) FROM analyses", &[])?;
        let rows = self.rows(
            "SELECT id, site_id, name, kind, last_sync, synced_devices, synced_events, synced_alerts FROM sensors ORDER BY id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let local = r.text(3) == "local";
                let t = totals.as_ref().filter(|_| local);
                Sensor {
                    id: r.int(0),
                    site_id: r.int(1),
                    name: r.text(2),
                    kind: r.text(3),
                    analyses: t.map_or(0, |t| count(t.int(0))),
                    packets: t.map_or(0, |t| count(t.int(1))),
                    last_analysis: t.and_then(|t| t.opt_text(2)),
                    last_sync: r.opt_text(4),
                    synced_devices: count(r.int(5)),
                    synced_events: count(r.int(6)),
                    synced_alerts: count(r.int(7)),
                }
            })
            .collect())
    }

    fn site_summaries(&self) -> Result<Vec<SiteSummary>, StoreError> {
        let per_site = |sql: &str| -> Result<BTreeMap<i64, u64>, StoreError> {
            Ok(self.rows(sql, &[])?.iter().map(|r| (r.int(0), count(r.int(1)))).collect())
        };
        let devices = per_site("SELECT site_id, COUNT(*) FROM devices GROUP BY site_id")?;
        let alerts = per_site("SELECT site_id, COUNT(*) FROM alerts GROUP BY site_id")?;
        let open = per_site("SELECT site_id, COUNT(*) FROM alerts WHERE status IN ('new', 'acknowledged') GROUP BY site_id")?;
        let sensors = self.sensors()?;
        Ok(self
            .sites()?
            .into_iter()
            .map(|site| SiteSummary {
                devices: devices.get(&site.id).copied().unwrap_or(0),
                alerts: alerts.get(&site.id).copied().unwrap_or(0),
                open_alerts: open.get(&site.id).copied().unwrap_or(0),
                sensors: sensors.iter().filter(|s| s.site_id == site.id).cloned().collect(),
                site,
            })
            .collect())
    }

    fn create_sensor(&self, site_id: i64, name: &str, token_hash: &str, now: &str) -> Result<Sensor, StoreError> {
        if self.row("SELECT id FROM sites WHERE id = $1", &[site_id.into()])?.is_none() {
            return Err(StoreError::Invalid { what: format!("there is no site with id {site_id}") });
        }
        let id = self.insert_id(
            "INSERT INTO sensors (site_id, name, kind, token_hash, created_at) VALUES ($1, $2, 'remote', $3, $4)",
            &[site_id.into(), name.into(), token_hash.into(), now.into()],
        )?;
        self.sensors()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| StoreError::Corrupt { path: "sensors".into(), what: format!("sensor {id} vanished") })
    }

    fn sensor_by_token(&self, token_hash: &str) -> Result<Option<Sensor>, StoreError> {
        let Some(row) = self.row("SELECT id FROM sensors WHERE token_hash = $1", &[token_hash.into()])? else { return Ok(None) };
        Ok(self.sensors()?.into_iter().find(|s| s.id == row.int(0)))
    }

    fn analyses(&self, limit: usize) -> Result<Vec<AnalysisInfo>, StoreError> {
        let rows = self.rows(
            "SELECT id, finished_at, inputs, packets, bytes, errors FROM analyses ORDER BY id DESC LIMIT $1",
            &[(limit as i64).into()],
        )?;
        let lines = |text: String, sep: char| text.split(sep).filter(|s| !s.is_empty()).map(str::to_string).collect();
        Ok(rows
            .into_iter()
            .map(|r| AnalysisInfo {
                id: r.int(0),
                finished_at: r.text(1),
                inputs: lines(r.text(2), ','),
                packets: count(r.int(3)),
                bytes: count(r.int(4)),
                errors: lines(r.text(5), '\n'),
            })
            .collect())
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = self.rows(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"), &[])?;
        Ok(rows.iter().map(|r| user_from(r, 0)).collect())
    }

    fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self.row(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"), &[id.into()])?.map(|r| user_from(&r, 0)))
    }

    fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = self.row(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"), &[username.into()])?;
        Ok(row.map(|r| (user_from(&r, 0), r.text(7))))
    }

    fn create_user(&self, username: &str, role: &str, password_hash: &str, must_change: bool, now: &str) -> Result<User, StoreError> {
        if self.user_by_name(username)?.is_some() {
            return Err(StoreError::Conflict { what: format!("a user named {username:?} exists already") });
        }
        let id = self.insert_id(
            "INSERT INTO users (username, role, password_hash, must_change_password, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
            &[username.into(), role.into(), password_hash.into(), must_change.into(), now.into()],
        )?;
        self.user(id)?.ok_or_else(|| StoreError::Corrupt { path: "users".into(), what: format!("user {id} vanished") })
    }

    fn update_user(&self, id: i64, update: &UserUpdate) -> Result<bool, StoreError> {
        let mut q = Query::new("UPDATE users SET id = id");
        if let Some(role) = &update.role {
            q.push(", role = ").bind(role.as_str());
        }
        if let Some(hash) = &update.password_hash {
            q.push(", password_hash = ").bind(hash.as_str());
        }
        if let Some(flag) = update.must_change_password {
            q.push(", must_change_password = ").bind(flag);
        }
        if let Some(flag) = update.disabled {
            q.push(", disabled = ").bind(flag);
        }
        if let Some(at) = &update.last_login {
            q.push(", last_login = ").bind(at.as_str());
        }
        q.push(" WHERE id = ").bind(id);
        Ok(self.exec(&q.sql, &q.params)? > 0)
    }

    fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        self.exec("DELETE FROM sessions WHERE user_id = $1", &[id.into()])?;
        self.exec("DELETE FROM api_tokens WHERE user_id = $1", &[id.into()])?;
        Ok(self.exec("DELETE FROM users WHERE id = $1", &[id.into()])? > 0)
    }

    fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        // Expired sessions are useless: drop them as new ones start.
        self.exec("DELETE FROM sessions WHERE expires_at <= $1", &[s.created_at.into()])?;
        self.exec(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[s.token_hash.as_str().into(), s.user_id.into(), s.csrf_token.as_str().into(), s.created_at.into(), s.expires_at.into()],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str, now: i64) -> Result<Option<(SessionRecord, User)>, StoreError> {
        let sql = format!(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, {USER_COLUMNS} \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        Ok(self.row(&sql, &[token_hash.into(), now.into()])?.map(|r| {
            let session = SessionRecord {
                token_hash: r.text(0),
                user_id: r.int(1),
                csrf_token: r.text(2),
                created_at: r.int(3),
                expires_at: r.int(4),
            };
            (session, user_from(&r, 5))
        }))
    }

    fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM sessions WHERE token_hash = $1", &[token_hash.into()])?;
        Ok(())
    }

    fn delete_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<(), StoreError> {
        self.exec("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", &[user_id.into(), keep.unwrap_or("").into()])?;
        Ok(())
    }

    fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str, now: &str) -> Result<ApiToken, StoreError> {
        let id = self.insert_id(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
            &[user_id.into(), name.into(), token_hash.into(), now.into()],
        )?;
        Ok(ApiToken { id, user_id, name: name.to_string(), created_at: now.to_string(), last_used: None })
    }

    fn use_api_token(&self, token_hash: &str, now: &str) -> Result<Option<(ApiToken, User)>, StoreError> {
        let sql = format!(
            "SELECT t.id, t.user_id, t.name, t.created_at, t.last_used, {USER_COLUMNS} \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
        );
        let Some(r) = self.row(&sql, &[token_hash.into()])? else { return Ok(None) };
        // Recording every use would make each read a write: once a minute is enough.
        let minute = |t: &str| t.get(..16).map(str::to_string);
        if r.opt_text(4).and_then(|t| minute(&t)) != minute(now) {
            self.exec("UPDATE api_tokens SET last_used = $1 WHERE id = $2", &[now.into(), r.int(0).into()])?;
        }
        let token = ApiToken { last_used: Some(now.to_string()), ..token_from(&r) };
        Ok(Some((token, user_from(&r, 5))))
    }

    fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>, StoreError> {
        let mut q = Query::new("SELECT id, user_id, name, created_at, last_used FROM api_tokens");
        if let Some(id) = user_id {
            q.push(" WHERE user_id = ").bind(id);
        }
        q.push(" ORDER BY id");
        Ok(self.rows(&q.sql, &q.params)?.iter().map(token_from).collect())
    }

    fn delete_api_token(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self.exec("DELETE FROM api_tokens WHERE id = $1", &[id.into()])? > 0)
    }

    fn alert_page(&self, query: &AlertQuery) -> Result<Page<Alert>, StoreError> {
        let limit = query.limit.clamp(1, 1000);
        let cursor = match &query.cursor {
            Some(c) => Some(decode_cursor(c)?.0),
            None => None,
        };
        // Several statuses: one index-backed query per status, merged, so
        // the newest page never needs a sort of every matching alert.
        let mut rows = Vec::new();
        if query.statuses.len() > 1 {
            for status in query.statuses.iter().take(8) {
                rows.extend(self.rows_of_alert_query(query, Some(status), cursor, limit)?);
            }
            rows.sort_by_key(|r: &Row| std::cmp::Reverse(r.int(0)));
            rows.truncate(limit + 1);
        } else {
            rows = self.rows_of_alert_query(query, query.statuses.first(), cursor, limit)?;
        }
        let more = rows.len() > limit;
        let items = rows.iter().take(limit).map(alert_row).collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if more { items.last().map(|a| encode_cursor(a.id, "")) } else { None };
        Ok(Page { items, next_cursor })
    }

    fn alert_stats(&self, days: usize, site: Option<i64>) -> Result<AlertStats, StoreError> {
        let mut stats = AlertStats::default();
        const OPEN: &str = "status IN ('new', 'acknowledged')";
        // The site's alerts (or every site's) that meet `condition`, then `tail`.
        let alerts = |select: &str, condition: &str, tail: &str| -> Result<Vec<Row>, StoreError> {
            let mut q = site_query(&format!("SELECT {select} FROM alerts WHERE {condition}"), site);
            q.push(tail);
            self.rows(&q.sql, &q.params)
        };
        for r in alerts("severity, COUNT(*)", OPEN, " GROUP BY severity")? {
            stats.open_by_severity.insert(r.text(0), count(r.int(1)));
        }
        for r in alerts("status, COUNT(*)", "1 = 1", " GROUP BY status")? {
            stats.by_status.insert(r.text(0), count(r.int(1)));
        }
        const DAY_NS: i64 = 86_400_000_000_000;
        if let Some(newest) = alerts("MAX(last_ns)", "1 = 1", "")?.first().and_then(|r| r.opt_text(0)).and_then(|t| t.parse::<i64>().ok()) {
            let first_day = newest.div_euclid(DAY_NS) - days as i64 + 1;
            let mut q = site_query("SELECT last_ns / 86400000000000 AS day, severity, COUNT(*) FROM alerts WHERE 1 = 1", site);
            q.push(" AND last_ns >= ").bind(first_day * DAY_NS).push(" GROUP BY day, severity ORDER BY day");
            let mut by_day: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
            for r in self.rows(&q.sql, &q.params)? {
                by_day.entry(r.int(0)).or_default().insert(r.text(1), count(r.int(2)));
            }
            stats.timeline = by_day
                .into_iter()
                .map(|(day, counts)| DayCounts {
                    day: chrono::DateTime::from_timestamp(day * 86_400, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                    counts,
                })
                .collect();
        }
        let weight = "CASE severity WHEN 'critical' THEN 10 WHEN 'high' THEN 5 WHEN 'medium' THEN 2 ELSE 1 END";
        let rank = "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END";
        let mut q = Query::new("SELECT host, CAST(SUM(w) AS BIGINT) AS score, COUNT(*), MAX(r) FROM (");
        for (i, side) in ["src", "dst"].iter().enumerate() {
            q.push(if i == 0 { "" } else { " UNION ALL " });
            q.push(&format!("SELECT COALESCE({side}_ip, {side}_mac) AS host, {weight} AS w, {rank} AS r FROM alerts WHERE {OPEN}"));
            in_site(&mut q, site);
        }
        q.push(") AS sides WHERE host IS NOT NULL GROUP BY host ORDER BY score DESC, host LIMIT 10");
        for r in self.rows(&q.sql, &q.params)? {
            let host = r.text(0);
            let mut find = site_query("SELECT id, name FROM devices WHERE 1 = 1", site);
            find.push(" AND (ip = ").bind(host.as_str()).push(" OR mac = ").bind(host.as_str()).push(") ORDER BY id LIMIT 1");
            let device = self.row(&find.sql, &find.params)?;
            let worst = ["low", "medium", "high", "critical"].get((r.int(3).clamp(1, 4) - 1) as usize).copied().unwrap_or("low");
            stats.top_risks.push(HostRisk {
                device_id: device.as_ref().map(|d| d.int(0)),
                name: device.map(|d| d.text(1)).unwrap_or_default(),
                ip: host,
                score: count(r.int(1)),
                alerts: count(r.int(2)),
                worst: worst.to_string(),
            });
        }
        Ok(stats)
    }

    fn device_id_of(&self, host: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.row("SELECT id FROM devices WHERE ip = $1 OR mac = $1 ORDER BY id LIMIT 1", &[host.into()])?.map(|r| r.int(0)))
    }

    fn service_links(&self, hosts: &[String], limit: usize) -> Result<Vec<ServiceLink>, StoreError> {
        let mut q = Query::new("SELECT item, first_ns, last_ns, learned FROM baseline WHERE kind = 'service'");
        if !hosts.is_empty() {
            q.push(" AND (");
            for (i, h) in hosts.iter().take(32).enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push("item LIKE ").bind(format!("{} %", like_escape(h))).push(" ESCAPE '\\'");
                q.push(" OR item LIKE ").bind(format!("% {} %", like_escape(h))).push(" ESCAPE '\\'");
            }
            q.push(")");
        }
        q.push(" ORDER BY item LIMIT ").bind(limit as i64);
        Ok(self
            .rows(&q.sql, &q.params)?
            .iter()
            .filter_map(|r| {
                let item = r.text(0);
                let mut parts = item.splitn(3, ' ');
                let (client, server, service) = (parts.next()?, parts.next()?, parts.next()?);
                Some(ServiceLink {
                    client: client.to_string(),
                    server: server.to_string(),
                    service: service.to_string(),
                    first_ns: r.int(1),
                    last_ns: r.int(2),
                    learned: r.flag(3),
                })
            })
            .collect())
    }

    fn settings(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.rows("SELECT key, value FROM settings ORDER BY key", &[])?.iter().map(|r| (r.text(0), r.text(1))).collect())
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if self.exec("UPDATE settings SET value = $1 WHERE key = $2", &[value.into(), key.into()])? == 0 {
            self.exec("INSERT INTO settings (key, value) VALUES ($1, $2)", &[key.into(), value.into()])?;
        }
        Ok(())
    }
}

/// The alert list's query for one status (or any).
trait AlertRows {
    fn rows_of_alert_query(
        &self,
        query: &AlertQuery,
        status: Option<&String>,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError>;
}

impl<T: Db> AlertRows for T {
    fn rows_of_alert_query(
        &self,
        query: &AlertQuery,
        status: Option<&String>,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Row>, StoreError> {
        let mut q = site_query(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"), query.site);
        if let Some(s) = status {
            q.push(" AND status = ").bind(s.as_str());
        }
        for (column, value) in [("severity", &query.severity), ("engine", &query.engine), ("category", &query.category)] {
            if let Some(v) = value {
                q.push(&format!(" AND {column} = ")).bind(v.as_str());
            }
        }
        if !query.hosts.is_empty() {
            q.push(" AND (");
            for (i, h) in query.hosts.iter().take(32).enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push("src_ip = ").bind(h.as_str()).push(" OR dst_ip = ").bind(h.as_str());
                q.push(" OR src_mac = ").bind(h.as_str()).push(" OR dst_mac = ").bind(h.as_str());
            }
            q.push(")");
        }
        if let Some(search) = &query.search {
            for word in search.split_whitespace().take(8) {
                let pattern = format!("%{}%", like_escape(&word.to_lowercase()));
                q.push(" AND LOWER(title || ' ' || category || ' ' || COALESCE(src_ip, '') || ' ' || COALESCE(dst_ip, '') || ' ' || COALESCE(protocol, '')) LIKE ")
                    .bind(pattern)
                    .push(" ESCAPE '\\'");
            }
        }
        if let Some(id) = cursor {
            q.push(" AND id < ").bind(id);
        }
        q.push(" ORDER BY id DESC LIMIT ").bind(limit as i64 + 1);
        self.rows(&q.sql, &q.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = encode_cursor(42, "Siemens AG, 10.0.0.1");
        assert_eq!(decode_cursor(&c).unwrap(), (42, "Siemens AG, 10.0.0.1".to_string()));
        for bad in ["", "x", "1.zz", "1.abc", "q.00", "1.ff"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }
}
