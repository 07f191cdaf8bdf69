//! Who is calling and what they may do: argon2 password hashes, session
//! cookies with a CSRF token, API tokens, roles, and the login rate limit.
//!
//! The role each endpoint needs is written once, in its OpenAPI security
//! requirement; [`Requirements`] reads it back from the generated document
//! and [`authorize`] checks it on every request, so the document and the
//! checks cannot drift apart.

use crate::error::ApiError;
use crate::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use palisade_store::{SessionRecord, User};
use rand::{distributions::Alphanumeric, Rng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "palisade_session";
/// Header that state-changing requests authenticated by cookie must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of API tokens, so they are recognisable in scripts and logs.
pub const TOKEN_PREFIX: &str = "plt_";
/// Prefix of remote sensor tokens (they can only send their site's results).
pub const SENSOR_TOKEN_PREFIX: &str = "pls_";
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// What a user may do. Each role can do everything the ones before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Views everything.
    ReadOnly,
    /// Also works alerts and uploads captures.
    SecurityAnalyst,
    /// Also manages users, sites and settings.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::ReadOnly, Role::SecurityAnalyst, Role::Admin];

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReadOnly => "read-only",
            Role::SecurityAnalyst => "security-analyst",
            Role::Admin => "admin",
        }
    }

    /// The role called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What an endpoint needs, as written in its OpenAPI security requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Anyone, logged in or not.
    Public,
    /// Any logged-in user, even one who must still change the password.
    AnyUser,
    /// A logged-in user with at least this role and a password of their own.
    Role(Role),
    /// A remote sensor, by its token (scope `sensor`).
    Sensor,
}

impl Need {
    /// Reads a scope name (`any`, or a role name).
    fn from_scope(scope: &str) -> Option<Self> {
        if scope == "any" {
            Some(Need::AnyUser)
        } else if scope == "sensor" {
            Some(Need::Sensor)
        } else {
            Role::from_name(scope).map(Need::Role)
        }
    }
}

/// The need of every documented route, by method and path template.
#[derive(Clone, Debug, Default)]
pub struct Requirements(HashMap<(String, String), Need>);

impl Requirements {
    /// Reads the needs from the OpenAPI document: an operation without
    /// `security` is public; otherwise the first scope of its first
    /// requirement names the need.
    pub fn from_openapi(doc: &serde_json::Value) -> Self {
        let mut map = HashMap::new();
        let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else { return Requirements(map) };
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                let scope = op
                    .get("security")
                    .and_then(|s| s.as_array())
                    .and_then(|s| s.first())
                    .and_then(|r| r.as_object())
                    .and_then(|r| r.values().next())
                    .and_then(|scopes| scopes.as_array())
                    .and_then(|scopes| scopes.first())
                    .and_then(|s| s.as_str());
                let need = match scope {
                    None => Need::Public,
                    // An unknown scope is a programming error: fail closed.
                    Some(s) => Need::from_scope(s).unwrap_or(Need::Role(Role::Admin)),
                };
                map.insert((method.to_uppercase(), path.clone()), need);
            }
        }
        Requirements(map)
    }

    /// The need of a route, `None` if it is not an API route.
    pub fn get(&self, method: &Method, path: &str) -> Option<Need> {
        self.0.get(&(method.as_str().to_string(), path.to_string())).copied()
    }

    /// True when some method of this path is documented.
    pub fn has_path(&self, path: &str) -> bool {
        self.0.keys().any(|(_, p)| p == path)
    }
}

/// The caller of a request, once authenticated.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// The session token hash, when authenticated by cookie.
    pub session: Option<String>,
    /// The session's CSRF token, when authenticated by cookie.
    pub csrf: Option<String>,
}

impl Caller {
    /// The user's role (unknown roles count as read-only).
    pub fn role(&self) -> Role {
        Role::from_name(&self.user.role).unwrap_or(Role::ReadOnly)
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal("password hashing", e))
}

