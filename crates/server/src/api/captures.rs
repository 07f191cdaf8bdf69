//! Capture upload: the body is streamed to disk (bounded in size, its
//! format checked from the first bytes), then analysed in the background;
//! the job reports its progress.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
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
}

/// Uploads a capture (pcap, pcapng, or either gzip-compressed) as the raw
/// request body. It is analysed in the background into the inventory;
/// follow the job at `/api/v1/captures/{id}`.
#[utoipa::path(post, path = "/api/v1/captures", tag = "captures", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The capture file"),
    security(("session" = ["security-analyst"]), ("token" = ["security-analyst"])),
    responses((status = 202, description = "Accepted: the job", body = Object), (status = 400, description = "Empty or not a capture"),
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
    let id = state.jobs.add(name, size, caller.user.username.clone());
    state.jobs.start(id, path, state.pool.location().clone(), state.analyzer.clone());
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!(state.jobs.get(id)))))
}

/// Uploaded captures of this server run, newest first, with their progress.
#[utoipa::path(get, path = "/api/v1/captures", tag = "captures",
    security(("session" = ["read-only"]), ("token" = ["read-only"])), responses((status = 200, description = "Jobs", body = Object)))]
async fn list_captures(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "items": state.jobs.list() }))
}

/// One upload and the progress of its analysis.
#[utoipa::path(get, path = "/api/v1/captures/{id}", tag = "captures", params(("id" = u64, Path, description = "Job id")),
    security(("session" = ["read-only"]), ("token" = ["read-only"])),
    responses((status = 200, description = "The job", body = Object), (status = 404, description = "No such job")))]
async fn get_capture(State(state): State<AppState>, ApiPath(id): ApiPath<u64>) -> ApiResult<Json<serde_json::Value>> {
    state.jobs.get(id).map(|job| Json(serde_json::json!(job))).ok_or_else(|| ApiError::not_found(format!("no upload with id {id}")))
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
