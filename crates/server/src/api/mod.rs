//! The REST API under `/api/v1`. Every handler carries its OpenAPI entry;
//! the `security` scope of each entry is the role it needs (`any` for any
//! logged-in user, no `security` for public endpoints).

mod admin;
mod alerts;
mod captures;
mod inventory;
mod session;
mod vulns;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Palisade console API",
        description = "Inventory, events, alerts, captures, users and settings of a Palisade console. \
                       Log in with POST /api/v1/auth/login (a session cookie; state-changing requests then need the \
                       X-CSRF-Token header), or send an API token as `Authorization: Bearer plt_...`. \
                       The scope of each operation's security requirement is the least role it needs: \
                       read-only < security-analyst < admin; `any` is any logged-in user. Errors are JSON: \
                       {\"error\": \"what was wrong\", \"status\": 400}."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "session", description = "Logging in and out, own password"),
        (name = "inventory", description = "Devices, connections, events, the map, exports"),
        (name = "alerts", description = "Alerts and their workflow"),
        (name = "captures", description = "Capture upload and analysis"),
        (name = "admin", description = "Users, API tokens, sites, sensors, settings"),
        (name = "vulnerabilities", description = "Advisory import, vulnerability matches, recommendations, risk, reports"),
        (name = "meta", description = "Health and this document")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))));
        components.add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Every API route with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .merge(session::routes())
        .merge(inventory::routes())
        .merge(alerts::routes())
        .merge(captures::routes())
        .merge(admin::routes())
        .merge(vulns::routes())
}

/// Whether the console is up.
#[utoipa::path(get, path = "/api/v1/health", tag = "meta", responses((status = 200, description = "Up", body = Object)))]
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 document", body = Object)))]
async fn openapi_json(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.openapi.as_ref().clone())
}

/// 404 for unknown paths: JSON under `/api/`, the UI elsewhere.
pub async fn not_found(uri: Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        ApiError::not_found(format!("no such endpoint: {}; the API is described at /api/v1/openapi.json", uri.path())).into_response()
    } else {
        crate::ui::index().await.into_response()
    }
}

/// 405 as JSON.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "this endpoint does not take that method; see /api/v1/openapi.json")
}
