//! The API suite: the same tests against SQLite and against the real
//! PostgreSQL server, through the real router.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{Auth, Backend, Console, ADMIN_PASSWORD, PASSWORD};

async fn first_login_requires_a_new_password(backend: Backend) {
    let console = Console::new(backend);
    let anonymous = console.get("/api/v1/devices", &Auth::default()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.json()["error"].as_str().unwrap().contains("log in"));
    let auth = console.login("admin", ADMIN_PASSWORD).await;
    let me = console.get("/api/v1/auth/me", &auth).await.json();
    assert_eq!(me["must_change_password"], true);
    let blocked = console.get("/api/v1/devices", &auth).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert!(blocked.json()["error"].as_str().unwrap().contains("change your password"));
    let weak = console
        .send(
            Method::POST,
            "/api/v1/auth/password",
            &auth,
            serde_json::json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let wrong = console
        .send(Method::POST, "/api/v1/auth/password", &auth, serde_json::json!({"current_password": "nope", "new_password": PASSWORD}))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let no_csrf = Auth { csrf: None, ..auth.clone() };
    let forged = console
        .send(
            Method::POST,
            "/api/v1/auth/password",
            &no_csrf,
            serde_json::json!({"current_password": ADMIN_PASSWORD, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "state changes need the CSRF header");
    assert!(forged.json()["error"].as_str().unwrap().contains("CSRF"));
    let ok = console
        .send(
            Method::POST,
            "/api/v1/auth/password",
            &auth,
            serde_json::json!({"current_password": ADMIN_PASSWORD, "new_password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(console.get("/api/v1/devices", &auth).await.status, StatusCode::OK);
    let out = console.call(Method::POST, "/api/v1/auth/logout", &auth, None, "").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(console.get("/api/v1/devices", &auth).await.status, StatusCode::UNAUTHORIZED, "the session ended");
    console.login("admin", PASSWORD).await;
}

async fn logins_are_rate_limited(backend: Backend) {
    let console = Console::new(backend);
    let bad = serde_json::json!({"username": "admin", "password": "wrong-password"});
    for _ in 0..5 {
        let answer = console.send(Method::POST, "/api/v1/auth/login", &Auth::default(), bad.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error"], "wrong user name or password");
    }
    let locked = console
        .send(Method::POST, "/api/v1/auth/login", &Auth::default(), serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(locked.json()["error"].as_str().unwrap().contains("try again"));
}

async fn an_uploaded_capture_fills_the_inventory(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let analyst = console.user(&admin, "ana", "security-analyst").await;
    let capture = console.demo_capture();
    let job = console.upload(&analyst, &capture).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["name"], "plant.pcap");
    assert_eq!(job["user"], "ana");
    let devices = job["outcome"]["devices"].as_u64().unwrap();
    assert!(devices > 10, "{job}");

    // Paging with a cursor walks every device once.
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    let mut total = None;
    loop {
        let page = console.get(&format!("/api/v1/devices?limit=7&sort=ip&count=true&cursor={cursor}"), &analyst).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        total = total.or(page["total"].as_u64());
        for d in page["items"].as_array().unwrap() {
            assert!(seen.insert(d["id"].as_i64().unwrap()), "device listed twice");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, devices);
    assert_eq!(total, Some(devices));

    let plcs = console.get("/api/v1/devices?type=plc&limit=1000", &analyst).await.json();
    let plc_list = plcs["items"].as_array().unwrap();
    assert!(!plc_list.is_empty());
    assert!(plc_list.iter().all(|d| d["type"] == "plc" && d["purdue_level"] == 1));
    let id = plc_list[0]["id"].as_i64().unwrap();
    let one = console.get(&format!("/api/v1/devices/{id}"), &analyst).await.json();
    assert_eq!(one["device"]["id"], id);
    assert!(!one["device"]["facts"].as_array().unwrap().is_empty(), "facts with their sources");
    assert!(one["device"]["facts"][0]["source"].is_string());
    assert_eq!(one["vulnerabilities"], serde_json::json!([]));
    let ip = plc_list[0]["ips"][0].as_str().unwrap().to_string();
    let searched = console.get(&format!("/api/v1/devices?search={ip}"), &analyst).await.json();
    assert!(searched["items"].as_array().unwrap().iter().any(|d| d["id"] == id));

    let overview = console.get("/api/v1/overview", &analyst).await.json();
    assert_eq!(overview["devices"]["total"].as_u64(), Some(devices));
    assert_eq!(overview["devices"]["by_type"]["plc"].as_u64(), Some(plc_list.len() as u64));
    let map = console.get("/api/v1/map", &analyst).await.json();
    assert_eq!(map["nodes"].as_array().unwrap().len() as u64, devices);
    let connections = console.get("/api/v1/connections", &analyst).await;
    assert_eq!(connections.status, StatusCode::OK, "{}", connections.text());
    assert_eq!(console.get("/api/v1/connections?limit=0", &analyst).await.status, StatusCode::BAD_REQUEST);
    let events = console.get("/api/v1/events?limit=5", &analyst).await.json();
    assert!(events["items"].as_array().unwrap().len() <= 5);

    let csv = console.get("/api/v1/inventory/export?format=csv&type=plc", &analyst).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("inventory.csv"));
    let text = csv.text();
    assert!(text.starts_with("id,ips,macs,hostnames,vendor"));
    assert_eq!(text.lines().count(), plc_list.len() + 1);
    let json = console.get("/api/v1/inventory/export?format=json", &analyst).await.json();
    assert_eq!(json.as_array().unwrap().len() as u64, devices);

    let analyses = console.get("/api/v1/analyses", &analyst).await.json();
    assert_eq!(analyses["items"][0]["inputs"][0], "plant.pcap");
    let sensors = console.get("/api/v1/sensors", &analyst).await.json();
    assert_eq!(sensors["items"][0]["analyses"], 1);
}

async fn bad_requests_get_json_errors(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let cases = [
        ("/api/v1/devices?limit=0", StatusCode::BAD_REQUEST, "limit"),
        ("/api/v1/devices?limit=abc", StatusCode::BAD_REQUEST, "query"),
        ("/api/v1/devices?sort=colour", StatusCode::BAD_REQUEST, "unknown sort"),
        ("/api/v1/devices?order=sideways", StatusCode::BAD_REQUEST, "order"),
        ("/api/v1/devices?type=toaster", StatusCode::BAD_REQUEST, "device type"),
        ("/api/v1/devices?purdue_level=9", StatusCode::BAD_REQUEST, "purdue_level"),
        ("/api/v1/devices?protocol=carrier-pigeon", StatusCode::BAD_REQUEST, "protocol"),
        ("/api/v1/devices?cursor=garbage", StatusCode::BAD_REQUEST, "cursor"),
        ("/api/v1/devices?sort=last_seen&cursor=1.7a", StatusCode::BAD_REQUEST, "cursor"),
        ("/api/v1/devices/abc", StatusCode::BAD_REQUEST, "path"),
        ("/api/v1/devices/424242", StatusCode::NOT_FOUND, "no device"),
        ("/api/v1/events?ip=not-an-ip", StatusCode::BAD_REQUEST, "IP"),
        ("/api/v1/events?type=other", StatusCode::BAD_REQUEST, "type"),
        ("/api/v1/inventory/export?format=xls", StatusCode::BAD_REQUEST, "format"),
        ("/api/v1/captures/77", StatusCode::NOT_FOUND, "no upload"),
        ("/api/v1/nowhere", StatusCode::NOT_FOUND, "no such endpoint"),
    ];
    for (path, status, words) in cases {
        let answer = console.get(path, &admin).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        let error = answer.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains(words), "{path}: {error}");
    }
    let bad_json = console.call(Method::POST, "/api/v1/users", &admin, Some(Body::from("{not json")), "application/json").await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert!(bad_json.json()["error"].as_str().unwrap().contains("JSON"));
    let missing = console.send(Method::POST, "/api/v1/users", &admin, serde_json::json!({"username": "x"})).await;
    assert!(missing.status.is_client_error(), "{}", missing.status);
    assert!(missing.json()["error"].as_str().unwrap().contains("role"), "{}", missing.text());
    let bad_role = console
        .send(Method::POST, "/api/v1/users", &admin, serde_json::json!({"username": "x", "role": "god", "password": PASSWORD}))
        .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST);
    let method = console.call(Method::DELETE, "/api/v1/devices", &admin, None, "").await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(method.json()["error"].is_string());
    let setting = console.send(Method::PUT, "/api/v1/settings", &admin, serde_json::json!({"session_hours": "99999"})).await;
    assert_eq!(setting.status, StatusCode::BAD_REQUEST);
    let unknown = console.send(Method::PUT, "/api/v1/settings", &admin, serde_json::json!({"colour": "red"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    // Uploads are checked: empty, not a capture, too large.
    let upload = |body: Vec<u8>| console.call(Method::POST, "/api/v1/captures", &admin, Some(Body::from(body)), "application/octet-stream");
    let empty = upload(Vec::new()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.json()["error"].as_str().unwrap().contains("empty"));
    let gif = upload(b"GIF89a not a capture".to_vec()).await;
    assert_eq!(gif.status, StatusCode::BAD_REQUEST);
    assert!(gif.json()["error"].as_str().unwrap().contains("not a capture"));
    let mut huge = vec![0u8; 20_000_001];
    huge[..4].copy_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1]);
    let large = upload(huge).await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(std::fs::read_dir(console.dir.path().join("uploads")).unwrap().next().is_none(), "rejected uploads are deleted");
}

async fn users_tokens_sites_and_settings(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let viewer = console.user(&admin, "vic", "read-only").await;
    let users = console.get("/api/v1/users", &admin).await.json();
    let names: Vec<&str> = users["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "vic"]);
    let dup = console
        .send(Method::POST, "/api/v1/users", &admin, serde_json::json!({"username": "vic", "role": "admin", "password": PASSWORD}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let token = console.token(&viewer, "nightly export").await;
    assert!(token.bearer.as_deref().unwrap().starts_with("plt_"));
    assert_eq!(console.get("/api/v1/devices", &token).await.status, StatusCode::OK);
    let denied = console.send(Method::POST, "/api/v1/sites", &token, serde_json::json!({"name": "x"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "a token has its user's role");
    let listed = console.get("/api/v1/tokens", &viewer).await.json();
    assert_eq!(listed["items"][0]["name"], "nightly export");
    assert!(listed["items"][0]["last_used"].is_string());
    assert!(!listed.to_string().contains(token.bearer.as_deref().unwrap()), "secrets are never listed");

    let vic_id = users["items"][1]["id"].as_i64().unwrap();
    let promoted =
        console.send(Method::PATCH, &format!("/api/v1/users/{vic_id}"), &admin, serde_json::json!({"role": "security-analyst"})).await;
    assert_eq!(promoted.json()["role"], "security-analyst");
    assert_eq!(console.get("/api/v1/devices", &viewer).await.status, StatusCode::UNAUTHORIZED, "a role change ends sessions");
    let me = console.get("/api/v1/auth/me", &token).await.json();
    assert_eq!(me["user"]["role"], "security-analyst", "tokens follow the user's role");
    let admin_id = console.get("/api/v1/auth/me", &admin).await.json()["user"]["id"].as_i64().unwrap();
    let demote_self =
        console.send(Method::PATCH, &format!("/api/v1/users/{admin_id}"), &admin, serde_json::json!({"role": "read-only"})).await;
    assert_eq!(demote_self.status, StatusCode::BAD_REQUEST);
    let disabled = console.send(Method::PATCH, &format!("/api/v1/users/{vic_id}"), &admin, serde_json::json!({"disabled": true})).await;
    assert_eq!(disabled.json()["disabled"], true);
    assert_eq!(console.get("/api/v1/devices", &token).await.status, StatusCode::UNAUTHORIZED, "disabled users' tokens stop");
    let login = console
        .send(Method::POST, "/api/v1/auth/login", &Auth::default(), serde_json::json!({"username": "vic", "password": PASSWORD}))
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(console.call(Method::DELETE, &format!("/api/v1/users/{vic_id}"), &admin, None, "").await.status, StatusCode::NO_CONTENT);
    assert_eq!(console.call(Method::DELETE, &format!("/api/v1/users/{vic_id}"), &admin, None, "").await.status, StatusCode::NOT_FOUND);

    let site = console.send(Method::POST, "/api/v1/sites", &admin, serde_json::json!({"name": "Line 2", "description": "packaging"})).await;
    assert_eq!(site.status, StatusCode::CREATED);
    let sites = console.get("/api/v1/sites", &admin).await.json();
    assert_eq!(sites["items"].as_array().unwrap().len(), 2);
    let saved =
        console.send(Method::PUT, "/api/v1/settings", &admin, serde_json::json!({"site_name": "North plant", "session_hours": "8"})).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let settings = console.get("/api/v1/settings", &admin).await.json();
    let value = |key: &str| settings["items"].as_array().unwrap().iter().find(|i| i["key"] == key).unwrap()["value"].clone();
    assert_eq!((value("site_name"), value("session_hours")), (serde_json::json!("North plant"), serde_json::json!("8")));
    let relogin = console.login("admin", PASSWORD).await;
    let _ = relogin;
}

async fn the_ui_is_served_with_security_headers(backend: Backend) {
    let console = Console::new(backend);
    let page = console.get("/", &Auth::default()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<title>Palisade</title>"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let script = console.get("/ui/app.js", &Auth::default()).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(console.get("/ui/nothing.js", &Auth::default()).await.status, StatusCode::NOT_FOUND);
    let doc = console.get("/api/v1/openapi.json", &Auth::default()).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(console.get("/api/v1/health", &Auth::default()).await.json()["status"], "ok");
}

async fn alerts_are_worked_through_the_api(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let analyst = console.user(&admin, "ana", "security-analyst").await;
    let viewer = console.user(&admin, "vic", "read-only").await;
    let ids = console.store_alerts();
    let list = console.get("/api/v1/alerts?status=open", &viewer).await.json();
    let titles: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Telnet login in clear text", "New connection", "Controller stop"], "newest first");
    let critical = console.get("/api/v1/alerts?severity=critical", &viewer).await.json();
    assert_eq!(critical["items"].as_array().unwrap().len(), 1);
    assert_eq!(critical["items"][0]["category"], "plc-stop");
    let one = console.get(&format!("/api/v1/alerts/{}", ids[0]), &viewer).await.json();
    assert_eq!(one["alert"]["engine"], "operational");
    assert_eq!(one["alert"]["src_ip"], "10.20.20.50");

    let denied =
        console.send(Method::POST, &format!("/api/v1/alerts/{}/status", ids[0]), &viewer, serde_json::json!({"status": "closed"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let acked = console
        .send(Method::POST, &format!("/api/v1/alerts/{}/status", ids[0]), &analyst, serde_json::json!({"status": "acknowledged"}))
        .await;
    assert_eq!(acked.json()["status"], "acknowledged");
    let bad =
        console.send(Method::POST, &format!("/api/v1/alerts/{}/status", ids[0]), &analyst, serde_json::json!({"status": "deleted"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bulk = console
        .send(Method::POST, "/api/v1/alerts/bulk", &analyst, serde_json::json!({"ids": [ids[1], ids[2], 999_999], "status": "muted"}))
        .await;
    assert_eq!(bulk.json(), serde_json::json!({"changed": 2, "missing": [999_999]}));
    let open = console.get("/api/v1/alerts?status=open", &viewer).await.json();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let muted = console.get("/api/v1/alerts?status=muted", &viewer).await.json();
    assert_eq!(muted["items"].as_array().unwrap().len(), 2);
    for path in [
        "/api/v1/alerts?status=gone",
        "/api/v1/alerts?severity=urgent",
        "/api/v1/alerts?engine=magic",
        "/api/v1/alerts?category=x",
        "/api/v1/alerts?limit=5000",
    ] {
        assert_eq!(console.get(path, &viewer).await.status, StatusCode::BAD_REQUEST, "{path}");
    }

    let pcap = console.get(&format!("/api/v1/alerts/{}/evidence", ids[0]), &viewer).await;
    assert_eq!(pcap.status, StatusCode::OK);
    assert_eq!(pcap.headers["content-type"], "application/vnd.tcpdump.pcap");
    assert_eq!(&pcap.body[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    assert_eq!(console.get(&format!("/api/v1/alerts/{}/evidence", ids[1]), &viewer).await.status, StatusCode::NOT_FOUND);

    let overview = console.get("/api/v1/overview", &viewer).await.json();
    assert_eq!(overview["alerts"]["open_by_severity"]["critical"], 1);
    assert_eq!(overview["alerts"]["top_risks"][0]["ip"], "10.20.20.110");
    let diff = console.get("/api/v1/baseline/diff?from=2025-01-14T00:00:00Z&to=2025-01-15T00:00:00Z", &viewer).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text());
    assert!(diff.json()["added"].is_array());
    let bad_diff = console.get("/api/v1/baseline/diff?from=yesterday&to=2025-01-15T00:00:00Z", &viewer).await;
    assert_eq!(bad_diff.status, StatusCode::BAD_REQUEST);
}

async fn the_overview_follows_the_site(backend: Backend) {
    let console = Console::new(backend);
    let admin = console.admin().await;
    let viewer = console.user(&admin, "vic", "read-only").await;
    let line2 = console.send(Method::POST, "/api/v1/sites", &admin, serde_json::json!({ "name": "line 2" })).await.json();
    let line2 = line2["id"].as_i64().unwrap();
    // The plant's devices go to line 2; the default site holds only alerts (on hosts it has no device for).
    let job = console.upload_into(&admin, &console.demo_capture(), line2).await;
    assert_eq!(job["state"], "done", "{job}");
    let devices = job["outcome"]["devices"].as_u64().unwrap();
    console.store_alerts();

    let overview = |site: &str| {
        let path = format!("/api/v1/overview{site}");
        let (console, viewer) = (&console, &viewer);
        async move {
            let answer = console.get(&path, viewer).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text());
            answer.json()
        }
    };
    let all = overview("").await;
    let plant = overview(&format!("?site={line2}")).await;
    let default = overview("?site=1").await;
    assert_eq!(all["devices"]["total"].as_u64(), Some(devices));
    assert_eq!(plant["devices"], all["devices"], "every device is line 2's");
    assert_eq!(default["devices"]["total"], 0);
    assert_eq!(default["devices"]["by_type"], serde_json::json!({}));
    assert_eq!(default["devices"]["by_purdue_level"], serde_json::json!({}));
    let plc = plant["devices"]["by_type"]["plc"].as_u64().unwrap();
    let plcs = console.get(&format!("/api/v1/devices?site={line2}&type=plc&limit=1000"), &viewer).await.json();
    assert_eq!(plcs["items"].as_array().unwrap().len() as u64, plc, "the counts are the lists' counts");

    assert_eq!(default["alerts"]["open_by_severity"], serde_json::json!({"critical": 1, "high": 1, "medium": 1}));
    assert_eq!(default["alerts"]["timeline"].as_array().unwrap().len(), 1);
    assert_eq!(default["alerts"]["top_risks"][0]["ip"], "10.20.20.110");
    assert!(default["alerts"]["top_risks"][0]["device_id"].is_null(), "10.20.20.110 is a device of line 2, not of this site");
    assert_eq!(all["alerts"]["top_risks"][0]["ip"], "10.20.20.110");
    assert_eq!(plant["alerts"]["open_by_severity"], serde_json::json!({}));
    assert_eq!(plant["alerts"]["timeline"], serde_json::json!([]));
    assert_eq!(plant["alerts"]["top_risks"], serde_json::json!([]));
    assert_eq!(overview("?site=999").await["devices"]["total"], 0, "a site without data has nothing to count");
    // The inventory export follows the site too; without one it holds every site's devices.
    let exported = |site: String| {
        let (console, viewer) = (&console, &viewer);
        async move { console.get(&format!("/api/v1/inventory/export?format=json{site}"), viewer).await.json() }
    };
    assert_eq!(exported(format!("&site={line2}")).await.as_array().unwrap().len() as u64, devices);
    assert_eq!(exported("&site=1".into()).await, serde_json::json!([]));
    assert_eq!(exported(String::new()).await.as_array().unwrap().len() as u64, devices);
    let csv = console.get(&format!("/api/v1/inventory/export?site={line2}&type=plc"), &viewer).await.text();
    assert_eq!(csv.lines().count() as u64, plc + 1, "the header and line 2's PLCs");
    assert_eq!(console.get("/api/v1/overview?site=north", &viewer).await.status, StatusCode::BAD_REQUEST);
}

async fn unfinished_uploads_fail_after_a_restart(backend: Backend) {
    let mut console = Console::new(backend);
    let admin = console.admin().await;
    let done = console.upload(&admin, &console.demo_capture()).await;
    assert_eq!(done["state"], "done", "{done}");
    // The console stops while one upload is being analysed and another waits:
    // their rows say so, and the running one's file is half kept.
    let (running, queued) = console.with_store(|db| {
        let now = "2026-01-01T00:00:00Z";
        let running = db.create_job("half.pcap", 1_000_000, "admin", 1, now).unwrap();
        db.update_job(running.id, "running", 1234, None, None).unwrap();
        let queued = db.create_job("next.pcap", 2_000, "admin", 1, now).unwrap();
        (running.id, queued.id)
    });
    let part = console.dir.path().join("uploads").join("upload-interrupted.part");
    std::fs::write(&part, b"half a capture").unwrap();
    let before = console.get(&format!("/api/v1/captures/{running}"), &admin).await.json();
    assert_eq!(before["state"], "running", "{before}");

    console.restart();
    // Sessions are stored: the admin is still logged in.
    for id in [running, queued] {
        let job = console.get(&format!("/api/v1/captures/{id}"), &admin).await;
        assert_eq!(job.status, StatusCode::OK, "{}", job.text());
        let job = job.json();
        assert_eq!(job["state"], "failed", "{job}");
        assert!(job["error"].as_str().unwrap_or_default().contains("interrupted by a restart"), "{job}");
    }
    let kept = console.get(&format!("/api/v1/captures/{}", done["id"]), &admin).await.json();
    assert_eq!((&kept["state"], &kept["outcome"]), (&done["state"], &done["outcome"]), "a finished job is kept as it was");
    assert!(!part.exists(), "the half-kept upload is removed");
    let list = console.get("/api/v1/captures", &admin).await.json();
    let states: Vec<&str> = list["items"].as_array().unwrap().iter().map(|j| j["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["failed", "failed", "done"], "newest first");
    // The console works on: a new upload is analysed.
    assert_eq!(console.upload(&admin, &console.demo_capture()).await["state"], "done");
}

/// Runs each named test on one backend, in a module of its own.
macro_rules! api_suite {
    ($module:ident, $backend:expr, $($test:ident),+ $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($backend).await;
                }
            )+
        }
    };
}

/// Every test of the suite on both backends.
macro_rules! api_suites {
    ($($test:ident),+ $(,)?) => {
        api_suite!(sqlite, Backend::Sqlite, $($test),+);
        api_suite!(postgres, Backend::Postgres, $($test),+);
    };
}

api_suites!(
    first_login_requires_a_new_password,
    logins_are_rate_limited,
    an_uploaded_capture_fills_the_inventory,
    bad_requests_get_json_errors,
    users_tokens_sites_and_settings,
    alerts_are_worked_through_the_api,
    the_overview_follows_the_site,
    unfinished_uploads_fail_after_a_restart,
    the_ui_is_served_with_security_headers,
);
