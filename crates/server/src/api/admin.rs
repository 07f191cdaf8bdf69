//! Users, API tokens, sites, sensors, analyses and settings.

use crate::auth::{
    check_new_password, hash_password, random_secret, rfc3339_now, token_hash, Caller, Role, SensorCaller, SENSOR_TOKEN_PREFIX,
    TOKEN_PREFIX,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use palisade_store::{SyncBundle, UserUpdate};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Settings that can be changed, with what they accept.
const SETTINGS: &[(&str, &str)] =
    &[("site_name", "the name shown in the console's header (1-80 characters)"), ("session_hours", "how long a login lasts, 1-720 hours")];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user, delete_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(delete_token))
        .routes(routes!(list_sites, create_site))
        .routes(routes!(list_sensors, create_sensor))
        .routes(routes!(sync))
        .routes(routes!(import_site))
        .routes(routes!(list_analyses))
        .routes(routes!(get_settings, put_settings))
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    security(("session" = ["admin"]), ("token" = ["admin"])), responses((status = 200, description = "Users", body = Object)))]
async fn list_users(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.pool.run(|db| Ok(Json(serde_json::json!({ "items": db.users()? })))).await
}

/// A new user.
#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    /// Login name: 1-64 letters, digits, `.`, `_`, `-` or `@`.
    username: String,
    /// `admin`, `security-analyst` or `read-only`.
    role: String,
    /// First password (10 characters at least); the user must change it at first login.
    password: String,
}

fn role(name: &str) -> ApiResult<Role> {
    Role::from_name(name).ok_or_else(|| ApiError::bad_request(format!("role must be admin, security-analyst or read-only, not {name:?}")))
}

/// Adds a user, who must change the password at first login.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 201, description = "Created", body = Object), (status = 400, description = "Bad name, role or password"),
              (status = 409, description = "Name taken")))]
async fn create_user(State(state): State<AppState>, ApiJson(form): ApiJson<NewUser>) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let username = form.username.trim().to_string();
    if username.is_empty() || username.len() > 64 || !username.chars().all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c)) {
        return Err(ApiError::bad_request("username must be 1-64 letters, digits, '.', '_', '-' or '@'"));
    }
    let role = role(&form.role)?;
    check_new_password(&form.password, &username)?;
    let password = form.password;
    let hash =
        tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| ApiError::internal("password hashing", e))??;
    let user = state.pool.run(move |db| Ok(db.create_user(&username, role.as_str(), &hash, true, &rfc3339_now())?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!(user))))
}

/// Changes to a user.
#[derive(Deserialize, ToSchema)]
pub struct UserChange {
    /// New role.
    role: Option<String>,
    /// Disable or enable the account.
    disabled: Option<bool>,
    /// A new password, which the user must change at next login.
    password: Option<String>,
}

/// Changes a user's role, enables or disables it, or resets its password.
/// An admin cannot demote or disable themself.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", request_body = UserChange,
    params(("id" = i64, Path, description = "User id")), security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 200, description = "Changed", body = Object), (status = 400, description = "Bad change"), (status = 404, description = "No such user")))]
async fn update_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<serde_json::Value>> {
    let new_role = change.role.as_deref().map(role).transpose()?;
    if id == caller.user.id && (new_role.is_some_and(|r| r != Role::Admin) || change.disabled == Some(true)) {
        return Err(ApiError::bad_request("you cannot demote or disable yourself; ask another admin"));
    }
    let hash = match change.password {
        Some(p) => {
            check_new_password(&p, "")?;
            Some(tokio::task::spawn_blocking(move || hash_password(&p)).await.map_err(|e| ApiError::internal("password hashing", e))??)
        }
        None => None,
    };
    let update = UserUpdate {
        role: new_role.map(|r| r.as_str().to_string()),
        must_change_password: hash.as_ref().map(|_| true),
        password_hash: hash,
        disabled: change.disabled,
        last_login: None,
    };
    let result = state
        .pool
        .run(move |db| {
            if !db.update_user(id, &update)? {
                return Err(ApiError::not_found(format!("no user with id {id}")));
            }
            if update.password_hash.is_some() || update.disabled == Some(true) || update.role.is_some() {
                db.delete_sessions_of(id, None)?;
            }
            Ok(Json(serde_json::json!(db.user(id)?)))
        })
        .await;
    // Cached callers may carry the old state of the user or token.
    state.auth_cache.clear();
    result
}

/// Removes a user with their sessions and tokens. An admin cannot remove themself.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "admin", params(("id" = i64, Path, description = "User id")),
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 204, description = "Removed"), (status = 400, description = "Yourself"), (status = 404, description = "No such user")))]
async fn delete_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    if id == caller.user.id {
        return Err(ApiError::bad_request("you cannot remove yourself; ask another admin"));
    }
    let result = state
        .pool
        .run(
            move |db| {
                if db.delete_user(id)? {
                    Ok(StatusCode::NO_CONTENT)
                } else {
                    Err(ApiError::not_found(format!("no user with id {id}")))
                }
            },
        )
        .await;
    // Cached callers may carry the old state of the user or token.
    state.auth_cache.clear();
    result
}

