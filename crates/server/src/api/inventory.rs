//! Devices, events, the dashboard counts, the map and inventory exports.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use palisade_engine::Device;
use palisade_model::{DeviceType, Protocol, Timestamp};
use palisade_store::{AlertQuery, DeviceQuery, DeviceSort, EventQuery};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Devices drawn on the map at most (the rest are counted, not drawn).
const MAP_MAX_DEVICES: usize = 5000;
/// Learned services read for the map's links at most.
const MAP_MAX_LINKS: usize = 100_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_devices))
        .routes(routes!(get_device))
        .routes(routes!(overview))
        .routes(routes!(network_map))
        .routes(routes!(list_events))
        .routes(routes!(list_connections))
        .routes(routes!(export_inventory))
}

/// Which devices the device list and the inventory export cover.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct DeviceFilters {
    /// Only devices of this site (id; every site by default).
    site: Option<i64>,
    /// Words that must all appear in the device's addresses, names, vendor, model, firmware, serial, OS, type or protocols.
    search: Option<String>,
    /// Device type (e.g. `plc`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    device_type: Option<String>,
    /// Purdue level 0-5, or `unknown`.
    purdue_level: Option<String>,
    /// Vendor (exact).
    vendor: Option<String>,
    /// A protocol the device spoke (e.g. `modbus`).
    protocol: Option<String>,
    /// Subnet as the map shows it (e.g. `10.0.1.0/24`).
    subnet: Option<String>,
}

/// Order and paging of the device list.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct DevicePaging {
    /// `id` (default), `ip`, `mac`, `name`, `vendor`, `type`, `purdue_level`, `first_seen` or `last_seen`.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-1000 (default 100).
    limit: Option<usize>,
    /// Also count all matching devices (`total`).
    count: Option<bool>,
}

fn empty_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl DeviceFilters {
    /// The store query (by id, pages of 1,000), or what is wrong with the filters.
    fn query(&self) -> ApiResult<DeviceQuery> {
        let device_type = empty_to_none(&self.device_type);
        if let Some(t) = &device_type {
            if DeviceType::from_name(t).is_none() {
                let known: Vec<&str> = DeviceType::ALL.iter().map(|t| t.as_str()).collect();
                return Err(ApiError::bad_request(format!("unknown device type {t:?}; known: {}", known.join(", "))));
            }
        }
        let purdue_level = match empty_to_none(&self.purdue_level).as_deref() {
            None => None,
            Some("unknown") => Some(-1),
            Some(level) => match level.parse::<i64>() {
                Ok(l) if (0..=5).contains(&l) => Some(l),
                _ => return Err(ApiError::bad_request(format!("purdue_level must be 0-5 or unknown, not {level:?}"))),
            },
        };
        let protocol = empty_to_none(&self.protocol);
        if let Some(p) = &protocol {
            if Protocol::from_name(p).is_none() {
                return Err(ApiError::bad_request(format!("unknown protocol {p:?}")));
            }
        }
        let search = empty_to_none(&self.search);
        if search.as_ref().is_some_and(|s| s.len() > 200) {
            return Err(ApiError::bad_request("search text is too long (200 bytes at most)"));
        }
        Ok(DeviceQuery {
            site: self.site,
            search,
            device_type,
            purdue_level,
            vendor: empty_to_none(&self.vendor),
            protocol,
            subnet: empty_to_none(&self.subnet),
            limit: 1000,
            ..Default::default()
        })
    }
}

impl DevicePaging {
    /// Sets the order and page of `query`, or says what is wrong with them.
    fn apply(&self, query: &mut DeviceQuery) -> ApiResult<()> {
        query.sort = match empty_to_none(&self.sort) {
            None => DeviceSort::Id,
            Some(s) => DeviceSort::from_name(&s).ok_or_else(|| {
                let known: Vec<&str> = DeviceSort::ALL.iter().map(|(n, _)| *n).collect();
                ApiError::bad_request(format!("unknown sort {s:?}; known: {}", known.join(", ")))
            })?,
        };
        query.descending = match self.order.as_deref() {
            None | Some("asc") | Some("") => false,
            Some("desc") => true,
            Some(o) => return Err(ApiError::bad_request(format!("order must be asc or desc, not {o:?}"))),
        };
        query.limit = self.limit.unwrap_or(100);
        if !(1..=1000).contains(&query.limit) {
            return Err(ApiError::bad_request("limit must be between 1 and 1000"));
        }
        query.cursor = empty_to_none(&self.cursor);
        Ok(())
    }
}

