//! A remote sensor's results reach the console: a real `palisade serve`,
//! a site and a sensor made through the API, a plant capture analysed into
//! the sensor's own database, `palisade sync` to the console, and the
//! console's device list of that site. A bad bundle is refused whole.
//! Over HTTPS, a console whose certificate a private CA signed is reached
//! with `--ca-cert`, and refused in one clear line without it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};

const BIN: &str = env!("CARGO_BIN_EXE_palisade");
const FIRST_PASSWORD: &str = "sync-test-first-password";
const PASSWORD: &str = "sync-test-own-password";

/// The console, stopped when dropped.
struct Console(Child);

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An HTTP answer: status and JSON body.
struct Answer {
    status: u16,
    head: String,
    json: serde_json::Value,
}

/// The client of the HTTPS test, which trusts the test's CA.
static TLS_AGENT: OnceLock<ureq::Agent> = OnceLock::new();

/// One request to an https:// console.
fn tls_call(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let agent = TLS_AGENT.get().expect("the HTTPS test's client");
    let mut request = agent.request(method, &format!("{base}{path}"));
    for (k, v) in headers {
        request = request.set(k, v);
    }
    let response = match request.send_bytes(body) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let head = response.headers_names().iter().map(|n| format!("{}: {}\n", n.to_lowercase(), response.header(n).unwrap_or(""))).collect();
    let json = serde_json::from_str(&response.into_string().unwrap()).unwrap_or(serde_json::Value::Null);
    Answer { status, head, json }
}

/// One HTTP/1.1 request to the console on 127.0.0.1 (over TLS for an https:// console).
fn call(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    if base.starts_with("https://") {
        return tls_call(base, method, path, headers, body);
    }
    let authority = base.trim_start_matches("http://").replace("localhost", "127.0.0.1");
    let mut stream = TcpStream::connect(&authority).expect("the console listens");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let json = serde_json::from_slice(&answer[split + 4..]).unwrap_or(serde_json::Value::Null);
    Answer { status, head, json }
}

/// An admin session: the cookie and CSRF headers.
fn log_in(base: &str) -> Vec<(String, String)> {
    let login = |password: &str| {
        let body = serde_json::json!({ "username": "admin", "password": password }).to_string();
        call(base, "POST", "/api/v1/auth/login", &[("Content-Type", "application/json")], body.as_bytes())
    };
    let first = login(FIRST_PASSWORD);
    assert_eq!(first.status, 200, "{}", first.json);
    let cookie = |a: &Answer| {
        a.head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).and_then(|c| c.split(';').next()).expect("a session cookie").to_string()
    };
    let headers = [("Cookie", cookie(&first)), ("X-CSRF-Token", first.json["csrf_token"].as_str().unwrap().to_string())];
    let change = serde_json::json!({ "current_password": FIRST_PASSWORD, "new_password": PASSWORD }).to_string();
    let mut h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    h.push(("Content-Type", "application/json"));
    assert!(call(base, "POST", "/api/v1/auth/password", &h, change.as_bytes()).status < 300);
    let again = login(PASSWORD);
    vec![("Cookie".into(), cookie(&again)), ("X-CSRF-Token".into(), again.json["csrf_token"].as_str().unwrap().to_string())]
}

fn admin_call(base: &str, session: &[(String, String)], method: &str, path: &str, body: &[u8], json: bool) -> Answer {
    let mut h: Vec<(&str, &str)> = session.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.push(("Content-Type", if json { "application/json" } else { "application/octet-stream" }));
    call(base, method, path, &h, body)
}

fn devices_of(base: &str, session: &[(String, String)], site: i64) -> Vec<String> {
    let page = admin_call(base, session, "GET", &format!("/api/v1/devices?site={site}&limit=1000"), b"", true);
    assert_eq!(page.status, 200, "{}", page.json);
    page.json["items"].as_array().unwrap().iter().map(|d| d["macs"][0].as_str().unwrap_or("").to_string()).collect()
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "palisade {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_console(dir: &Path, extra: &[&str]) -> (Console, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--db", &dir.join("console.db").display().to_string(), "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("PALISADE_INITIAL_ADMIN_PASSWORD", FIRST_PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let console = Console(child);
    let mut lines = BufReader::new(stdout).lines();
    let url = lines.find_map(|l| l.ok()?.strip_prefix("Palisade console: ").map(str::to_string)).expect("the console started");
    // Read what the console prints after its URL too, so it never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (console, url)
}

