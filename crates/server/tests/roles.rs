//! Role tests: walks the OpenAPI document the server publishes and calls
//! every operation as every kind of caller, checking that each role can do
//! exactly what the document says (and that nothing is public by mistake).

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{Auth, Backend, Console};

/// The only operations anyone may call without logging in.
const PUBLIC: &[(&str, &str)] = &[("post", "/api/v1/auth/login"), ("get", "/api/v1/health"), ("get", "/api/v1/openapi.json")];

/// Least role rank an operation needs: `None` public, 0 any logged-in user
/// (even one who must change the password), 1 read-only, 2 analyst, 3 admin,
/// 4 a remote sensor's token only (no user may call it).
fn need(op: &serde_json::Value) -> Option<u8> {
    let scope = op["security"][0].as_object()?.values().next()?[0].as_str()?;
    Some(match scope {
        "any" => 0,
        "read-only" => 1,
        "security-analyst" => 2,
        "admin" => 3,
        "sensor" => 4,
        other => panic!("unknown scope {other}"),
    })
}

async fn every_role_can_do_exactly_what_the_document_says(backend: Backend) {
    let console = Console::new(backend);
    let admin_session = console.admin().await;
    let analyst = console.user(&admin_session, "ana", "security-analyst").await;
    let viewer = console.user(&admin_session, "vic", "read-only").await;
    let callers: Vec<(&str, u8, Auth)> = vec![
        ("anonymous", 0, Auth::default()),
        ("read-only", 1, console.token(&viewer, "t").await),
        ("security-analyst", 2, console.token(&analyst, "t").await),
        ("admin", 3, console.token(&admin_session, "t").await),
    ];
    // A user who has not yet changed the first password (session cookie).
    let created = console
        .send(
            Method::POST,
            "/api/v1/users",
            &admin_session,
            serde_json::json!({"username": "newbie", "role": "admin", "password": "temporary-pass-1"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let newbie = console.login("newbie", "temporary-pass-1").await;

    let doc = console.get("/api/v1/openapi.json", &Auth::default()).await.json();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let need = need(op);
            let is_public = PUBLIC.contains(&(method.as_str(), path.as_str()));
            assert_eq!(need.is_none(), is_public, "{method} {path}: public only if listed as such");
            let concrete = path.split('/').map(|seg| if seg.starts_with('{') { "999999" } else { seg }).collect::<Vec<_>>().join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(m, Method::POST | Method::PUT | Method::PATCH);
            for (name, rank, auth) in &callers {
                let answer = console.call(m.clone(), &concrete, auth, body.then(|| Body::from("{}")), "application/json").await;
                let allowed = match need {
                    None => true,
                    Some(0) => *rank >= 1 || *name != "anonymous",
                    Some(n) => *name != "anonymous" && *rank >= n,
                };
                if allowed {
                    assert!(
                        answer.status != StatusCode::UNAUTHORIZED && answer.status != StatusCode::FORBIDDEN,
                        "{name} should be allowed {method} {path}, got {}: {}",
                        answer.status,
                        answer.text()
                    );
                } else {
                    let expected = if *name == "anonymous" || need == Some(4) { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
                    assert_eq!(answer.status, expected, "{name} must not {method} {path}: {}", answer.text());
                    assert!(answer.json()["error"].is_string());
                }
                assert!(!answer.status.is_server_error(), "{name} {method} {path}: {} {}", answer.status, answer.text());
                checked += 1;
            }
            if need.is_some_and(|n| n >= 1) && !(m == Method::POST && path == "/api/v1/auth/logout") {
                let answer = console.call(m.clone(), &concrete, &newbie, body.then(|| Body::from("{}")), "application/json").await;
                let expected = if need == Some(4) { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
                assert_eq!(answer.status, expected, "a user with the first password must not {method} {path}");
            }
        }
    }
    assert!(checked >= 4 * 25, "walked {checked} calls: the document lists too few operations");
    // The vulnerability endpoints are among those walked: importing is for admins, reading for everyone.
    let vulnerability_endpoints = [
        ("post", "/api/v1/vulndb/import", "admin"),
        ("get", "/api/v1/vulndb/import/{id}", "admin"),
        ("get", "/api/v1/vulndb/status", "read-only"),
        ("get", "/api/v1/vulnerabilities", "read-only"),
        ("get", "/api/v1/recommendations", "read-only"),
        ("get", "/api/v1/risk", "read-only"),
        ("get", "/api/v1/reports/risk", "read-only"),
        ("get", "/api/v1/reports/vulns", "read-only"),
    ];
    for (method, path, scope) in vulnerability_endpoints {
        assert_eq!(need(&doc["paths"][path][method]), need(&serde_json::json!({"security": [{"token": [scope]}]})), "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_roles() {
    every_role_can_do_exactly_what_the_document_says(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_roles() {
    every_role_can_do_exactly_what_the_document_says(Backend::Postgres).await;
}
