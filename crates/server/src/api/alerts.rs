//! Alerts: the list, one alert with its devices, the workflow (learn,
//! acknowledge, close, mute; one or many), evidence download, and the
//! baseline diff.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use palisade_model::{AlertCategory, AlertStatus, DetectionEngine, Severity, Timestamp};
use palisade_store::AlertQuery;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Alerts changed by one bulk request at most.
const MAX_BULK: usize = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(set_status))
        .routes(routes!(bulk_status))
        .routes(routes!(evidence))
        .routes(routes!(baseline_diff))
}

/// Filters and paging of the alert list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// Only alerts of this site (id; every site by default).
    site: Option<i64>,
    /// Comma-separated statuses (`new,acknowledged`), or `open` for those two.
    status: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    severity: Option<String>,
    /// `policy`, `protocol`, `anomaly`, `malware` or `operational`.
    engine: Option<String>,
    /// Alert category (e.g. `plc-stop`).
    category: Option<String>,
    /// Words to find in the title, category, addresses or protocol.
    search: Option<String>,
    /// Only alerts involving this device.
    device_id: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-1000 (default 100).
    limit: Option<usize>,
}

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn checked<T>(
    value: Option<String>,
    what: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(&T) -> &'static str,
) -> ApiResult<Option<String>> {
    match trimmed(value) {
        Some(v) if parse(&v).is_none() => {
            let known: Vec<&str> = all.iter().map(name).collect();
            Err(ApiError::bad_request(format!("unknown {what} {v:?}; known: {}", known.join(", "))))
        }
        other => Ok(other),
    }
}

fn statuses(text: Option<String>) -> ApiResult<Vec<String>> {
    let Some(text) = trimmed(text) else { return Ok(Vec::new()) };
    if text == "open" {
        return Ok(vec!["new".into(), "acknowledged".into()]);
    }
    text.split(',')
        .map(|s| {
            let s = s.trim();
            AlertStatus::from_name(s).map(|_| s.to_string()).ok_or_else(|| {
                ApiError::bad_request(format!("unknown status {s:?}; known: open, new, acknowledged, closed, learned, muted"))
            })
        })
        .collect()
}

/// Alerts, newest first, filtered and paged with a cursor.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [alert], next_cursor}`", body = Object), (status = 400, description = "Bad filter")))]
async fn list_alerts(State(state): State<AppState>, ApiQuery(p): ApiQuery<AlertParams>) -> ApiResult<Json<serde_json::Value>> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let search = trimmed(p.search);
    if search.as_ref().is_some_and(|s| s.len() > 200) {
        return Err(ApiError::bad_request("search text is too long (200 bytes at most)"));
    }
    let mut query = AlertQuery {
        site: p.site,
        statuses: statuses(p.status)?,
        severity: checked(p.severity, "severity", Severity::from_name, Severity::ALL, |s| s.as_str())?,
        engine: checked(p.engine, "engine", DetectionEngine::from_name, DetectionEngine::ALL, |e| e.as_str())?,
        category: checked(p.category, "category", AlertCategory::from_name, AlertCategory::ALL, |c| c.as_str())?,
        hosts: Vec::new(),
        search,
        cursor: trimmed(p.cursor),
        limit,
    };
    let device_id = p.device_id;
    state
        .pool
        .run(move |db| {
            if let Some(id) = device_id {
                let device = db.device(id)?.ok_or_else(|| ApiError::not_found(format!("no device with id {id}")))?;
                query.hosts = device_hosts(&device);
            }
            let page = db.alert_page(&query)?;
            Ok(Json(serde_json::json!({ "items": page.items, "next_cursor": page.next_cursor })))
        })
        .await
}

/// The addresses alerts name a device by.
pub fn device_hosts(device: &palisade_engine::Device) -> Vec<String> {
    let mut hosts: Vec<String> = device.ips.iter().map(|i| i.to_string()).collect();
    if !device.behind_router {
        hosts.extend(device.macs.iter().map(|m| m.to_string()));
    }
    hosts
}

/// One alert, with the devices on either side.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path, description = "Alert id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{alert, src_device, dst_device}`", body = Object), (status = 404, description = "No such alert")))]
async fn get_alert(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    state
        .pool
        .run(move |db| {
            let alert = db.alert(id)?.ok_or_else(|| ApiError::not_found(format!("no alert with id {id}")))?;
            let side = |ip: Option<String>, mac: Option<String>| -> ApiResult<Option<i64>> {
                match ip.or(mac) {
                    Some(host) => Ok(db.device_id_of(&host)?),
                    None => Ok(None),
                }
            };
            let src = side(alert.src_ip.map(|i| i.to_string()), alert.src_mac.map(|m| m.to_string()))?;
            let dst = side(alert.dst_ip.map(|i| i.to_string()), alert.dst_mac.map(|m| m.to_string()))?;
            Ok(Json(serde_json::json!({ "alert": alert, "src_device": src, "dst_device": dst })))
        })
        .await
}

/// A new status.
#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    /// `acknowledged`, `closed`, `learned` (its deviation joins the baseline), `muted`, or `new` to reopen.
    status: String,
}

fn status(name: &str) -> ApiResult<AlertStatus> {
    AlertStatus::from_name(name)
        .ok_or_else(|| ApiError::bad_request(format!("unknown status {name:?}; use acknowledged, closed, learned, muted or new")))
}

