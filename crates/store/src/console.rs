//! What the console reads and keeps: paged device and event lists, counts
//! for the dashboard, sites and sensors, users, sessions, API tokens and
//! settings. Written once over [`Db`], so SQLite and PostgreSQL answer the
//! same.

use crate::db::{Db, Query, Row, Value};
use crate::rows::{parse_device, parse_event};
use crate::StoreError;
use palisade_engine::{Device, EventRecord};
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// How many devices match the query's filters.
    fn device_count(&self, query: &DeviceQuery) -> Result<u64, StoreError>;
    /// One device.
    fn device(&self, id: i64) -> Result<Option<Device>, StoreError>;
    /// Counts by type, level and vendor.
    fn device_stats(&self) -> Result<DeviceStats, StoreError>;
    /// Up to `limit` devices as drawn on the map, by id.
    fn device_summaries(&self, limit: usize) -> Result<Vec<DeviceSummary>, StoreError>;
    /// One page of operations and violations, newest first.
    fn event_page(&self, query: &EventQuery) -> Result<Page<EventRecord>, StoreError>;
    /// Sites.
    fn sites(&self) -> Result<Vec<Site>, StoreError>;
    /// Adds a site.
    fn create_site(&self, name: &str, description: &str) -> Result<Site, StoreError>;
    /// Sensors, with what they analysed.
    fn sensors(&self) -> Result<Vec<Sensor>, StoreError>;
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
    /// Records a session.
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

/// Appends the filters of a device query.
fn device_filters(q: &mut Query, query: &DeviceQuery) {
    q.push(" WHERE 1 = 1");
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
        let rows = self.rows(&q.sql, &q.params)?;
        let more = rows.len() > limit;
        let mut items = Vec::with_capacity(limit);
        let mut next_cursor = None;
        for r in rows.iter().take(limit) {
            items.push(parse_device("devices", &r.text(0))?);
            next_cursor = Some(encode_cursor(r.int(1), &r.text(2)));
        }
        Ok(Page { items, next_cursor: if more { next_cursor } else { None } })
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

    fn device_stats(&self) -> Result<DeviceStats, StoreError> {
        let mut stats = DeviceStats::default();
        for r in self.rows("SELECT type, COUNT(*) FROM devices GROUP BY type", &[])? {
            stats.total += count(r.int(1));
            stats.by_type.insert(r.text(0), count(r.int(1)));
        }
        for r in self.rows("SELECT purdue_level, COUNT(*) FROM devices GROUP BY purdue_level", &[])? {
            let level = r.int(0);
            let key = if level < 0 { "unknown".to_string() } else { level.to_string() };
            stats.by_purdue_level.insert(key, count(r.int(1)));
        }
        let vendors = "SELECT vendor, COUNT(*) AS n FROM devices WHERE vendor <> '' GROUP BY vendor ORDER BY n DESC, vendor LIMIT 10";
        stats.top_vendors = self.rows(vendors, &[])?.iter().map(|r| (r.text(0), count(r.int(1)))).collect();
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
        let mut q = Query::new("SELECT id, data FROM events WHERE 1 = 1");
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
        let rows = self.rows("SELECT id, site_id, name, kind FROM sensors ORDER BY id", &[])?;
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
                }
            })
            .collect())
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
        self.exec("UPDATE api_tokens SET last_used = $1 WHERE id = $2", &[now.into(), r.int(0).into()])?;
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
