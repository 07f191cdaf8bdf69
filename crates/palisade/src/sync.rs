//! `palisade sync`: a remote sensor sends what it analysed into its own
//! database since its last successful sync to the console (gzip JSON over
//! HTTP, in batches, each remembered once stored, so an interrupted sync
//! goes on where it stopped), or writes it to a file that an admin imports
//! at the console (sites without a link).

use crate::output::open_existing;
use crate::EXIT_OK;
use anyhow::{bail, Context};
use clap::Args;
use flate2::write::GzEncoder;
use palisade_store::{ConsoleStore, SyncBundle, SyncCursor, SyncStore};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `palisade sync`.
#[derive(Args)]
pub struct SyncArgs {
    /// The sensor's database (what `palisade analyze` wrote).
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    /// The console's URL, e.g. http://console.example:8080.
    #[arg(long, required_unless_present = "export", conflicts_with = "export", requires = "token")]
    console: Option<String>,
    /// The sensor's token, shown once when an admin created the sensor.
    #[arg(long)]
    token: Option<String>,
    /// Write the bundle to this file instead, for an admin to import at the console
    /// (Settings, or POST /api/v1/sites/{id}/import).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Events per request (the rest follow in more requests).
    #[arg(long, default_value_t = 50_000)]
    batch: usize,
    /// Send everything again, not only what changed since the last sync.
    #[arg(long)]
    full: bool,
}

/// The setting that keeps where the next sync to `target` starts.
fn cursor_key(target: &str) -> String {
    format!("sync:{target}")
}

/// `palisade sync`.
pub fn sync(args: &SyncArgs) -> anyhow::Result<u8> {
    let store = open_existing(&args.db)?;
    let target = match (&args.console, &args.export) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(_)) => "export".to_string(),
        (None, None) => bail!("name the console (--console URL --token TOKEN) or a file to write (--export FILE)"),
    };
    let key = cursor_key(&target);
    let mut cursor: SyncCursor = match store.settings()?.get(&key) {
        Some(text) if !args.full => {
            serde_json::from_str(text).with_context(|| format!("the stored sync position {key:?} is unreadable; run with --full"))?
        }
        _ => SyncCursor::default(),
    };
    let source = args.db.display().to_string();
    if let Some(file) = &args.export {
        let bundle = store.sync_bundle(&cursor, usize::MAX, &source)?;
        let body = gzip(&bundle)?;
        std::fs::write(file, &body).with_context(|| format!("writing {}", file.display()))?;
        store.set_setting(&key, &serde_json::to_string(&bundle.next)?)?;
        println!(
            "wrote {} ({} bytes): {} devices, {} events, {} alerts; import it at the console (Settings → Sites, or POST /api/v1/sites/ID/import)",
            file.display(),
            body.len(),
            bundle.devices.len(),
            bundle.events.len(),
            bundle.alerts.len()
        );
        return Ok(EXIT_OK);
    }
    let token = args.token.as_deref().unwrap_or_default();
    let mut sent = 0;
    loop {
        let bundle = store.sync_bundle(&cursor, args.batch, &source)?;
        let answer = post(&target, "/api/v1/sync", token, &gzip(&bundle)?)?;
        let stored = answer.get("stored").cloned().unwrap_or_default();
        println!(
            "sent {} devices, {} events, {} alerts; the console stored {} devices, {} events, {} alerts",
            bundle.devices.len(),
            bundle.events.len(),
            bundle.alerts.len(),
            stored["devices"],
            stored["events"],
            stored["alerts"]
        );
        cursor = bundle.next.clone();
        store.set_setting(&key, &serde_json::to_string(&cursor)?)?;
        sent += 1;
        if !bundle.more || sent > 100_000 {
            break;
        }
    }
    Ok(EXIT_OK)
}

/// The bundle as gzip-compressed JSON.
fn gzip(bundle: &SyncBundle) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut encoder, bundle)?;
    Ok(encoder.finish()?)
}

/// Host, port and path prefix of an `http://` URL.
fn parse_url(url: &str) -> anyhow::Result<(String, u16, String)> {
    if url.starts_with("https://") {
        bail!("{url}: palisade sync speaks plain HTTP only for now; reach the console through a TLS tunnel, or use --export");
    }
    let rest = url.strip_prefix("http://").with_context(|| format!("{url:?} is not an http:// URL"))?;
    let (authority, path) = rest.split_once('/').map_or((rest, String::new()), |(a, p)| (a, format!("/{}", p.trim_end_matches('/'))));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h.to_string(), p.parse().with_context(|| format!("bad port in {url:?}"))?),
        _ => (authority.to_string(), 80),
    };
    if host.is_empty() {
        bail!("{url:?} names no host");
    }
    Ok((host, port, path))
}

/// POSTs `body` and returns the JSON answer; an error answer is an error
/// with the console's message.
fn post(url: &str, path: &str, token: &str, body: &[u8]) -> anyhow::Result<serde_json::Value> {
    let (host, port, prefix) = parse_url(url)?;
    let mut stream = TcpStream::connect((host.as_str(), port)).with_context(|| format!("connecting to the console at {url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    stream.set_write_timeout(Some(Duration::from_secs(600)))?;
    let head = format!(
        "POST {prefix}{path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).with_context(|| format!("sending to {url}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).with_context(|| format!("reading the answer of {url}"))?;
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").with_context(|| format!("{url} did not answer HTTP"))?;
    let (head, rest) = answer.split_at(split);
    let head = String::from_utf8_lossy(head);
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).with_context(|| format!("{url} did not answer HTTP"))?;
    let chunked =
        head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
    let payload = rest.get(4..).unwrap_or_default();
    let payload = if chunked { unchunk(payload) } else { payload.to_vec() };
    let json: serde_json::Value = serde_json::from_slice(&payload).unwrap_or(serde_json::Value::Null);
    if !(200..300).contains(&status) {
        let message =
            json.get("error").and_then(|e| e.as_str()).map_or_else(|| String::from_utf8_lossy(&payload).into_owned(), str::to_string);
        bail!("the console answered {status}: {message}");
    }
    Ok(json)
}

/// The body of a chunked HTTP answer.
fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            std::str::from_utf8(&data[..end]).ok().and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let Some(chunk) = data.get(end + 2..end + 2 + size) else { break };
        out.extend_from_slice(chunk);
        data = data.get(end + 4 + size..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_chunked_answers_are_read() {
        assert_eq!(parse_url("http://c.example:8080").unwrap(), ("c.example".into(), 8080, String::new()));
        assert_eq!(parse_url("http://c.example/console/").unwrap(), ("c.example".into(), 80, "/console".into()));
        assert!(parse_url("https://c.example").is_err());
        assert!(parse_url("ftp://c.example").is_err());
        assert_eq!(unchunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(unchunk(b"zz\r\n"), b"");
    }
}