/// Devices, filtered, sorted and paged with a cursor (`next_cursor` is
/// `null` on the last page).
#[utoipa::path(get, path = "/api/v1/devices", tag = "inventory", params(DeviceFilters, DevicePaging),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [device without its facts], next_cursor, total}`", body = Object), (status = 400, description = "Bad filter")))]
async fn list_devices(
    State(state): State<AppState>,
    ApiQuery(filters): ApiQuery<DeviceFilters>,
    ApiQuery(paging): ApiQuery<DevicePaging>,
) -> ApiResult<Response> {
    let mut query = filters.query()?;
    paging.apply(&mut query)?;
    let count = paging.count.unwrap_or(false);
    let body = state
        .pool
        .run(move |db| {
            let page = db.device_list(&query)?;
            let total = if count { Some(db.device_count(&query)?) } else { None };
            // The items are JSON already: join them rather than parse and print them again.
            let cursor = serde_json::to_string(&page.next_cursor).map_err(|e| ApiError::internal("device list", e))?;
            let total = total.map_or("null".to_string(), |t| t.to_string());
            Ok(format!("{{\"items\":[{}],\"next_cursor\":{cursor},\"total\":{total}}}", page.items.join(",")))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The IPs of a device as text.
fn device_ips(device: &Device) -> Vec<String> {
    device.ips.iter().map(|i| i.to_string()).collect()
}

/// One device: its identity facts with their sources, the operations and
/// violations it took part in, its alerts, its vulnerabilities (with the
/// evidence of each match), its risk score with the parts, and the
/// recommendations that concern it.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "inventory", params(("id" = i64, Path, description = "Device id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{device, connections, events, alerts, vulnerabilities, risk, recommendations}` (`vulnerability_note` says why the last three are empty when the vulnerability data cannot be read)", body = Object),
              (status = 404, description = "No such device")))]
async fn get_device(State(state): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    let Json(mut body) = state
        .pool
        .run(move |db| {
            let device = db.device(id)?.ok_or_else(|| ApiError::not_found(format!("no device with id {id}")))?;
            let ips = device_ips(&device);
            let events =
                if ips.is_empty() { Vec::new() } else { db.event_page(&EventQuery { ips, limit: 100, ..Default::default() })?.items };
            let hosts = super::alerts::device_hosts(&device);
            let mut alerts = Vec::new();
            let mut connections = Vec::new();
            if !hosts.is_empty() {
                alerts = db.alert_page(&AlertQuery { hosts: hosts.clone(), limit: 100, ..Default::default() })?.items;
                for link in db.service_links(&hosts, 500)? {
                    let outgoing = hosts.contains(&link.client);
                    let peer = if outgoing { link.server.clone() } else { link.client.clone() };
                    connections.push(serde_json::json!({
                        "peer": peer,
                        "peer_id": db.device_id_of(&peer)?,
                        "direction": if outgoing { "client" } else { "server" },
                        "service": link.service,
                        "first_seen": Timestamp(link.first_ns),
                        "last_seen": Timestamp(link.last_ns),
                        "learned": link.learned,
                    }));
                }
            }
            Ok(Json(serde_json::json!({
                "device": device,
                "connections": connections,
                "events": events,
                "alerts": alerts,
            })))
        })
        .await?;
    if let (Some(body), serde_json::Value::Object(vulns)) = (body.as_object_mut(), super::vulns::device_part(&state, id).await) {
        body.extend(vulns);
    }
    Ok(Json(body))
}

/// Which site a view covers.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteParams {
    /// Only this site (id; every site by default).
    site: Option<i64>,
}

/// Counts for the dashboard: devices by type and Purdue level, top
/// vendors, alerts by severity and day, the riskiest hosts; of one site
/// or of every site.
#[utoipa::path(get, path = "/api/v1/overview", tag = "inventory", params(SiteParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{devices: {total, by_type, by_purdue_level, top_vendors}, alerts: {open_by_severity, by_status, timeline, top_risks}, analyses}`", body = Object)))]
async fn overview(State(state): State<AppState>, ApiQuery(params): ApiQuery<SiteParams>) -> ApiResult<Json<serde_json::Value>> {
    state
        .pool
        .run(move |db| {
            let devices = db.device_stats(params.site)?;
            let alerts = db.alert_stats(30, params.site)?;
            let analyses = db.analyses(5)?;
            Ok(Json(serde_json::json!({ "devices": devices, "alerts": alerts, "analyses": analyses })))
        })
        .await
}