/// True when `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A random secret: 32 bytes, hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A random password people can type: 16 letters and digits.
pub fn random_password() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, hex: what is stored instead of the token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Checks a new password; `Err` says what is wrong with it.
pub fn check_new_password(password: &str, username: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!("the password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > 1024 {
        return Err(ApiError::bad_request("the password is too long (1024 bytes at most)"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ApiError::bad_request("the password must not be the user name"));
    }
    Ok(())
}

/// The `Set-Cookie` value of a session.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// Finds a cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// RFC 3339 now.
pub fn rfc3339_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Starts a session for a user: the token for the cookie, and the record.
pub fn new_session(user_id: i64, lifetime_secs: i64) -> (String, SessionRecord) {
    let token = random_secret();
    let now = unix_now();
    let record = SessionRecord {
        token_hash: token_hash(&token),
        user_id,
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now + lifetime_secs,
    };
    (token, record)
}

/// Counts failed logins per key (client address, user name) and refuses
/// more than [`LoginLimiter::MAX_FAILURES`] in [`LoginLimiter::WINDOW`].
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    /// Failures allowed per key in one window.
    pub const MAX_FAILURES: u32 = 5;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(300);

    /// `Err(seconds to wait)` when a key is locked out.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some((n, since)) = map.get(key) {
                let elapsed = since.elapsed();
                if *n >= Self::MAX_FAILURES && elapsed < Self::WINDOW {
                    return Err((Self::WINDOW - elapsed).as_secs().max(1));
                }
            }
        }
        Ok(())
    }

    /// Records a failure for each key.
    pub fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        for key in keys {
            let entry = map.entry(key.clone()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= Self::WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// Forgets the failures of a user after a successful login.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Callers recently authenticated, so that a burst of requests does not
/// look the same token or session up each time. Entries live a few seconds,
/// and every change to users, sessions or tokens empties the cache.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Caller, Instant)>>,
}

impl AuthCache {
    /// How long an entry is trusted.
    const TTL: Duration = Duration::from_secs(10);
    /// Entries kept at most.
    const MAX: usize = 10_000;

    fn get(&self, key: &str) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(caller, _)| caller.clone())
    }

    fn put(&self, key: String, caller: Caller) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(key, (caller, Instant::now()));
    }

    /// Forgets every caller (after a change to users, sessions or tokens).
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Authenticates the caller from a bearer token or the session cookie.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        let hash = token_hash(token.trim());
        let key = format!("token:{hash}");
        if let Some(caller) = state.auth_cache.get(&key) {
            return Ok(Some(caller));
        }
        let found = state.pool.run(move |db| Ok(db.use_api_token(&hash, &rfc3339_now())?)).await?;
        return match found {
            Some((_, user)) => {
                let caller = Caller { user, session: None, csrf: None };
                state.auth_cache.put(key, caller.clone());
                Ok(Some(caller))
            }
            None => Err(ApiError::unauthorized("the API token is not valid (revoked, or its user was removed)")),
        };
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let hash = token_hash(token);
    let key = format!("session:{hash}");
    if let Some(caller) = state.auth_cache.get(&key) {
        return Ok(Some(caller));
    }
    let lookup = hash.clone();
    let found = state.pool.run(move |db| Ok(db.session(&lookup, unix_now())?)).await?;
    let caller = found.map(|(session, user)| Caller { user, session: Some(hash), csrf: Some(session.csrf_token) });
    if let Some(c) = &caller {
        state.auth_cache.put(key, c.clone());
    }
    Ok(caller)
}

/// A remote sensor, authenticated by its token.
#[derive(Clone, Debug)]
pub struct SensorCaller(pub palisade_store::Sensor);

/// Authenticates a remote sensor from its bearer token.
async fn authenticate_sensor(state: &AppState, headers: &HeaderMap) -> Result<SensorCaller, ApiError> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = bearer.map(str::trim).filter(|t| t.starts_with(SENSOR_TOKEN_PREFIX)) else {
        return Err(ApiError::unauthorized(format!(
            "send the sensor's token ({SENSOR_TOKEN_PREFIX}..., given once when an admin created the sensor) as Authorization: Bearer"
        )));
    };
    let hash = token_hash(token);
    match state.pool.run(move |db| Ok(db.sensor_by_token(&hash)?)).await? {
        Some(sensor) => Ok(SensorCaller(sensor)),
        None => Err(ApiError::unauthorized("the sensor token is not valid (the sensor was removed, or the token mistyped)")),
    }
}

/// Checks the caller against what the route needs, on every request.
pub async fn authorize(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let path = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let need = match &path {
        Some(p) => state.requirements.get(request.method(), p),
        None => None,
    };
    let need = match need {
        Some(n) => n,
        // Not an API route (UI assets, fallbacks): nothing to check here.
        None if !path.as_deref().unwrap_or("").starts_with("/api/") => return Ok(next.run(request).await),
        // A documented path with another method: the router answers 405.
        None if state.requirements.has_path(path.as_deref().unwrap_or("")) => return Ok(next.run(request).await),
        // An API route that is not documented: refuse rather than guess.
        None => return Err(ApiError::forbidden("this endpoint is not documented, so nobody may use it")),
    };
    if need == Need::Public {
        return Ok(next.run(request).await);
    }
    if need == Need::Sensor {
        let sensor = authenticate_sensor(&state, request.headers()).await?;
        request.extensions_mut().insert(sensor);
        return Ok(next.run(request).await);
    }
    let Some(caller) = authenticate(&state, request.headers()).await? else {
        return Err(ApiError::unauthorized("log in first (POST /api/v1/auth/login) or send an API token as Authorization: Bearer"));
    };
    if caller.user.disabled {
        return Err(ApiError::unauthorized("this account is disabled"));
    }
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (Some(expected), true) = (&caller.csrf, unsafe_method) {
        let sent = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if sent.is_empty() || sent != expected.as_str() {
            return Err(ApiError::forbidden("missing or wrong X-CSRF-Token header (it is returned by login and /api/v1/auth/me)"));
        }
    }
    if let Need::Role(role) = need {
        if caller.user.must_change_password {
            return Err(ApiError::forbidden("change your password first (POST /api/v1/auth/password)"));
        }
        if caller.role() < role {
            return Err(ApiError::forbidden(format!("this needs the {} role; you are {}", role.as_str(), caller.user.role)));
        }
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_limiter_locks_out_after_repeated_failures() {
        let limiter = LoginLimiter::default();
        let keys = vec!["user:a".to_string()];
        for _ in 0..LoginLimiter::MAX_FAILURES {
            assert!(limiter.check(&keys).is_ok());
            limiter.failed(&keys);
        }
        assert!(limiter.check(&keys).is_err());
        assert!(limiter.check(&["user:b".to_string()]).is_ok());
        limiter.succeeded("user:a");
        assert!(limiter.check(&keys).is_ok());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; palisade_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "c"), None);
        assert!(session_cookie("t", 60, true).contains("HttpOnly; SameSite=Strict; Max-Age=60; Secure"));
    }
}