/// The caller's API tokens (an admin sees everyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    security(("session" = ["read-only"]), ("token" = ["read-only"])), responses((status = 200, description = "Tokens (never the secrets)", body = Object)))]
async fn list_tokens(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Json<serde_json::Value>> {
    let only = if caller.role() == Role::Admin { None } else { Some(caller.user.id) };
    state.pool.run(move |db| Ok(Json(serde_json::json!({ "items": db.api_tokens(only)? })))).await
}

/// A new API token.
#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for (1-80 characters).
    name: String,
}

/// Creates an API token acting with the caller's role. The secret is in
/// this answer only; send it as `Authorization: Bearer <token>`.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 201, description = "`{token, secret}`", body = Object), (status = 400, description = "Bad name")))]
async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(form): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::bad_request("name must be 1-80 characters"));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let hash = token_hash(&secret);
    let user_id = caller.user.id;
    let token = state.pool.run(move |db| Ok(db.create_api_token(user_id, &name, &hash, &rfc3339_now())?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "token": token, "secret": secret }))))
}

/// Revokes an API token (one's own; an admin can revoke any).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = i64, Path, description = "Token id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such token of yours")))]
async fn delete_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let only = if caller.role() == Role::Admin { None } else { Some(caller.user.id) };
    let result = state
        .pool
        .run(move |db| {
            let mine = db.api_tokens(only)?.iter().any(|t| t.id == id);
            if mine && db.delete_api_token(id)? {
                Ok(StatusCode::NO_CONTENT)
            } else {
                Err(ApiError::not_found(format!("no token with id {id} of yours")))
            }
        })
        .await;
    // Cached callers may carry the old state of the user or token.
    state.auth_cache.clear();
    result
}

