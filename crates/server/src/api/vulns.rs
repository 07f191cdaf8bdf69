//! Vulnerabilities: importing advisories (NVD CVE and CPE JSON, CSAF 2.0,
//! the CISA KEV catalog), the matches on the inventory with their
//! evidence, recommendations, risk scores with their parts, attack paths,
//! and the two HTML reports.

use crate::assessment::{site_of_device, Assessment, ImportJob, ImportedFile};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::jobs::JobState;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use palisade_store::DEFAULT_SITE;
use palisade_vulndb::advice::Recommendation;
use palisade_vulndb::db::{FileImport, StoredImport};
use palisade_vulndb::matching::VulnMatch;
use palisade_vulndb::site::device_label;
use palisade_vulndb::{import, report, VulnStore};
use serde::Deserialize;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_files))
        .routes(routes!(import_job))
        .routes(routes!(status))
        .routes(routes!(vulnerabilities))
        .routes(routes!(recommendations))
        .routes(routes!(risk))
        .routes(routes!(risk_report))
        .routes(routes!(vulnerability_report))
}

/// The current assessment of a site (the default one when not given),
/// computed on the blocking pool when its inputs changed.
async fn assessment(state: &AppState, site: Option<i64>) -> ApiResult<Arc<Assessment>> {
    let vulns = state.vulns.clone();
    let location = state.pool.location().clone();
    let site = site.unwrap_or(DEFAULT_SITE);
    state.pool.run(move |db| vulns.assessment(db, &location, site)).await
}

// ------------------------------------------------------------------ import

/// How many bytes of a file are read to tell its kind.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Removes a folder and what is in it when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A name as the uploader gave it, without folders or control characters.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.is_empty() {
        "upload.json".into()
    } else {
        clean
    }
}

/// Imports one or more vulnerability files sent as `multipart/form-data`
/// (each file part is one file): NVD CVE or CPE dictionary JSON 2.0, CSAF
/// 2.0 advisories or the CISA KEV catalog, as `.json`, `.json.gz`, or
/// `.zip` archives of them. Every file is checked before anything is
/// imported: if one is not a known format, nothing is imported (400).
/// Otherwise the import runs in the background (202 with the job; follow
/// it at `GET /api/v1/vulndb/import/{id}`), each file in one transaction:
/// a file refused while importing leaves nothing of itself behind.
#[utoipa::path(post, path = "/api/v1/vulndb/import", tag = "vulnerabilities",
    request_body(content = String, content_type = "multipart/form-data", description = "One or more file parts"),
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 202, description = "Accepted: the job, `{id, state, percent, files_total, files, ...}` as `GET /api/v1/vulndb/import/{id}` gives it", body = Object),
              (status = 400, description = "Not multipart, no file, or a file of no known format: `{error, status, files}`; nothing imported"),
              (status = 413, description = "Larger than the server accepts")))]
