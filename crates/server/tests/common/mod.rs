//! A console under test: the real router over SQLite or PostgreSQL, driven
//! in-process, with helpers for logging in and calling the API.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use palisade_engine::{build_inventory, ActivityLog, Observations};
use palisade_server::{AnalysisOutcome, Analyzer, ServerConfig};
use palisade_store::{AnalysisRecord, Location};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// The first admin's password in every test console.
pub const ADMIN_PASSWORD: &str = "first-admin-pass";
/// The password every test user ends up with.
pub const PASSWORD: &str = "a-long-enough-password";

/// Analyses a capture on the calling thread (tests only need correctness).
struct TestAnalyzer;

impl Analyzer for TestAnalyzer {
    fn analyze(
        &self,
        location: &Location,
        site_id: i64,
        capture: &Path,
        name: &str,
        progress: Arc<palisade_sensor::Progress>,
    ) -> anyhow::Result<AnalysisOutcome> {
        let events = palisade_sensor::analyze_path_events(capture).map_err(anyhow::Error::msg)?;
        progress.packets.store(events.len() as u64, Ordering::Relaxed);
        let mut store = palisade_store::open(location)?;
        store.set_site(site_id);
        let mut obs = store.load_observations()?;
        let mut new = Observations::default();
        new.ingest(&events);
        obs.merge(new);
        let mut activity = ActivityLog::default();
        activity.ingest(&events);
        let mut inventory = build_inventory(&obs);
        let run = AnalysisRecord { inputs: vec![name.to_string()], ..Default::default() };
        store.save_analysis(&obs, &mut inventory, &activity, &run)?;
        Ok(AnalysisOutcome { devices: inventory.devices.len(), events: activity.records.len(), ..Default::default() })
    }
}

/// Which database a test console uses.
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server of the tests.
pub fn postgres_url() -> String {
    std::env::var("PALISADE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A console under test.
pub struct Console {
    pub router: Router,
    pub location: Location,
    pub dir: tempfile::TempDir,
    schema: Option<String>,
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            // The blocking client may not run on the async workers: use a thread of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(mut client) = postgres::Client::connect(&postgres_url(), postgres::NoTls) {
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            })
            .join();
        }
    }
}