/// The network map: devices (up to 5,000) with their Purdue level and
/// subnet, and the connections between them.
#[utoipa::path(get, path = "/api/v1/map", tag = "inventory",
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{nodes, edges, total_devices}`", body = Object)))]
async fn network_map(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    state
        .pool
        .run(|db| {
            let nodes = db.device_summaries(MAP_MAX_DEVICES)?;
            let total = db.device_stats(None)?.total;
            let mut by_address: HashMap<&str, i64> = HashMap::new();
            for n in &nodes {
                for address in [n.ip.as_str(), n.mac.as_str()] {
                    if !address.is_empty() {
                        by_address.entry(address).or_insert(n.id);
                    }
                }
            }
            let mut edges: HashMap<(i64, i64, String), ()> = HashMap::new();
            for link in db.service_links(&[], MAP_MAX_LINKS)? {
                let (Some(a), Some(b)) = (by_address.get(link.client.as_str()), by_address.get(link.server.as_str())) else { continue };
                if a != b {
                    edges.insert((*a, *b, link.service), ());
                }
            }
            let edges: Vec<serde_json::Value> =
                edges.into_keys().map(|(a, b, p)| serde_json::json!({ "source": a, "target": b, "protocol": p })).collect();
            Ok(Json(serde_json::json!({ "nodes": nodes, "edges": edges, "total_devices": total })))
        })
        .await
}

/// Filters and paging of the event list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only events of this site (id; every site by default).
    site: Option<i64>,
    /// `operation` or `violation`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    record_type: Option<String>,
    /// Protocol (e.g. `s7comm`).
    protocol: Option<String>,
    /// Only events involving this IP.
    ip: Option<String>,
    /// Only events involving this device.
    device_id: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-1000 (default 100).
    limit: Option<usize>,
}

/// Operations and protocol violations seen on the wire, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "inventory", params(EventParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [event], next_cursor}`", body = Object), (status = 400, description = "Bad filter")))]
async fn list_events(State(state): State<AppState>, ApiQuery(params): ApiQuery<EventParams>) -> ApiResult<Json<serde_json::Value>> {
    let record_type = empty_to_none(&params.record_type);
    if let Some(t) = &record_type {
        if t != "operation" && t != "violation" {
            return Err(ApiError::bad_request(format!("type must be operation or violation, not {t:?}")));
        }
    }
    let protocol = empty_to_none(&params.protocol);
    if let Some(p) = &protocol {
        if Protocol::from_name(p).is_none() {
            return Err(ApiError::bad_request(format!("unknown protocol {p:?}")));
        }
    }
    let mut ips = Vec::new();
    if let Some(ip) = empty_to_none(&params.ip) {
        let parsed: std::net::IpAddr = ip.parse().map_err(|_| ApiError::bad_request(format!("{ip:?} is not an IP address")))?;
        ips.push(parsed.to_string());
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let (device_id, cursor, site) = (params.device_id, empty_to_none(&params.cursor), params.site);
    state
        .pool
        .run(move |db| {
            if let Some(id) = device_id {
                let device = db.device(id)?.ok_or_else(|| ApiError::not_found(format!("no device with id {id}")))?;
                ips.extend(device_ips(&device));
                if ips.is_empty() {
                    return Ok(Json(serde_json::json!({ "items": [], "next_cursor": null })));
                }
            }
            let page = db.event_page(&EventQuery { site, record_type, protocol, ips, cursor, limit })?;
            Ok(Json(serde_json::json!({ "items": page.items, "next_cursor": page.next_cursor })))
        })
        .await
}

/// Which connections to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionParams {
    /// Only connections of this device.
    device_id: Option<i64>,
    /// At most this many, 1-10000 (default 1000).
    limit: Option<usize>,
}