async fn import_files(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::bad_request("send the files as multipart/form-data, one file part each"))?;
    let limit = state.max_upload_bytes;
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("uploads larger than {limit} bytes are not accepted here"));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let dir = TempDir(state.upload_dir.join(format!("vulndb-{}", crate::auth::random_secret())));
    tokio::fs::create_dir_all(&dir.0).await.map_err(|e| ApiError::internal("saving the upload", e))?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut saved: Vec<(String, PathBuf)> = Vec::new();
    let mut size: u64 = 0;
    let bad = |e: multer::Error| ApiError::bad_request(format!("the upload could not be read as multipart/form-data: {e}"));
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let Some(name) = field.file_name().map(clean_name) else { continue };
        let path = dir.0.join(saved.len().to_string());
        let mut file = tokio::fs::File::create(&path).await.map_err(|e| ApiError::internal("saving the upload", e))?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                return Err(too_large());
            }
            file.write_all(&chunk).await.map_err(|e| ApiError::internal("saving the upload", e))?;
        }
        file.flush().await.map_err(|e| ApiError::internal("saving the upload", e))?;
        saved.push((name, path));
    }
    if saved.is_empty() {
        return Err(ApiError::bad_request("no file in the upload: send one or more file parts (multipart/form-data)"));
    }
    let checked = tokio::task::spawn_blocking(move || check_all(saved).map(|checked| (checked, dir)))
        .await
        .map_err(|e| ApiError::internal("checking the upload", e))?;
    let (checked, dir) = match checked {
        Ok(fine) => fine,
        Err(files) => {
            let refused = files.iter().filter(|f| f.error.is_some()).count();
            let body = serde_json::json!({
                "error": format!("{refused} of {} files are not vulnerability data this console knows; nothing was imported", files.len()),
                "status": StatusCode::BAD_REQUEST.as_u16(),
                "files": files,
            });
            return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
    };
    let documents = checked.iter().map(|(_, _, c)| if let Checked::Archive(members) = c { members.len() } else { 1 }).sum();
    let job = state.vulns.new_job(&caller.user.username, size, documents);
    let (vulns, location, work) = (state.vulns.clone(), state.pool.location().clone(), job.clone());
    tokio::task::spawn_blocking(move || {
        let _turn = vulns.importing.lock().unwrap_or_else(|p| p.into_inner());
        work.update(|p| p.state = JobState::Running);
        let outcome = vulns.with_vulns(&location, |vdb| {
            import_checked(vdb, &checked, &work);
            let finished = vdb.finish_import();
            let db_status = vdb.status().map_err(|e| ApiError::internal("reading the vulnerability database", e))?;
            finished.map_err(|e| ApiError::internal("finishing the vulnerability import", e))?;
            Ok(db_status)
        });
        drop(dir);
        vulns.changed();
        work.update(|p| {
            let refused = p.files.iter().filter(|f| f.error.is_some()).count();
            match outcome {
                Ok(db_status) => p.status = Some(db_status),
                Err(e) => p.error = Some(e.message),
            }
            if refused > 0 && p.error.is_none() {
                p.error = Some(format!("{refused} of {} files were refused while importing; the others were imported", p.files.len()));
            }
            p.state = if p.error.is_some() { JobState::Failed } else { JobState::Done };
        });
    });
    Ok((StatusCode::ACCEPTED, Json(job.view())).into_response())
}

/// An import through the console: where it is, the bytes and documents
/// done, each document's outcome so far and, once finished, what the
/// database holds. Jobs are kept by this console process (the last 50);
/// the import log (`GET /api/v1/vulndb/status`) keeps every imported file.
#[utoipa::path(get, path = "/api/v1/vulndb/import/{id}", tag = "vulnerabilities", params(("id" = u64, Path, description = "Job id")),
    security(("session" = ["admin"]), ("token" = ["admin"])),
    responses((status = 200, description = "`{id, user, created_at, state (queued, running, done, failed), bytes_total, bytes_done, percent, files_total, files_done, files: [{file, kind, records, changed, imported, error}], error, status}`", body = Object),
              (status = 404, description = "No such job")))]
async fn import_job(State(state): State<AppState>, ApiPath(id): ApiPath<u64>) -> ApiResult<Json<serde_json::Value>> {
    state.vulns.job(id).map(|j| Json(j.view())).ok_or_else(|| ApiError::not_found(format!("no vulnerability import with id {id}")))
}

/// Why an uploaded file was refused before the import: `(file, error)`
/// each, with the members of its archive that were fine.
type Refused = (Vec<(String, String)>, Vec<(String, import::FileKind)>);

/// One uploaded file as checked before the import: a document of a known
/// kind, or an archive with the kinds of its JSON members.
enum Checked {
    Document(import::FileKind),
    Archive(Vec<(String, import::FileKind)>),
}

/// A saved upload: its name as uploaded and where it is.
type Saved = (String, PathBuf);