/// An HTTP answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a request authenticates.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Console {
    /// A fresh console (set up on a thread of its own: opening PostgreSQL blocks).
    pub fn new(backend: Backend) -> Console {
        std::thread::spawn(move || Self::set_up(backend)).join().unwrap()
    }

    fn set_up(backend: Backend) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let (location, schema) = match backend {
            Backend::Sqlite => (Location::Sqlite(dir.path().join("console.db")), None),
            Backend::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let schema = format!("api_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
                let mut client = postgres::Client::connect(&postgres_url(), postgres::NoTls)
                    .unwrap_or_else(|e| panic!("PostgreSQL is needed for these tests ({e}); scripts/test.sh starts it"));
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
                let sep = if postgres_url().contains('?') { '&' } else { '?' };
                (Location::Postgres(format!("{}{sep}options=-csearch_path%3D{schema}", postgres_url())), Some(schema))
            }
        };
        let (router, first) = palisade_server::build(&Self::config(&location, dir.path())).unwrap();
        let first = first.expect("a new console creates its first admin");
        assert_eq!((first.username.as_str(), first.password.as_str()), ("admin", ADMIN_PASSWORD));
        Console { router, location, dir, schema }
    }

    /// The settings of a test console over `location`, its folders in `dir`.
    fn config(location: &Location, dir: &Path) -> ServerConfig {
        ServerConfig {
            location: location.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            upload_dir: dir.join("uploads"),
            max_upload_bytes: 20_000_000,
            analyzer: Arc::new(TestAnalyzer),
            initial_admin_password: Some(ADMIN_PASSWORD.into()),
        }
    }

    /// Starts the console again over the same database and folders, as
    /// `palisade serve` does after a restart (the old router is dropped).
    pub fn restart(&mut self) {
        let config = Self::config(&self.location, self.dir.path());
        let (router, first) = std::thread::spawn(move || palisade_server::build(&config).unwrap()).join().unwrap();
        assert!(first.is_none(), "the admin made at the first start is kept");
        self.router = router;
    }

    /// Runs `work` on the console's database, on a thread of its own (the
    /// PostgreSQL client blocks).
    pub fn with_store<T: Send + 'static>(&self, work: impl FnOnce(&dyn palisade_store::Database) -> T + Send + 'static) -> T {
        let location = self.location.clone();
        std::thread::spawn(move || work(palisade_store::open(&location).unwrap().as_ref())).join().unwrap()
    }

    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Body>, content_type: &str) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(c) = &auth.cookie {
            builder = builder.header(header::COOKIE, c);
        }
        if let Some(c) = &auth.csrf {
            builder = builder.header("x-csrf-token", c);
        }
        if let Some(t) = &auth.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        let request = builder.body(body.unwrap_or_else(Body::empty)).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer { status, headers, body }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Answer {
        self.call(Method::GET, path, auth, None, "").await
    }

    pub async fn send(&self, method: Method, path: &str, auth: &Auth, json: serde_json::Value) -> Answer {
        self.call(method, path, auth, Some(Body::from(json.to_string())), "application/json").await
    }

    /// Logs in; the cookie and CSRF token of the session.
    pub async fn login(&self, username: &str, password: &str) -> Auth {
        let answer = self
            .send(Method::POST, "/api/v1/auth/login", &Auth::default(), serde_json::json!({"username": username, "password": password}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "login of {username}: {}", answer.text());
        let cookie = answer.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
        let csrf = answer.json()["csrf_token"].as_str().unwrap().to_string();
        Auth { cookie: Some(cookie), csrf: Some(csrf), bearer: None }
    }

    /// Logs in as the first admin and sets a password of its own.
    pub async fn admin(&self) -> Auth {
        let auth = self.login("admin", ADMIN_PASSWORD).await;
        let changed = self
            .send(
                Method::POST,
                "/api/v1/auth/password",
                &auth,
                serde_json::json!({"current_password": ADMIN_PASSWORD, "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
        auth
    }

    /// Adds a user with a role (as admin), who then logs in and changes the password.
    pub async fn user(&self, admin: &Auth, username: &str, role: &str) -> Auth {
        let created = self
            .send(
                Method::POST,
                "/api/v1/users",
                admin,
                serde_json::json!({"username": username, "role": role, "password": "temporary-pass-1"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let auth = self.login(username, "temporary-pass-1").await;
        let changed = self
            .send(
                Method::POST,
                "/api/v1/auth/password",
                &auth,
                serde_json::json!({"current_password": "temporary-pass-1", "new_password": PASSWORD}),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
        auth
    }

    /// An API token acting as the caller.
    pub async fn token(&self, auth: &Auth, name: &str) -> Auth {
        let answer = self.send(Method::POST, "/api/v1/tokens", auth, serde_json::json!({ "name": name })).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
        Auth { bearer: Some(answer.json()["secret"].as_str().unwrap().to_string()), ..Default::default() }
    }

    /// Uploads a capture file and waits for its analysis; the finished job.
    pub async fn upload(&self, auth: &Auth, path: &Path) -> serde_json::Value {
        self.upload_into(auth, path, palisade_store::DEFAULT_SITE).await
    }

    /// Uploads a capture file for analysis into a site and waits for it; the finished job.
    pub async fn upload_into(&self, auth: &Auth, path: &Path, site: i64) -> serde_json::Value {
        let bytes = std::fs::read(path).unwrap();
        let target = format!("/api/v1/captures?name=plant.pcap&site={site}");
        let answer = self.call(Method::POST, &target, auth, Some(Body::from(bytes)), "application/octet-stream").await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
        let id = answer.json()["id"].as_u64().unwrap();
        loop {
            let job = self.get(&format!("/api/v1/captures/{id}"), auth).await.json();
            match job["state"].as_str().unwrap() {
                "done" | "failed" => return job,
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    /// Stores alerts straight into the console's database (detection's own
    /// tests cover how they are raised): three from 10.20.20.50 to
    /// 10.20.20.110, one with evidence.
    pub fn store_alerts(&self) -> Vec<i64> {
        let location = self.location.clone();
        let evidence = self.dir.path().join("alert.pcap");
        std::fs::write(&evidence, [0xd4u8, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]).unwrap();
        std::thread::spawn(move || {
            let mut store = palisade_store::open(&location).unwrap();
            let mut alerts: Vec<_> = [
                (palisade_model::AlertCategory::PlcStop, palisade_model::Severity::Critical, "Controller stop"),
                (palisade_model::AlertCategory::NewConnection, palisade_model::Severity::Medium, "New connection"),
                (palisade_model::AlertCategory::CleartextCredentials, palisade_model::Severity::High, "Telnet login in clear text"),
            ]
            .into_iter()
            .enumerate()
            .map(|(i, (category, severity, title))| {
                let mut d = palisade_detect::Draft::new(
                    category,
                    palisade_model::Timestamp(1_736_848_800_000_000_000 + i as i64),
                    title.into(),
                    "why".into(),
                );
                d.severity = severity;
                d.src_ip = Some("10.20.20.50".parse().unwrap());
                d.dst_ip = Some("10.20.20.110".parse().unwrap());
                d.into_alert()
            })
            .collect();
            store.save_detection(&mut alerts, &[], &palisade_detect::Learning::default()).unwrap();
            store.set_alert_evidence(alerts[0].id, &evidence.display().to_string(), 0).unwrap();
            alerts.iter().map(|a| a.id).collect()
        })
        .join()
        .unwrap()
    }

    /// A small generated plant capture in the console's folder.
    pub fn demo_capture(&self) -> PathBuf {
        let path = self.dir.path().join("plant.pcap");
        let options = palisade_demo::DemoOptions { duration_secs: 60, ..Default::default() };
        let file = std::fs::File::create(&path).unwrap();
        palisade_demo::write_demo_capture(&options, std::io::BufWriter::new(file)).unwrap();
        path
    }
}
