//! The Palisade console: one binary serves the REST API under `/api/v1`
//! (documented by the OpenAPI document at `/api/v1/openapi.json`, generated
//! from the handlers) and the web UI, whose assets are embedded. Data lives
//! in SQLite or PostgreSQL through `palisade_store`; the role each endpoint
//! needs is written in its OpenAPI entry and checked on every request.

mod api;
pub mod assessment;
pub mod auth;
mod error;
mod extract;
mod jobs;
mod pool;
mod ui;

pub use error::ApiError;
pub use jobs::{AnalysisOutcome, Analyzer, JobState, JobView};

use anyhow::Context;
use auth::{hash_password, random_password, Requirements};
use axum::Router;
use palisade_store::Location;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How to run the console.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where the data lives.
    pub location: Location,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// TLS certificate and key (PEM files); plain HTTP without them.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where uploads wait for analysis.
    pub upload_dir: PathBuf,
    /// Largest capture accepted by upload, in bytes.
    pub max_upload_bytes: u64,
    /// Analyses uploaded captures.
    pub analyzer: Arc<dyn Analyzer>,
    /// The first admin's password when there is no user yet (generated when `None`).
    pub initial_admin_password: Option<String>,
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pool: Arc<pool::Pool>,
    requirements: Arc<Requirements>,
    limiter: Arc<auth::LoginLimiter>,
    auth_cache: Arc<auth::AuthCache>,
    jobs: Arc<jobs::Jobs>,
    analyzer: Arc<dyn Analyzer>,
    upload_dir: PathBuf,
    max_upload_bytes: u64,
    secure_cookies: bool,
    openapi: Arc<serde_json::Value>,
    vulns: Arc<assessment::VulnState>,
}

/// The first admin, when this start created one.
#[derive(Clone, Debug)]
pub struct FirstAdmin {
    /// Login name.
    pub username: String,
    /// Password, to be changed at first login.
    pub password: String,
}

/// The OpenAPI document of the API.
pub fn openapi() -> serde_json::Value {
    let (_, doc) = api::routes().split_for_parts();
    serde_json::to_value(&doc).unwrap_or_default()
}

/// A console over the store at `config.location`: its router, and the
/// first admin's credentials if there was no user yet. It opens the
/// database, so call it off the async workers (PostgreSQL's client blocks).
///
/// The first admin's
/// password is `config.initial_admin_password` when set, else generated;
/// either way it must be changed at first login.
pub fn build(config: &ServerConfig) -> anyhow::Result<(Router, Option<FirstAdmin>)> {
    let pool = pool::Pool::open(config.location.clone(), 64).with_context(|| format!("opening {}", config.location.display()))?;
    let first_admin = ensure_first_admin(&config.location, config.initial_admin_password.as_deref())?;
    std::fs::create_dir_all(&config.upload_dir).with_context(|| format!("creating {}", config.upload_dir.display()))?;
    jobs::recover(palisade_store::open(&config.location)?.as_ref(), &config.upload_dir)?;
    let (api_router, doc) = api::routes().split_for_parts();
    let doc = serde_json::to_value(&doc).context("writing the OpenAPI document")?;
    let state = AppState {
        pool,
        requirements: Arc::new(Requirements::from_openapi(&doc)),
        limiter: Arc::default(),
        auth_cache: Arc::default(),
        jobs: Arc::default(),
        analyzer: config.analyzer.clone(),
        upload_dir: config.upload_dir.clone(),
        max_upload_bytes: config.max_upload_bytes,
        secure_cookies: config.tls.is_some(),
        openapi: Arc::new(doc),
        vulns: Arc::default(),
    };
    let router = api_router
        .merge(ui::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), assessment::note_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authorize))
        .layer(axum::middleware::from_fn(ui::security_headers))
        .with_state(state);
    Ok((router, first_admin))
}

fn ensure_first_admin(location: &Location, password: Option<&str>) -> anyhow::Result<Option<FirstAdmin>> {
    let store = palisade_store::open(location)?;
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let password = password.filter(|p| !p.is_empty()).map_or_else(random_password, str::to_string);
    let hash = hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_user("admin", "admin", &hash, true, &auth::rfc3339_now())?;
    Ok(Some(FirstAdmin { username: "admin".into(), password }))
}

/// Serves the console until Ctrl-C. `ready` is called once listening,
/// with the URL and the first admin's credentials (if created now).
pub async fn serve(config: ServerConfig, ready: impl FnOnce(&str, Option<&FirstAdmin>)) -> anyhow::Result<()> {
    let setup = config.clone();
    let (router, first_admin) = tokio::task::spawn_blocking(move || build(&setup)).await.context("console set-up")??;
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let task = match &config.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| format!("loading the TLS certificate {} and key {}", cert.display(), key.display()))?;
            tokio::spawn(axum_server::bind_rustls(config.listen, tls).handle(handle.clone()).serve(app))
        }
        None => tokio::spawn(axum_server::bind(config.listen).handle(handle.clone()).serve(app)),
    };
    match handle.listening().await {
        Some(listening) => ready(&format!("{scheme}://{}", display_addr(listening)), first_admin.as_ref()),
        None => {
            task.await.context("server task")?.with_context(|| format!("listening on {}", config.listen))?;
            anyhow::bail!("the server did not start listening on {}", config.listen);
        }
    }
    task.await.context("server task")?.context("serving")?;
    Ok(())
}

/// `localhost` for loopback addresses, so the printed URL is the one people type.
fn display_addr(addr: SocketAddr) -> String {
    if addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}