/// Changes an alert's status (learn, acknowledge, close, mute).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/status", tag = "alerts", params(("id" = i64, Path, description = "Alert id")),
    request_body = StatusChange, security(("session" = ["security-analyst"]), ("token" = ["security-analyst"])),
    responses((status = 200, description = "The alert", body = Object), (status = 400, description = "Unknown status"),
              (status = 404, description = "No such alert")))]
async fn set_status(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<Json<serde_json::Value>> {
    let status = status(&change.status)?;
    state
        .pool
        .run(move |db| match db.set_alert_status(id, status)? {
            Some(alert) => Ok(Json(serde_json::json!(alert))),
            None => Err(ApiError::not_found(format!("no alert with id {id}"))),
        })
        .await
}

/// A status for many alerts.
#[derive(Deserialize, ToSchema)]
pub struct BulkChange {
    /// Alert ids (1000 at most).
    ids: Vec<i64>,
    /// The new status.
    status: String,
}

/// Changes the status of many alerts at once.
#[utoipa::path(post, path = "/api/v1/alerts/bulk", tag = "alerts", request_body = BulkChange,
    security(("session" = ["security-analyst"]), ("token" = ["security-analyst"])),
    responses((status = 200, description = "`{changed, missing: [id]}`", body = Object), (status = 400, description = "Bad status or too many ids")))]
async fn bulk_status(State(state): State<AppState>, ApiJson(change): ApiJson<BulkChange>) -> ApiResult<Json<serde_json::Value>> {
    let status = status(&change.status)?;
    if change.ids.is_empty() || change.ids.len() > MAX_BULK {
        return Err(ApiError::bad_request(format!("ids must list 1 to {MAX_BULK} alerts")));
    }
    state
        .pool
        .run(move |db| {
            let mut missing = Vec::new();
            for id in &change.ids {
                if db.set_alert_status(*id, status)?.is_none() {
                    missing.push(*id);
                }
            }
            Ok(Json(serde_json::json!({ "changed": change.ids.len() - missing.len(), "missing": missing })))
        })
        .await
}

/// The alert's evidence: a pcap of the packets around the event.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/evidence", tag = "alerts", params(("id" = i64, Path, description = "Alert id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "pcap file", content_type = "application/vnd.tcpdump.pcap"),
              (status = 404, description = "No such alert, or it has no evidence")))]
async fn evidence(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let alert = state.pool.run(move |db| Ok(db.alert(id)?)).await?.ok_or_else(|| ApiError::not_found(format!("no alert with id {id}")))?;
    let path = alert.evidence.ok_or_else(|| ApiError::not_found(format!("alert {id} has no evidence packets")))?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!("evidence of alert {id} at {path}: {e}");
        ApiError::not_found(format!("the evidence file of alert {id} is gone from the server"))
    })?;
    let disposition = format!("attachment; filename=\"alert-{id}.pcap\"");
    Ok(([(header::CONTENT_TYPE, "application/vnd.tcpdump.pcap".to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

/// The two times of a baseline diff.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// Start (RFC 3339 capture time); default: the end of the site's learning period.
    from: Option<String>,
    /// End (RFC 3339 capture time); default: the latest capture time analysed.
    to: Option<String>,
    /// The site (id; default the default site, 1).
    site: Option<i64>,
}

/// What changed in the network between two (capture) times: baseline facts
/// (devices, connections, services, operations...) added and gone. Without
/// times: what is new since the site's learning period ended, with the
/// learning state (`learning`) and how many facts the baseline learned.
#[utoipa::path(get, path = "/api/v1/baseline/diff", tag = "alerts", params(DiffParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{from, to, added, removed, learning, learned}`", body = Object), (status = 400, description = "Bad times")))]
async fn baseline_diff(State(state): State<AppState>, ApiQuery(p): ApiQuery<DiffParams>) -> ApiResult<Json<serde_json::Value>> {
    let time = |t: &Option<String>| -> ApiResult<Option<Timestamp>> {
        match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => Timestamp::parse_rfc3339(t)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("{t:?} is not an RFC 3339 time (2025-01-14T10:00:00Z)"))),
        }
    };
    let (from, to, site) = (time(&p.from)?, time(&p.to)?, p.site.unwrap_or(palisade_store::DEFAULT_SITE));
    let explicit = from.is_some() && to.is_some();
    state
        .pool
        .run(move |db| {
            db.set_site(site);
            let found = (db.baseline(), db.learning());
            db.set_site(palisade_store::DEFAULT_SITE);
            let (rows, learning) = (found.0?, found.1?.unwrap_or_default());
            let learned_until = learning.site_start.map(|s| Timestamp(s.0.saturating_add(learning.period_ns)));
            let from = from.or(learned_until).unwrap_or(Timestamp(0));
            let to = to.or(learning.last_seen).unwrap_or(from);
            if to < from && explicit {
                return Err(ApiError::bad_request("from must not be after to"));
            }
            let to = to.max(from);
            let learned = rows.iter().filter(|r| r.learned).count();
            let mut body = serde_json::json!(palisade_detect::diff(&rows, from, to));
            body["learning"] = serde_json::json!(learning);
            body["learned"] = serde_json::json!(learned);
            Ok(Json(body))
        })
        .await
}