/// A new site with a remote sensor: the site's id and the sensor's token.
fn site_with_sensor(base: &str, session: &[(String, String)], name: &str) -> (i64, String) {
    let body = serde_json::json!({ "name": name }).to_string();
    let site = admin_call(base, session, "POST", "/api/v1/sites", body.as_bytes(), true);
    assert_eq!(site.status, 201, "{}", site.json);
    let site_id = site.json["id"].as_i64().unwrap();
    let body = serde_json::json!({ "site_id": site_id, "name": "station-gw" }).to_string();
    let sensor = admin_call(base, session, "POST", "/api/v1/sensors", body.as_bytes(), true);
    assert_eq!(sensor.status, 201, "{}", sensor.json);
    (site_id, sensor.json["token"].as_str().unwrap().to_string())
}

/// A private CA and a console certificate it signed (for localhost and
/// 127.0.0.1), written as PEM files: the CA's certificate, the console's
/// certificate and key.
fn private_ca(dir: &Path) -> [String; 3] {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Plant test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let console = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = console.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let files = [("ca.pem", ca_cert.pem()), ("console.pem", cert.pem()), ("console.key", key.serialize_pem())];
    files.map(|(name, text)| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    })
}

#[test]
fn a_remote_sensor_syncs_over_https_with_the_plants_ca() {
    let dir = tempfile::tempdir().unwrap();
    let [ca, cert, key] = private_ca(dir.path());
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::pem::PemObject::pem_file_iter(&ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let _ = TLS_AGENT.set(ureq::AgentBuilder::new().tls_config(Arc::new(config)).build());
    let (_console, base) = start_console(dir.path(), &["--tls-cert", &cert, "--tls-key", &key]);
    assert!(base.starts_with("https://"), "{base}");
    let session = log_in(&base);
    let (site_id, token) = site_with_sensor(&base, &session, "tank farm");
    let sensor_db = dir.path().join("sensor.db").display().to_string();
    let capture = dir.path().join("plant.pcap").display().to_string();
    run(&["demo", "--no-serve", "--duration", "30", "--db", &sensor_db, "--capture", &capture]);
    let local: Vec<serde_json::Value> = serde_json::from_str(&run(&["devices", "--db", &sensor_db, "--json"])).unwrap();

    // Without the plant's CA the console is not trusted: one clear line, exit code 1, nothing sent.
    let refused = Command::new(BIN).args(["sync", "--db", &sensor_db, "--console", &base, "--token", &token]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("palisade: the console's TLS certificate at https://"), "{stderr}");
    assert!(stderr.contains("--ca-cert"), "{stderr}");
    assert!(devices_of(&base, &session, site_id).is_empty());
    // A file that is no certificate is named as such.
    let bad = Command::new(BIN)
        .args(["sync", "--db", &sensor_db, "--console", &base, "--token", &token, "--ca-cert", &sensor_db])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--ca-cert"), "{}", String::from_utf8_lossy(&bad.stderr));

    let out = run(&["sync", "--db", &sensor_db, "--console", &base, "--token", &token, "--ca-cert", &ca]);
    assert!(out.contains(&format!("the console stored {} devices", local.len())), "{out}");
    assert_eq!(devices_of(&base, &session, site_id).len(), local.len(), "every device of the sensor reached the site");

    // Skipping the check works too, with a warning.
    let skipped = Command::new(BIN)
        .args(["sync", "--db", &sensor_db, "--console", &base, "--token", &token, "--insecure-skip-verify", "--full"])
        .output()
        .unwrap();
    assert!(skipped.status.success(), "{}", String::from_utf8_lossy(&skipped.stderr));
    assert!(String::from_utf8_lossy(&skipped.stderr).contains("warning: --insecure-skip-verify"));
    assert_eq!(devices_of(&base, &session, site_id).len(), local.len());
}

#[test]
fn a_remote_sensor_syncs_into_its_site() {
    let dir = tempfile::tempdir().unwrap();
    let (_console, base) = start_console(dir.path(), &[]);
    let session = log_in(&base);
    let (site_id, token) = site_with_sensor(&base, &session, "pump station");

    // The sensor analyses on its own site, into its own database.
    let sensor_db = dir.path().join("sensor.db").display().to_string();
    let capture = dir.path().join("plant.pcap").display().to_string();
    run(&["demo", "--no-serve", "--duration", "60", "--db", &sensor_db, "--capture", &capture]);
    let local: Vec<serde_json::Value> = serde_json::from_str(&run(&["devices", "--db", &sensor_db, "--json"])).unwrap();
    assert!(local.len() > 10);
    assert!(devices_of(&base, &session, site_id).is_empty());

    let out = run(&["sync", "--db", &sensor_db, "--console", &base, "--token", &token]);
    assert!(out.contains("the console stored"), "{out}");
    let synced = devices_of(&base, &session, site_id);
    assert_eq!(synced.len(), local.len(), "every device of the sensor reached the site");
    assert!(devices_of(&base, &session, 1).is_empty(), "the default site got none of them");
    // Again: nothing new, nothing doubled.
    run(&["sync", "--db", &sensor_db, "--console", &base, "--token", &token]);
    assert_eq!(devices_of(&base, &session, site_id).len(), local.len());
    let sites = admin_call(&base, &session, "GET", "/api/v1/sites", b"", true);
    let station = sites.json["items"].as_array().unwrap().iter().find(|s| s["id"] == site_id).unwrap().clone();
    assert_eq!(station["devices"].as_u64(), Some(local.len() as u64));
    assert!(station["sensors"][0]["last_sync"].is_string(), "{station}");

    // A sensor token only syncs; a wrong one is refused.
    let bad_token = call(&base, "POST", "/api/v1/sync", &[("Authorization", "Bearer pls_wrong")], b"{}");
    assert_eq!(bad_token.status, 401);
    let as_user = call(&base, "GET", "/api/v1/devices", &[("Authorization", &format!("Bearer {token}"))], b"");
    assert_eq!(as_user.status, 401);
    let auth = format!("Bearer {token}");
    let garbage = call(&base, "POST", "/api/v1/sync", &[("Authorization", &auth)], b"not a bundle");
    assert_eq!(garbage.status, 400);
    assert!(garbage.json["error"].as_str().unwrap().contains("not a sync bundle"), "{}", garbage.json);

    // Air-gapped: the same bundle as a file, imported by an admin.
    let file = dir.path().join("bundle.json.gz");
    run(&["sync", "--db", &sensor_db, "--export", &file.display().to_string()]);
    let bytes = std::fs::read(&file).unwrap();
    let site2 = admin_call(&base, &session, "POST", "/api/v1/sites", br#"{"name": "offline plant"}"#, true).json["id"].as_i64().unwrap();
    // A bundle with one bad device stores nothing, not even its good ones.
    let mut json = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut json).unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first_id = bad["devices"][0]["id"].clone();
    bad["devices"][1]["id"] = first_id;
    let refused = admin_call(&base, &session, "POST", &format!("/api/v1/sites/{site2}/import"), bad.to_string().as_bytes(), false);
    assert_eq!(refused.status, 400, "{}", refused.json);
    assert!(refused.json["error"].is_string());
    assert!(devices_of(&base, &session, site2).is_empty(), "nothing of a refused bundle is stored");
    let imported = admin_call(&base, &session, "POST", &format!("/api/v1/sites/{site2}/import"), &bytes, false);
    assert_eq!(imported.status, 200, "{}", imported.json);
    assert_eq!(devices_of(&base, &session, site2).len(), local.len());
}