/// Checks saved uploads before anything is imported: every file, and every
/// JSON member of an archive, must be of a known kind; else the outcome of
/// each (the refused ones with why, the others not imported).
fn check_all(saved: Vec<Saved>) -> Result<Vec<(String, PathBuf, Checked)>, Vec<ImportedFile>> {
    let refuse =
        |file: String, error: String| ImportedFile { file, kind: None, records: 0, changed: 0, imported: false, error: Some(error) };
    let mut checked = Vec::with_capacity(saved.len());
    let (mut refused, mut fine_members) = (Vec::new(), Vec::new());
    for (name, path) in saved {
        match check(&name, &path) {
            Ok(c) => checked.push((name, path, c)),
            Err((errors, fine)) => {
                refused.extend(errors.into_iter().map(|(file, e)| refuse(file, e)));
                fine_members.extend(fine.into_iter().map(|(m, kind)| (format!("{name}/{m}"), kind)));
            }
        }
    }
    if refused.is_empty() {
        return Ok(checked);
    }
    // Nothing is imported: the files that were fine are listed as such.
    let fine = checked.iter().flat_map(|(name, _, c)| match c {
        Checked::Document(kind) => vec![(name.clone(), *kind)],
        Checked::Archive(members) => members.iter().map(|(m, kind)| (format!("{name}/{m}"), *kind)).collect(),
    });
    let fine = fine.chain(fine_members).map(|(file, kind)| ImportedFile {
        kind: Some(kind.as_str().into()),
        error: None,
        ..refuse(file, String::new())
    });
    Err(refused.into_iter().chain(fine).collect())
}

/// Imports checked uploads, each file and archive member in its own
/// transaction, adding the outcome of each to the job as it goes.
fn import_checked(vdb: &mut dyn VulnStore, checked: &[(String, PathBuf, Checked)], job: &ImportJob) {
    let done = |f: FileImport| ImportedFile {
        file: f.path,
        kind: Some(f.kind),
        records: f.records,
        changed: f.changed,
        imported: true,
        error: None,
    };
    let refuse = |file: String, kind: Option<&str>, error: String| ImportedFile {
        file,
        kind: kind.map(str::to_string),
        records: 0,
        changed: 0,
        imported: false,
        error: Some(error),
    };
    for (name, path, c) in checked {
        let mut files = Vec::new();
        match c {
            Checked::Document(kind) => files.push(match import::import_file(vdb, path, name, &job.batch) {
                Ok(f) => done(f),
                Err(e) => refuse(name.clone(), Some(kind.as_str()), e),
            }),
            Checked::Archive(members) => {
                let (imported, errors) = import::import_zip(vdb, path, name, &job.batch);
                files.extend(imported.into_iter().map(done));
                for e in errors {
                    // Errors read `archive/member: why` or `archive: why`.
                    let member = members.iter().find(|(m, _)| e.starts_with(&format!("{name}/{m}: ")));
                    files.push(match member {
                        Some((m, kind)) => {
                            let file = format!("{name}/{m}");
                            let why = e.get(file.len() + 2..).unwrap_or(&e).to_string();
                            refuse(file, Some(kind.as_str()), why)
                        }
                        None => refuse(name.clone(), None, e.strip_prefix(&format!("{name}: ")).unwrap_or(&e).to_string()),
                    });
                }
            }
        }
        job.update(|p| p.files.extend(files));
    }
}

/// Checks an uploaded file before anything is imported: its kind, or for a
/// zip archive the kinds of its `.json` and `.json.gz` members. Errors name
/// the file (`archive.zip/member.json` for members) and come with the
/// archive's members that were fine.
fn check(name: &str, path: &Path) -> Result<Checked, Refused> {
    let one = |e: String| (vec![(name.to_string(), e)], Vec::new());
    let mut file = std::fs::File::open(path).map_err(|e| one(e.to_string()))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| one(e.to_string()))?;
    if magic.get(..n) != Some(b"PK\x03\x04".as_slice()) {
        let file = std::fs::File::open(path).map_err(|e| one(e.to_string()))?;
        return kind_of(file).map(Checked::Document).map_err(one);
    }
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| one(format!("not a readable zip archive: {e}")))?;
    let (mut members, mut errors) = (Vec::new(), Vec::new());
    for i in 0..archive.len() {
        let entry = archive.by_index(i).and_then(|m| m.name().map(|n| n.into_owned()).map(|n| (m, n)));
        let (entry, member) = entry.map_err(|e| one(format!("member {}: {e}", i + 1)))?;
        let lower = member.to_ascii_lowercase();
        if entry.is_dir() || !(lower.ends_with(".json") || lower.ends_with(".json.gz")) {
            continue;
        }
        match kind_of(entry) {
            Ok(kind) => members.push((member, kind)),
            Err(e) => errors.push((format!("{name}/{member}"), e)),
        }
    }
    if members.is_empty() && errors.is_empty() {
        errors.push((name.to_string(), "the archive holds no .json or .json.gz file".into()));
    }
    if errors.is_empty() {
        Ok(Checked::Archive(members))
    } else {
        Err((errors, members))
    }
}

