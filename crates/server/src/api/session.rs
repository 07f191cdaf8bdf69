//! Logging in and out, and changing one's own password.

use crate::auth::{check_new_password, hash_password, new_session, rfc3339_now, session_cookie, verify_password, Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::ClientAddr;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use palisade_store::{User, UserUpdate};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Sessions last this long unless the `session_hours` setting says otherwise.
const DEFAULT_SESSION_HOURS: i64 = 12;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me)).routes(routes!(change_password))
}

/// Login form.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// User name.
    username: String,
    /// Password.
    password: String,
}

fn session_body(user: &User, csrf: Option<&str>) -> serde_json::Value {
    serde_json::json!({ "user": user, "csrf_token": csrf, "must_change_password": user.must_change_password })
}

/// Logs in: sets the session cookie and returns the user and the CSRF
/// token. Five failures for a user name or client address lock it out
/// for five minutes (429).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = Object), (status = 401, description = "Wrong name or password"),
              (status = 429, description = "Too many failures")))]
async fn login(State(state): State<AppState>, ClientAddr(client): ClientAddr, ApiJson(form): ApiJson<LoginRequest>) -> ApiResult<Response> {
    let username = form.username.trim().to_string();
    let keys = vec![format!("user:{}", username.to_lowercase()), format!("addr:{client}")];
    if let Err(wait) = state.limiter.check(&keys) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, format!("too many failed logins; try again in {wait} s")));
    }
    let lookup = username.clone();
    let found = state.pool.run(move |db| Ok(db.user_by_name(&lookup)?)).await?;
    let password = form.password;
    // Verify on the blocking pool: argon2 is deliberately slow.
    let user = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) if !user.disabled && verify_password(&password, &hash) => Some(user),
        _ => None,
    })
    .await
    .map_err(|e| ApiError::internal("password check", e))?;
    let Some(user) = user else {
        state.limiter.failed(&keys);
        return Err(ApiError::unauthorized("wrong user name or password"));
    };
    if let Some(user_key) = keys.first() {
        state.limiter.succeeded(user_key);
    }
    let user_id = user.id;
    let (token, record, hours) = state
        .pool
        .run(move |db| {
            let hours = db.settings()?.get("session_hours").and_then(|h| h.parse().ok()).unwrap_or(DEFAULT_SESSION_HOURS);
            let (token, record) = new_session(user_id, hours * 3600);
            db.create_session(&record)?;
            db.update_user(user_id, &UserUpdate { last_login: Some(rfc3339_now()), ..Default::default() })?;
            Ok((token, record, hours))
        })
        .await?;
    let cookie = session_cookie(&token, hours * 3600, state.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(session_body(&user, Some(&record.csrf_token)))).into_response())
}

/// Logs out: ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session",
    security(("session" = ["any"]), ("token" = ["any"])), responses((status = 204, description = "Logged out")))]
async fn logout(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Response> {
    if let Some(hash) = caller.session {
        state.pool.run(move |db| Ok(db.delete_session(&hash)?)).await?;
        state.auth_cache.clear();
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// Who is logged in, with the CSRF token of the session.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "session",
    security(("session" = ["any"]), ("token" = ["any"])), responses((status = 200, description = "The caller", body = Object)))]
async fn me(Extension(caller): Extension<Caller>) -> Json<serde_json::Value> {
    Json(session_body(&caller.user, caller.csrf.as_deref()))
}

/// Password change form.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The password now.
    current_password: String,
    /// The new one (10 characters at least).
    new_password: String,
}

/// Changes one's own password (required after the first login); other
/// sessions of the user end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "session", request_body = PasswordChange,
    security(("session" = ["any"]), ("token" = ["any"])),
    responses((status = 200, description = "Changed", body = Object), (status = 400, description = "Current password wrong or new one too weak")))]
async fn change_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(form): ApiJson<PasswordChange>,
) -> ApiResult<Json<serde_json::Value>> {
    check_new_password(&form.new_password, &caller.user.username)?;
    if form.new_password == form.current_password {
        return Err(ApiError::bad_request("the new password must differ from the current one"));
    }
    let username = caller.user.username.clone();
    let found = state.pool.run(move |db| Ok(db.user_by_name(&username)?)).await?;
    let (current, new) = (form.current_password, form.new_password);
    let hash = tokio::task::spawn_blocking(move || match found {
        Some((_, stored)) if verify_password(&current, &stored) => hash_password(&new).map(Some),
        _ => Ok(None),
    })
    .await
    .map_err(|e| ApiError::internal("password hashing", e))??;
    let Some(hash) = hash else { return Err(ApiError::bad_request("the current password is wrong")) };
    let (id, keep) = (caller.user.id, caller.session.clone());
    let user = state
        .pool
        .run(move |db| {
            db.update_user(id, &UserUpdate { password_hash: Some(hash), must_change_password: Some(false), ..Default::default() })?;
            db.delete_sessions_of(id, keep.as_deref())?;
            db.user(id)?.ok_or_else(|| ApiError::not_found("user removed meanwhile"))
        })
        .await?;
    state.auth_cache.clear();
    Ok(Json(session_body(&user, caller.csrf.as_deref())))
}
