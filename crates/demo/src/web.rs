//! Web traffic: browsing the cameras' web interfaces over HTTP and TLS 1.3 / 1.2 sessions
//! from office PCs to Internet services through the router.

use crate::encode::T_A;
use crate::names;
use crate::plant::{self, Host};
use crate::sim::{Sim, MS, SEC};
use std::net::Ipv4Addr;

/// Browser User-Agent of the office PCs.
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// An HTTP/1.1 GET.
pub(crate) fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\nUser-Agent: {USER_AGENT}\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
         Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n"
    )
    .into_bytes()
}

/// An HTTP/1.1 200 response with `body`.
pub(crate) fn http_ok(server: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nDate: Tue, 14 Jan 2025 10:00:00 GMT\r\nServer: {server}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A PC opens a camera's web interface: two requests on one keep-alive connection.
fn browse_camera(sim: &mut Sim, ts: i64, pc: &Host, camera: &Host) {
    let host = camera.ip.to_string();
    let (server, page, second) = if camera.ip == plant::CAMERA_AXIS.ip {
        (
            "Apache",
            ("/index.html", "text/html", "<html><head><title>AXIS P3245-LV Network Camera</title></head><body><div id=\"app\"></div><script src=\"/js/app.js\"></script></body></html>"),
            (
                "/axis-cgi/param.cgi?action=list&group=Brand",
                "text/plain",
                "root.Brand.Brand=AXIS\r\nroot.Brand.ProdFullName=AXIS P3245-LV Network Camera\r\nroot.Brand.ProdNbr=P3245-LV\r\nroot.Brand.ProdType=Network Camera\r\n",
            ),
        )
    } else {
        (
            "App-webs/",
            ("/doc/page/login.asp", "text/html", "<!DOCTYPE html><html><head><title>Login</title><meta charset=\"utf-8\"></head><body class=\"login\"><div id=\"login\"></div></body></html>"),
            ("/SDK/language", "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Language><type>English</type></Language>"),
        )
    };
    let mut conn = sim.connect(ts, pc.ip, camera.ip, 80);
    let mut t = conn.t + 300_000;
    for (path, ctype, body) in [page, second] {
        let think = sim.jitter(3 * MS, 20 * MS);
        t = sim.exchange_acked(&mut conn, t, &http_get(&host, path), &http_ok(server, ctype, body), think);
        t += sim.jitter(200 * MS, 2 * SEC);
    }
    sim.close(&mut conn, false, t + 5 * SEC);
}

/// Appends a TLS extension.
pub(crate) fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A TLS record.
pub(crate) fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A handshake message.
pub(crate) fn handshake(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A vector with a 1- or 2-byte length prefix.
pub(crate) fn prefixed(wide: bool, data: &[u8]) -> Vec<u8> {
    let mut out = if wide { (data.len() as u16).to_be_bytes().to_vec() } else { vec![data.len() as u8] };
    out.extend_from_slice(data);
    out
}

/// A browser ClientHello for `sni`; `tls13` adds supported_versions and a key share.
fn client_hello(sim: &mut Sim, sni: &str, session_id: &[u8], tls13: bool) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend(sim.rng.bytes(32));
    body.extend(prefixed(false, session_id));
    let suites: &[u16] = if tls13 {
        &[0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    } else {
        &[0xc02b, 0xc02f, 0xc02c, 0xc030, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    };
    let suites: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    body.extend(prefixed(true, &suites));
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    let mut name = vec![0];
    name.extend(prefixed(true, sni.as_bytes()));
    extension(&mut ext, 0x0000, &prefixed(true, &name));
    extension(&mut ext, 0x0017, &[]);
    extension(&mut ext, 0xff01, &[0]);
    extension(&mut ext, 0x000a, &prefixed(true, &[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]));
    extension(&mut ext, 0x000b, &[1, 0]);
    extension(&mut ext, 0x0023, &[]);
    extension(&mut ext, 0x0010, &prefixed(true, b"\x02h2\x08http/1.1"));
    let sig_algs: Vec<u8> =
        [0x0403u16, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].iter().flat_map(|s| s.to_be_bytes()).collect();
    extension(&mut ext, 0x000d, &prefixed(true, &sig_algs));
    if tls13 {
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend(sim.rng.bytes(32));
        extension(&mut ext, 0x0033, &prefixed(true, &share));
        extension(&mut ext, 0x002d, &[1, 1]);
        extension(&mut ext, 0x002b, &prefixed(false, &[0x03, 0x04, 0x03, 0x03]));
    }
    body.extend(prefixed(true, &ext));
    record(22, 0x0301, &handshake(1, &body))
}

/// The server's ServerHello with `suite`, echoing `session_id`.
pub(crate) fn server_hello(sim: &mut Sim, session_id: &[u8], suite: u16, tls13: bool) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend(sim.rng.bytes(32));
    body.extend(prefixed(false, session_id));
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    let mut ext = Vec::new();
    if tls13 {
        let mut share = vec![0x00, 0x1d, 0x00, 0x20];
        share.extend(sim.rng.bytes(32));
        extension(&mut ext, 0x0033, &share);
        extension(&mut ext, 0x002b, &[0x03, 0x04]);
    } else {
        extension(&mut ext, 0xff01, &[0]);
        extension(&mut ext, 0x0017, &[]);
    }
    body.extend(prefixed(true, &ext));
    record(22, 0x0303, &handshake(2, &body))
}

/// ChangeCipherSpec record.
pub(crate) fn change_cipher_spec() -> Vec<u8> {
    record(20, 0x0303, &[1])
}

/// An encrypted record of `len` random bytes (`content_type` 22 for TLS 1.2 Finished, 23 for data).
pub(crate) fn encrypted(sim: &mut Sim, content_type: u8, len: usize) -> Vec<u8> {
    let body = sim.rng.bytes(len);
    record(content_type, 0x0303, &body)
}

/// An HTTPS visit: DNS lookup, TLS 1.3 handshake, a request and response, close.
fn visit_tls13(sim: &mut Sim, ts: i64, pc: &Host, name: &str) {
    let resolved = names::resolve(sim, ts, pc.ip, name, T_A);
    let Some(server) = names::zone_addr(name) else { return };
    let delay = sim.jitter(MS, 5 * MS);
    let mut conn = sim.connect(resolved + delay, pc.ip, server, 443);
    let session_id = sim.rng.bytes(32);
    let hello = client_hello(sim, name, &session_id, true);
    let mut flight = server_hello(sim, &session_id, 0x1301, true);
    flight.extend(change_cipher_spec());
    let certs = sim.rng.range(2400, 4600) as usize;
    flight.extend(encrypted(sim, 23, certs));
    let delay = sim.jitter(2 * MS, 10 * MS);
    let at = conn.t + 300_000;
    let t = sim.exchange_acked(&mut conn, at, &hello, &flight, delay);
    let mut finished = change_cipher_spec();
    finished.extend(encrypted(sim, 23, 53));
    let request_len = sim.rng.range(300, 700) as usize;
    finished.extend(encrypted(sim, 23, request_len));
    let response_len = sim.rng.range(900, 9000) as usize;
    let response = encrypted(sim, 23, response_len);
    let think = sim.jitter(10 * MS, 80 * MS);
    let t = sim.exchange_acked(&mut conn, t + MS, &finished, &response, think);
    let alert = encrypted(sim, 23, 19);
    let delay = sim.jitter(2 * SEC, 8 * SEC);
    let t = sim.send(&mut conn, true, t + delay, &alert);
    sim.close(&mut conn, true, t + 200_000);
}

/// A TLS 1.2 session resumption (no certificate exchange) to a vendor support site.
fn visit_tls12_resumed(sim: &mut Sim, ts: i64, pc: &Host) {
    let name = "support.industry.siemens.com";
    let resolved = names::resolve(sim, ts, pc.ip, name, T_A);
    let server = names::zone_addr(name).unwrap_or(Ipv4Addr::new(23, 48, 204, 94));
    let mut conn = sim.connect(resolved + MS, pc.ip, server, 443);
    let session_id = sim.rng.bytes(32);
    let hello = client_hello(sim, name, &session_id, false);
    let mut flight = server_hello(sim, &session_id, 0xc02f, false);
    flight.extend(change_cipher_spec());
    flight.extend(encrypted(sim, 22, 40));
    let think = sim.jitter(2 * MS, 10 * MS);
    let at = conn.t + 300_000;
    let t = sim.exchange(&mut conn, at, &hello, &flight, think);
    let mut finished = change_cipher_spec();
    finished.extend(encrypted(sim, 22, 40));
    finished.extend(encrypted(sim, 23, 420));
    let response = encrypted(sim, 23, 5200);
    let think = sim.jitter(20 * MS, 90 * MS);
    let t = sim.exchange_acked(&mut conn, t + MS, &finished, &response, think);
    let alert = encrypted(sim, 21, 26);
    let t = sim.send(&mut conn, true, t + 3 * SEC, &alert);
    sim.close(&mut conn, true, t + 200_000);
}

/// Schedules web traffic of the whole capture.
pub(crate) fn generate(sim: &mut Sim) {
    let pcs = plant::office_pcs();
    let mut t = sim.start + sim.jitter(SEC, 5 * SEC);
    while t < sim.end - 20 * SEC {
        let pc = pcs[sim.rng.range(0, pcs.len() as i64) as usize];
        let name = names::BROWSED[sim.rng.range(0, names::BROWSED.len() as i64) as usize];
        visit_tls13(sim, t, &pc, name);
        t += sim.jitter(3 * SEC, 9 * SEC);
    }
    let it = pcs[pcs.len() - 1];
    for fraction in [0.1, 0.45, 0.8] {
        let t = sim.at(fraction);
        visit_tls12_resumed(sim, t, &it);
    }
    // The reception PC watches the cameras.
    let reception = pcs[pcs.len() - 2];
    let mut t = sim.start + sim.jitter(10 * SEC, 30 * SEC);
    while t < sim.end - 30 * SEC {
        browse_camera(sim, t, &reception, &plant::CAMERA_AXIS);
        let delay = sim.jitter(5 * SEC, 15 * SEC);
        browse_camera(sim, t + delay, &reception, &plant::CAMERA_HIK);
        t += sim.jitter(90 * SEC, 150 * SEC);
    }
}