/// The kind of a vulnerability document, from its first bytes (gzip undone).
fn kind_of(reader: impl Read) -> Result<import::FileKind, String> {
    let mut raw = std::io::BufReader::new(reader);
    let gz = raw.fill_buf().map_err(|e| e.to_string())?.starts_with(&[0x1f, 0x8b]);
    let mut inner: Box<dyn Read + '_> = if gz { Box::new(flate2::read::MultiGzDecoder::new(raw)) } else { Box::new(raw) };
    let mut head = Vec::new();
    inner.by_ref().take(SNIFF_BYTES).read_to_end(&mut head).map_err(|e| {
        if gz {
            format!("not a readable gzip file: {e}")
        } else {
            e.to_string()
        }
    })?;
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".into());
    }
    import::sniff(&head).ok_or_else(|| "not an NVD CVE or CPE JSON 2.0 feed, a CSAF 2.0 advisory or a CISA KEV catalog".into())
}

/// Import batches listed at most by the status.
const IMPORT_BATCHES: usize = 50;
/// Import log entries read for them at most.
const IMPORT_ENTRIES: usize = 5000;

/// The import log grouped in batches (files imported together, newest
/// first), as `{at, user, files: [{file, kind, records, changed}]}`.
fn import_history(log: Vec<StoredImport>) -> Vec<serde_json::Value> {
    let mut batches: Vec<(Option<String>, Vec<StoredImport>)> = Vec::new();
    for entry in log {
        match batches.last_mut() {
            Some((batch, entries)) if batch.is_some() && *batch == entry.batch => entries.push(entry),
            _ => batches.push((entry.batch.clone(), vec![entry])),
        }
    }
    batches
        .into_iter()
        .take(IMPORT_BATCHES)
        .map(|(_, mut entries)| {
            entries.reverse();
            let first = entries.first();
            serde_json::json!({
                "at": first.map(|e| e.imported_at.clone()),
                "user": first.and_then(|e| e.user.clone()),
                "files": entries.iter().map(|e| serde_json::json!({
                    "file": e.path, "kind": e.kind, "records": e.records, "changed": e.changed,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// What the vulnerability database holds and the imports it logged (every
/// file imported, from the console or the command line, newest first).
#[utoipa::path(get, path = "/api/v1/vulndb/status", tag = "vulnerabilities",
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{cves, cpe_matches, products, advisories, kev, generation, imports: [{at, user, files: [{file, kind, records, changed}]}]}`", body = Object),
              (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn status(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let location = state.pool.location().clone();
    let vulns = state.vulns.clone();
    let (counts, log) = tokio::task::spawn_blocking(move || {
        vulns.with_vulns(&location, |vdb| {
            let read = |e| ApiError::internal("reading the vulnerability database", e);
            Ok((vdb.status().map_err(read)?, vdb.imports(IMPORT_ENTRIES).map_err(read)?))
        })
    })
    .await
    .map_err(|e| ApiError::internal("vulnerability status", e))??;
    let mut body = serde_json::to_value(counts).map_err(|e| ApiError::internal("vulnerability status", e))?;
    body["imports"] = serde_json::json!(import_history(log));
    Ok(Json(body))
}

// --------------------------------------------------------- vulnerabilities

/// Filters of the vulnerability list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VulnParams {
    /// The site (id; the default site when not given).
    site: Option<i64>,
    /// Only this device's matches.
    device_id: Option<i64>,
    /// Only CVE ids containing this text (e.g. `CVE-2023-`).
    cve: Option<String>,
    /// Only matches scored at least this (CVSS 0-10, v3 else v4).
    min_cvss: Option<f64>,
    /// Only known exploited vulnerabilities (CISA KEV).
    kev: Option<bool>,
    /// At most this many, 1-10000 (default 1000).
    limit: Option<usize>,
}

/// A match as the API shows it: the match with its device's label.
fn match_json(m: &VulnMatch, a: &Assessment) -> serde_json::Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    v["device"] = serde_json::json!(a.site.device(m.device_id).map(device_label));
    v
}

/// Vulnerabilities matched on the inventory, worst first (score, then
/// device), each with its evidence: which identity facts, which CPE or
/// CSAF product, and how confident the match is.
#[utoipa::path(get, path = "/api/v1/vulnerabilities", tag = "vulnerabilities", params(VulnParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{items: [{device_id, device, cve, summary, cvss3, cvss4, severity, kev, confidence, confidence_label, fixed_version, remediations, basis: [{source, reference, product, matched_by, versions, facts, confidence, advisory, url}]}], total, devices, kev, generation, computed_at}`", body = Object),
              (status = 400, description = "Bad filter"), (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn vulnerabilities(State(state): State<AppState>, ApiQuery(params): ApiQuery<VulnParams>) -> ApiResult<Json<serde_json::Value>> {
    let limit = params.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 10000"));
    }
    if params.min_cvss.is_some_and(|s| !(0.0..=10.0).contains(&s)) {
        return Err(ApiError::bad_request("min_cvss must be between 0 and 10"));
    }
    let cve = params.cve.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_ascii_uppercase);
    let a = assessment(&state, params.site).await?;
    let mut all: Vec<&VulnMatch> = match params.device_id {
        Some(id) => a.site.vulns.get(&id).map(|v| v.iter().collect()).unwrap_or_default(),
        None => a.site.vulns.values().flatten().collect(),
    };
    all.retain(|m| {
        cve.as_ref().is_none_or(|c| m.cve.to_ascii_uppercase().contains(c.as_str()))
            && params.min_cvss.is_none_or(|s| m.score() >= s)
            && (!params.kev.unwrap_or(false) || m.kev.is_some())
    });
    all.sort_by(|x, y| y.score().total_cmp(&x.score()).then(x.device_id.cmp(&y.device_id)).then(x.cve.cmp(&y.cve)));
    let devices = all.iter().map(|m| m.device_id).collect::<std::collections::BTreeSet<_>>().len();
    let kev = all.iter().filter(|m| m.kev.is_some()).count();
    let items: Vec<serde_json::Value> = all.iter().take(limit).map(|m| match_json(m, &a)).collect();
    Ok(Json(serde_json::json!({
        "items": items,
        "total": all.len(),
        "devices": devices,
        "kev": kev,
        "generation": a.generation,
        "computed_at": a.computed_at,
    })))
}

// --------------------------------------------------------- recommendations

/// Which recommendations to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationParams {
    /// The site (id; the default site when not given).
    site: Option<i64>,
    /// Only this device's recommendations (and the site's that concern it).
    device_id: Option<i64>,
    /// Devices listed at most, riskiest first, 1-10000 (default 200).
    limit: Option<usize>,
}

/// Devices of each site recommendation and of its evidence that get their label listed.
const LABELLED: usize = 25;

/// Recommendations for the site and for each device (riskiest devices
/// first), most urgent first, each with the evidence it rests on.
#[utoipa::path(get, path = "/api/v1/recommendations", tag = "vulnerabilities", params(RecommendationParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{site: [{kind, priority, title, action, device_ids, evidence: [{kind, device_id, detail}]}], devices: [{device_id, device, score, recommendations}], total_devices, labels: {id: label}}`", body = Object),
              (status = 400, description = "Bad parameter"), (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn recommendations(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<RecommendationParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = params.limit.unwrap_or(200);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 10000"));
    }
    let a = assessment(&state, params.site).await?;
    let site: Vec<&Recommendation> = a.recs.site.iter().filter(|r| params.device_id.is_none_or(|id| r.device_ids.contains(&id))).collect();
    // Devices in risk order, those with recommendations only.
    let advised = a.summary.advised.iter().filter_map(|i| a.risk.devices.get(*i));
    let mine: Vec<_> = advised.filter(|d| params.device_id.is_none_or(|id| d.device_id == id)).collect();
    let devices: Vec<serde_json::Value> = mine
        .iter()
        .take(limit)
        .map(|d| {
            let recs = a.recs.devices.get(&d.device_id);
            serde_json::json!({ "device_id": d.device_id, "device": d.device, "score": d.score, "level": d.level, "recommendations": recs })
        })
        .collect();
    // Labels of the devices a page shows with the site's recommendations.
    let mut labels = serde_json::Map::new();
    let shown = |r: &&Recommendation| {
        let evidence = r.evidence.iter().take(LABELLED).filter_map(|e| e.device_id);
        r.device_ids.iter().take(LABELLED).copied().chain(evidence).collect::<Vec<i64>>()
    };
    for id in site.iter().flat_map(shown) {
        if let Some(d) = a.site.device(id) {
            labels.insert(id.to_string(), serde_json::json!(device_label(d)));
        }
    }
    Ok(Json(
        serde_json::json!({ "site": site, "devices": devices, "total_devices": mine.len(), "labels": labels, "computed_at": a.computed_at }),
    ))
}

// -------------------------------------------------------------------- risk

/// How much of the device list to show.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskParams {
    /// The site (id; the default site when not given).
    site: Option<i64>,
    /// Devices listed at most, riskiest first, 1-100000 (default 100).
    limit: Option<usize>,
}

/// The site's risk score (0-100) with its parts, the devices' scores with
/// theirs (riskiest first), how the scores spread, the ranked attack
/// paths from internet-facing or IT hosts to controllers, and what the
/// assessment could not see.
#[utoipa::path(get, path = "/api/v1/risk", tag = "vulnerabilities", params(RiskParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "`{site, score, level, parts: [{name, points, max, reasons}], devices: [{device_id, device, type, score, level, parts}], total_devices, distribution: [{from, to, devices}], by_level, attack_paths: [{rank, score, entry, hops: [{device_id, device, via, weakness}]}], vulnerabilities, kev, notes, computed_at}`", body = Object),
              (status = 400, description = "Bad parameter"), (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn risk(State(state): State<AppState>, ApiQuery(params): ApiQuery<RiskParams>) -> ApiResult<Json<serde_json::Value>> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=100_000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 100000"));
    }
    let a = assessment(&state, params.site).await?;
    let r = &a.risk;
    let distribution: Vec<serde_json::Value> = a
        .summary
        .distribution
        .iter()
        .enumerate()
        .map(|(i, n)| serde_json::json!({ "from": i * 10, "to": if i == 9 { 100 } else { i * 10 + 9 }, "devices": n }))
        .collect();
    Ok(Json(serde_json::json!({
        "site": r.site,
        "score": r.score,
        "level": r.level,
        "parts": r.parts,
        "devices": r.devices.iter().take(limit).collect::<Vec<_>>(),
        "total_devices": r.devices.len(),
        "distribution": distribution,
        "by_level": a.summary.by_level,
        "attack_paths": r.attack_paths,
        "vulnerabilities": a.summary.vulnerabilities,
        "kev": a.summary.kev,
        "notes": a.notes,
        "computed_at": a.computed_at,
    })))
}

/// The one-device part of `GET /api/v1/devices/{id}`: its matches, its
/// risk with the parts, and its recommendations (with the site's that
/// concern it). Without vulnerability data, empty lists and a note.
pub(super) async fn device_part(state: &AppState, id: i64) -> serde_json::Value {
    let vulns = state.vulns.clone();
    let location = state.pool.location().clone();
    let found = state
        .pool
        .run(move |db| {
            let Some(device) = db.device(id)? else { return Ok(None) };
            let site = site_of_device(db, &device)?;
            vulns.assessment(db, &location, site).map(Some)
        })
        .await;
    match found {
        Ok(None) => serde_json::json!({}),
        Ok(Some(a)) => {
            let vulns: Vec<serde_json::Value> =
                a.site.vulns.get(&id).map(|v| v.iter().map(|m| match_json(m, &a)).collect()).unwrap_or_default();
            let mine: &[Recommendation] = a.recs.devices.get(&id).map_or(&[], Vec::as_slice);
            let site = a.recs.site.iter().filter(|r| r.device_ids.contains(&id) && !mine.iter().any(|m| m.kind == r.kind));
            let recs: Vec<&Recommendation> = mine.iter().chain(site).collect();
            serde_json::json!({
                "vulnerabilities": vulns,
                "risk": a.risk.devices.iter().find(|d| d.device_id == id),
                "recommendations": recs,
            })
        }
        Err(e) => serde_json::json!({ "vulnerabilities": [], "risk": null, "recommendations": [], "vulnerability_note": e.message }),
    }
}

// ----------------------------------------------------------------- reports

/// How to answer a report.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The site (id; the default site when not given).
    site: Option<i64>,
    /// `1` or `true`: as a file to save (Content-Disposition attachment).
    download: Option<String>,
}

/// The security policy of a report page: its own inline styles and
/// images, nothing else (no scripts, no requests).
const REPORT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Writes a report on the blocking pool and answers it as HTML.
async fn report_response(
    state: &AppState,
    params: ReportParams,
    stem: &'static str,
    write: fn(&Assessment, &str) -> String,
) -> ApiResult<Response> {
    let download = match params.download.as_deref() {
        None | Some("") | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(other) => return Err(ApiError::bad_request(format!("download must be 1 or 0, not {other:?}"))),
    };
    let a = assessment(state, params.site).await?;
    let generated = report::generated_now();
    let html = tokio::task::spawn_blocking(move || write(&a, &generated)).await.map_err(|e| ApiError::internal("writing the report", e))?;
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(REPORT_CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if download {
        let name = format!("attachment; filename=\"palisade-{stem}-{}.html\"", chrono::Utc::now().format("%Y-%m-%d"));
        if let Ok(value) = HeaderValue::from_str(&name) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// The risk assessment report of the site: scores with their parts,
/// recommendations with evidence, attack paths. One self-contained HTML
/// page (inline styles and charts, no scripts) that prints cleanly to PDF.
#[utoipa::path(get, path = "/api/v1/reports/risk", tag = "vulnerabilities", params(ReportParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "The report", content_type = "text/html"), (status = 400, description = "Bad parameter"),
              (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn risk_report(State(state): State<AppState>, ApiQuery(params): ApiQuery<ReportParams>) -> ApiResult<Response> {
    report_response(&state, params, "risk-report", |a, generated| report::risk_report(&a.site, &a.recs, &a.risk, generated, &a.notes)).await
}

/// The vulnerability report of the site: every device's matches with the
/// evidence and the fixes. One self-contained HTML page that prints
/// cleanly to PDF.
#[utoipa::path(get, path = "/api/v1/reports/vulns", tag = "vulnerabilities", params(ReportParams),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "The report", content_type = "text/html"), (status = 400, description = "Bad parameter"),
              (status = 503, description = "This console's database cannot hold vulnerability data")))]
async fn vulnerability_report(State(state): State<AppState>, ApiQuery(params): ApiQuery<ReportParams>) -> ApiResult<Response> {
    report_response(&state, params, "vulnerability-report", |a, generated| report::vulnerability_report(&a.site, generated, &a.notes)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_lose_their_folders() {
        assert_eq!(clean_name("C:\\feeds\\nvd.json"), "nvd.json");
        assert_eq!(clean_name("../../etc/kev.json"), "kev.json");
        assert_eq!(clean_name("a\u{7}b.json"), "ab.json");
        assert_eq!(clean_name(""), "upload.json");
    }
}