/// Sites, each with its device and alert counts and its sensors (with when
/// each was last heard from).
#[utoipa::path(get, path = "/api/v1/sites", tag = "admin",
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [{id, name, description, devices, open_alerts, alerts, sensors}]}`", body = Object)))]
async fn list_sites(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.pool.run(|db| Ok(Json(serde_json::json!({ "items": db.site_summaries()? })))).await
}

/// A new site.
#[derive(Deserialize, ToSchema)]
pub struct NewSite {
    /// Name (1-80 characters, unique).
    name: String,
    /// Free text.
    #[serde(default)]
    description: String,
}

/// Adds a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "admin", request_body = NewSite,
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 201, description = "Created", body = Object), (status = 409, description = "Name taken")))]
async fn create_site(State(state): State<AppState>, ApiJson(form): ApiJson<NewSite>) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 || form.description.chars().count() > 500 {
        return Err(ApiError::bad_request("name must be 1-80 characters and description at most 500"));
    }
    let site = state.pool.run(move |db| Ok(db.create_site(&name, &form.description)?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!(site))))
}

/// Sensors, with how much they analysed.
#[utoipa::path(get, path = "/api/v1/sensors", tag = "admin",
    security(("session" = ["read-only"]), ("token" = ["read-only"])), responses((status = 200, description = "Sensors", body = Object)))]
async fn list_sensors(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.pool.run(|db| Ok(Json(serde_json::json!({ "items": db.sensors()? })))).await
}

/// A new remote sensor.
#[derive(Deserialize, ToSchema)]
pub struct NewSensor {
    /// The site (id) it watches.
    site_id: i64,
    /// Name (1-80 characters).
    name: String,
}

/// Adds a remote sensor to a site. The answer carries its token, once:
/// the sensor sends its results with it (`palisade sync --token`), and it
/// can only send into its own site.
#[utoipa::path(post, path = "/api/v1/sensors", tag = "admin", request_body = NewSensor,
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 201, description = "`{sensor, token}`", body = Object), (status = 400, description = "Bad name or no such site")))]
async fn create_sensor(
    State(state): State<AppState>,
    ApiJson(form): ApiJson<NewSensor>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::bad_request("name must be 1-80 characters"));
    }
    let token = format!("{SENSOR_TOKEN_PREFIX}{}", random_secret());
    let hash = token_hash(&token);
    let site_id = form.site_id;
    let sensor = state.pool.run(move |db| Ok(db.create_sensor(site_id, &name, &hash, &rfc3339_now())?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "sensor": sensor, "token": token }))))
}

/// Reads a sync bundle: JSON, gzip-compressed or not, at most `limit`
/// bytes on the wire and once decompressed.
async fn read_bundle(body: Body, limit: u64) -> ApiResult<SyncBundle> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("bundles larger than {limit} bytes are not accepted here")))?;
    tokio::task::spawn_blocking(move || {
        let mut json = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let decoder = flate2::read::GzDecoder::new(&bytes[..]);
            decoder
                .take(limit as u64 + 1)
                .read_to_end(&mut json)
                .map_err(|e| ApiError::bad_request(format!("the bundle is not valid gzip: {e}")))?;
            if json.len() > limit {
                return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the bundle is too large once decompressed"));
            }
        } else {
            json = bytes.to_vec();
        }
        if json.is_empty() {
            return Err(ApiError::bad_request("the bundle is empty; send what `palisade sync` writes"));
        }
        serde_json::from_slice(&json).map_err(|e| ApiError::bad_request(format!("this is not a sync bundle: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal("reading the bundle", e))?
}

/// Stores a bundle into a site: all of it or, on any error, nothing.
async fn store_bundle(state: &AppState, site: i64, sensor: Option<i64>, bundle: SyncBundle) -> ApiResult<Json<serde_json::Value>> {
    state
        .pool
        .run(move |db| {
            let stored = db.import_bundle(site, sensor, &bundle, &rfc3339_now())?;
            Ok(Json(serde_json::json!({ "site_id": site, "stored": stored, "next": bundle.next })))
        })
        .await
}

/// A remote sensor sends what it analysed since its last successful sync
/// (`palisade sync`): a bundle of devices, events and alerts, JSON,
/// gzip-compressed or not. It is stored into the sensor's own site, all of
/// it or nothing; sending the same bundle twice stores it once.
#[utoipa::path(post, path = "/api/v1/sync", tag = "admin",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The bundle (gzip JSON)"),
    security(("token" = ["sensor"])),
    responses((status = 200, description = "`{site_id, stored: {devices, removed_devices, events, alerts}, next}`", body = Object),
              (status = 400, description = "Not a bundle, or one that cannot be stored"), (status = 401, description = "No or bad sensor token"),
              (status = 413, description = "Too large")))]
async fn sync(
    State(state): State<AppState>,
    Extension(SensorCaller(sensor)): Extension<SensorCaller>,
    body: Body,
) -> ApiResult<Json<serde_json::Value>> {
    let bundle = read_bundle(body, state.max_upload_bytes).await?;
    store_bundle(&state, sensor.site_id, Some(sensor.id), bundle).await
}

/// Imports a bundle that `palisade sync --export` wrote at a site without
/// a link to the console: stored into this site, all of it or nothing.
#[utoipa::path(post, path = "/api/v1/sites/{id}/import", tag = "admin", params(("id" = i64, Path, description = "Site id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The bundle file"),
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 200, description = "`{site_id, stored, next}`", body = Object),
              (status = 400, description = "Not a bundle, one that cannot be stored, or no such site"), (status = 413, description = "Too large")))]
async fn import_site(State(state): State<AppState>, ApiPath(id): ApiPath<i64>, body: Body) -> ApiResult<Json<serde_json::Value>> {
    let bundle = read_bundle(body, state.max_upload_bytes).await?;
    store_bundle(&state, id, None, bundle).await
}

/// The latest analyses (capture files and uploads), newest first.
#[utoipa::path(get, path = "/api/v1/analyses", tag = "admin",
    security(("session" = ["read-only"]), ("token" = ["read-only"])), responses((status = 200, description = "Analyses", body = Object)))]
async fn list_analyses(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state.pool.run(|db| Ok(Json(serde_json::json!({ "items": db.analyses(100)? })))).await
}

fn settings_body(values: BTreeMap<String, String>) -> Json<serde_json::Value> {
    let known: Vec<serde_json::Value> =
        SETTINGS.iter().map(|(k, what)| serde_json::json!({ "key": k, "description": what, "value": values.get(*k) })).collect();
    Json(serde_json::json!({ "items": known, "database": null }))
}

/// Console settings, each with what it accepts.
#[utoipa::path(get, path = "/api/v1/settings", tag = "admin",
    security(("session" = ["admin"]), ("token" = ["admin"])), responses((status = 200, description = "Settings", body = Object)))]
async fn get_settings(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let location = state.pool.location().display();
    let mut body = state.pool.run(|db| Ok(settings_body(db.settings()?))).await?;
    body.0["database"] = serde_json::json!(location);
    Ok(body)
}

fn check_setting(key: &str, value: &str) -> ApiResult<()> {
    let ok = match key {
        "site_name" => (1..=80).contains(&value.chars().count()),
        "session_hours" => value.parse::<i64>().is_ok_and(|h| (1..=720).contains(&h)),
        _ => {
            let known: Vec<&str> = SETTINGS.iter().map(|(k, _)| *k).collect();
            return Err(ApiError::bad_request(format!("unknown setting {key:?}; known: {}", known.join(", "))));
        }
    };
    if ok {
        Ok(())
    } else {
        let what = SETTINGS.iter().find(|(k, _)| *k == key).map_or("", |(_, w)| *w);
        Err(ApiError::bad_request(format!("{key} must be {what}")))
    }
}

/// Changes settings: a JSON object of key to value.
#[utoipa::path(put, path = "/api/v1/settings", tag = "admin", request_body = Object,
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 200, description = "Settings", body = Object), (status = 400, description = "Unknown key or bad value")))]
async fn put_settings(
    State(state): State<AppState>,
    ApiJson(values): ApiJson<BTreeMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    for (key, value) in &values {
        check_setting(key, value)?;
    }
    state
        .pool
        .run(move |db| {
            for (key, value) in &values {
                db.set_setting(key, value)?;
            }
            Ok(settings_body(db.settings()?))
        })
        .await
}