/// Who talks to whom over which service (protocol, or transport port), as
/// detection learned it, with the devices on both sides.
#[utoipa::path(get, path = "/api/v1/connections", tag = "inventory", params(ConnectionParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [{client, client_id, server, server_id, service, first_seen, last_seen, learned}]}`", body = Object),
              (status = 404, description = "No such device")))]
async fn list_connections(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ConnectionParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = params.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 10000"));
    }
    state
        .pool
        .run(move |db| {
            let hosts = match params.device_id {
                Some(id) => {
                    let device = db.device(id)?.ok_or_else(|| ApiError::not_found(format!("no device with id {id}")))?;
                    let hosts = super::alerts::device_hosts(&device);
                    if hosts.is_empty() {
                        return Ok(Json(serde_json::json!({ "items": [] })));
                    }
                    hosts
                }
                None => Vec::new(),
            };
            let mut ids: HashMap<String, Option<i64>> = HashMap::new();
            let mut items = Vec::new();
            for link in db.service_links(&hosts, limit)? {
                for host in [&link.client, &link.server] {
                    if !ids.contains_key(host) {
                        ids.insert(host.clone(), db.device_id_of(host)?);
                    }
                }
                items.push(serde_json::json!({
                    "client": link.client,
                    "client_id": ids.get(&link.client).copied().flatten(),
                    "server": link.server,
                    "server_id": ids.get(&link.server).copied().flatten(),
                    "service": link.service,
                    "first_seen": Timestamp(link.first_ns),
                    "last_seen": Timestamp(link.last_ns),
                    "learned": link.learned,
                }));
            }
            Ok(Json(serde_json::json!({ "items": items })))
        })
        .await
}

/// Export format (the devices are chosen by the device list's filters).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// `csv` (default) or `json`.
    format: Option<String>,
}

/// Quotes a CSV field when needed.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn joined<T: ToString>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
}

/// Columns of the CSV export.
const CSV_HEADER: &str = "id,ips,macs,hostnames,vendor,model,firmware,serial,os,type,purdue_level,protocols,first_seen,last_seen";

fn csv_row(d: &Device) -> String {
    let fields = [
        d.id.to_string(),
        joined(&d.ips),
        joined(&d.macs),
        d.hostnames.join(" "),
        d.vendor.clone().unwrap_or_default(),
        d.model.clone().unwrap_or_default(),
        d.firmware.clone().unwrap_or_default(),
        d.serial.clone().unwrap_or_default(),
        d.os.clone().unwrap_or_default(),
        d.device_type.as_str().to_string(),
        d.purdue_level.map(|l| l.to_string()).unwrap_or_default(),
        joined(&d.protocols),
        d.first_seen.to_rfc3339(),
        d.last_seen.to_rfc3339(),
    ];
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
}

/// The inventory (filtered like the device list) as CSV or a JSON array,
/// as a download.
#[utoipa::path(get, path = "/api/v1/inventory/export", tag = "inventory", params(ExportFormat, DeviceFilters),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "CSV (text/csv) or JSON array", content_type = "text/csv"),
              (status = 400, description = "Bad format or filter")))]
async fn export_inventory(
    State(state): State<AppState>,
    ApiQuery(format): ApiQuery<ExportFormat>,
    ApiQuery(filters): ApiQuery<DeviceFilters>,
) -> ApiResult<Response> {
    let json = match format.format.as_deref() {
        None | Some("") | Some("csv") => false,
        Some("json") => true,
        Some(f) => return Err(ApiError::bad_request(format!("format must be csv or json, not {f:?}"))),
    };
    let mut query = filters.query()?;
    let body = state
        .pool
        .run(move |db| {
            // Every matching device of every site (or of the one asked), page by page.
            let mut devices = Vec::new();
            loop {
                let page = db.device_page(&query)?;
                devices.extend(page.items);
                match page.next_cursor {
                    Some(c) => query.cursor = Some(c),
                    None => break,
                }
            }
            if json {
                serde_json::to_string_pretty(&devices).map_err(|e| ApiError::internal("JSON export", e))
            } else {
                let mut out = String::from(CSV_HEADER);
                out.push('\n');
                for d in &devices {
                    out.push_str(&csv_row(d));
                    out.push('\n');
                }
                Ok(out)
            }
        })
        .await?;
    let (content_type, name) = if json { ("application/json", "inventory.json") } else { ("text/csv; charset=utf-8", "inventory.csv") };
    Ok((
        [(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
