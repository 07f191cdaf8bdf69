//! Capture upload: the body is streamed to disk (bounded in size, its
//! format checked from the first bytes), then analysed in the background;
//! the job reports its progress.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::jobs::Jobs;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_capture, list_captures)).routes(routes!(get_capture))
}

/// The first bytes of the capture formats accepted: pcap (both byte orders,
/// µs and ns), pcapng, gzip.
const MAGICS: &[[u8; 4]] =
    &[[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x0a, 0x0d, 0x0d, 0x0a]];

fn is_capture(head: &[u8]) -> bool {
    head.get(..2) == Some(&[0x1f, 0x8b]) || MAGICS.iter().any(|m| head.get(..4) == Some(m.as_slice()))
}

/// Upload parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, shown in the job list (default `upload.pcap`).
    name: Option<String>,
    /// The site (id) whose inventory the capture is analysed into (default: the default site, 1).
    site: Option<i64>,
}

/// Uploads a capture (pcap, pcapng, or either gzip-compressed) as the raw
/// request body. It is analysed in the background into the inventory of a
/// site, with detection, like `palisade analyze`; follow the job at
/// `/api/v1/captures/{id}` (its result lists packets, devices, new devices,
/// events, alerts raised and errors).
#[utoipa::path(post, path = "/api/v1/captures", tag = "captures", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The capture file"),
    security(("session" = ["security-analyst"]), ("token" = ["security-analyst"])),
    responses((status = 202, description = "Accepted: the job", body = Object), (status = 400, description = "Empty, not a capture, or no such site"),
              (status = 413, description = "Larger than the server accepts")))]
async fn upload_capture(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let limit = state.max_upload_bytes;
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("captures larger than {limit} bytes are not accepted here"));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let site = params.site.unwrap_or(palisade_store::DEFAULT_SITE);
    let known = state.pool.run(move |db| Ok(db.sites()?.iter().any(|s| s.id == site))).await?;
    if !known {
        return Err(ApiError::bad_request(format!("there is no site with id {site}; see GET /api/v1/sites")));
    }
    let name: String = params.name.unwrap_or_else(|| "upload.pcap".into()).chars().filter(|c| !c.is_control()).take(200).collect();
    let path = state.upload_dir.join(format!("upload-{}.part", crate::auth::random_secret()));
    let mut file = tokio::fs::File::create(&path).await.map_err(|e| ApiError::internal("saving the upload", e))?;
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(4);
    let result: ApiResult<()> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the upload was interrupted: {e}")))?;
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                return Err(too_large());
            }
            if head.len() < 4 {
                head.extend(chunk.iter().take(4 - head.len()));
                if head.len() == 4 && !is_capture(&head) {
                    return Err(ApiError::bad_request("this is not a capture file (expected pcap, pcapng or gzip)"));
                }
            }
            file.write_all(&chunk).await.map_err(|e| ApiError::internal("saving the upload", e))?;
        }
        if size == 0 {
            return Err(ApiError::bad_request("the upload is empty; send the capture file as the request body"));
        }
        if !is_capture(&head) {
            return Err(ApiError::bad_request("this is not a capture file (expected pcap, pcapng or gzip)"));
        }
        file.flush().await.map_err(|e| ApiError::internal("saving the upload", e))
    }
    .await;
    drop(file);
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    let user = caller.user.username.clone();
    let job = match state.pool.run(move |db| Ok(db.create_job(&name, size, &user, site, &crate::auth::rfc3339_now())?)).await {
        Ok(job) => job,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    let view = state.jobs.view(&job);
    state.jobs.start(job, path, state.pool.clone(), state.analyzer.clone());
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!(view))))
}

/// Uploaded captures (the latest 200), newest first, with their progress
/// and results; they are kept across restarts.
#[utoipa::path(get, path = "/api/v1/captures", tag = "captures",
    security(("session" = ["read-only"]), ("token" = ["read-only"])), responses((status = 200, description = "Jobs", body = Object)))]
async fn list_captures(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let jobs = state.jobs.clone();
    state
        .pool
        .run(move |db| Ok(Json(serde_json::json!({ "items": db.jobs(Jobs::LIST)?.iter().map(|j| jobs.view(j)).collect::<Vec<_>>() }))))
        .await
}

/// One upload and the progress of its analysis.
#[utoipa::path(get, path = "/api/v1/captures/{id}", tag = "captures", params(("id" = u64, Path, description = "Job id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "The job", body = Object), (status = 404, description = "No such job")))]
async fn get_capture(State(state): State<AppState>, ApiPath(id): ApiPath<u64>) -> ApiResult<Json<serde_json::Value>> {
    let jobs = state.jobs.clone();
    let job = state.pool.run(move |db| Ok(db.job(i64::try_from(id).unwrap_or(i64::MAX))?)).await?;
    job.map(|j| Json(serde_json::json!(jobs.view(&j)))).ok_or_else(|| ApiError::not_found(format!("no upload with id {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_formats_are_recognised() {
        assert!(is_capture(&[0xd4, 0xc3, 0xb2, 0xa1]));
        assert!(is_capture(&[0x0a, 0x0d, 0x0d, 0x0a]));
        assert!(is_capture(&[0x1f, 0x8b, 0x08, 0x00]));
        assert!(!is_capture(b"GIF8"));
        assert!(!is_capture(&[0xd4]));
    }
}
