//! The web UI: plain HTML, CSS and JavaScript modules embedded in the
//! binary, and the security headers every answer carries.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The embedded files: name, content type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../ui/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../ui/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../ui/api.js")),
    ("charts.js", "text/javascript; charset=utf-8", include_str!("../ui/charts.js")),
    ("pages.js", "text/javascript; charset=utf-8", include_str!("../ui/pages.js")),
    ("map.js", "text/javascript; charset=utf-8", include_str!("../ui/map.js")),
    ("baseline.js", "text/javascript; charset=utf-8", include_str!("../ui/baseline.js")),
    ("vulns.js", "text/javascript; charset=utf-8", include_str!("../ui/vulns.js")),
    ("logo.svg", "image/svg+xml", include_str!("../ui/logo.svg")),
];

const INDEX: &str = include_str!("../ui/index.html");

/// The UI's routes.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(index)).route("/ui/{file}", get(asset))
}

/// The single page.
pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX).into_response()
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            ([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// Adds the headers that keep the console from being framed, sniffed or
/// made to run foreign scripts. A content security policy the answer sets
/// itself is kept (reports: their inline styles and nothing else).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ];
    for (name, value) in set {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
