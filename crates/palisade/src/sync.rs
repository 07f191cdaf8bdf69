//! `palisade sync`: a remote sensor sends what it analysed into its own
//! database since its last successful sync to the console (gzip JSON over
//! HTTP or HTTPS, in batches, each remembered once stored, so an interrupted sync
//! goes on where it stopped), or writes it to a file that an admin imports
//! at the console (sites without a link).

use crate::output::open_existing;
use crate::EXIT_OK;
use anyhow::{bail, Context};
use clap::Args;
use flate2::write::GzEncoder;
use palisade_store::{ConsoleStore, SyncBundle, SyncCursor, SyncStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `palisade sync`.
#[derive(Args)]
pub struct SyncArgs {
    /// The sensor's database (what `palisade analyze` wrote).
    #[arg(long, default_value = "palisade.db")]
    db: PathBuf,
    /// The console's URL, e.g. https://console.example:8443 (or http://).
    #[arg(long, required_unless_present = "export", conflicts_with = "export", requires = "token")]
    console: Option<String>,
    /// Trust only the CA certificates in this PEM file for an https:// console (a plant's
    /// private CA, or the console's own self-signed certificate) instead of the public web roots.
    #[arg(long, requires = "console", conflicts_with = "insecure_skip_verify")]
    ca_cert: Option<PathBuf>,
    /// DANGEROUS: do not check the https:// console's certificate at all. The traffic is
    /// encrypted, but anyone on the path can pose as the console and take the token and the
    /// data. For a first test only; use --ca-cert.
    #[arg(long, requires = "console")]
    insecure_skip_verify: bool,
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
    let trust = match (&args.ca_cert, args.insecure_skip_verify) {
        (Some(file), _) => Some(Trust::CaFile(file.clone())),
        (None, true) => {
            eprintln!(
                "palisade: warning: --insecure-skip-verify: the console's certificate is not checked; anyone on the path can \
                 pose as the console and take the token and the data (use --ca-cert FILE)"
            );
            Some(Trust::Nothing)
        }
        (None, false) => None,
    };
    let agent = agent(&target, trust.as_ref())?;
    let token = args.token.as_deref().unwrap_or_default();
    let mut sent = 0;
    loop {
        let bundle = store.sync_bundle(&cursor, args.batch, &source)?;
        let answer = post(&agent, &target, "/api/v1/sync", token, &gzip(&bundle)?)?;
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

/// How the console's TLS certificate is checked, when not against the
/// public web roots (ureq's own, for a console whose certificate a public
/// CA signed).
enum Trust {
    /// Only the CA certificates in this PEM file (a plant's private CA, or
    /// the console's own self-signed certificate).
    CaFile(PathBuf),
    /// Not at all (`--insecure-skip-verify`).
    Nothing,
}

/// A blocking HTTP(S) client for the console at `url`.
fn agent(url: &str, trust: Option<&Trust>) -> anyhow::Result<ureq::Agent> {
    let https = match url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()) {
        Some(s) if s == "https" => true,
        Some(s) if s == "http" => false,
        _ => bail!("{url:?} is not an http:// or https:// URL"),
    };
    let builder = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(30)).timeout_read(TIMEOUT).timeout_write(TIMEOUT);
    match trust {
        None => Ok(builder.build()),
        Some(_) if !https => bail!("--ca-cert and --insecure-skip-verify are for an https:// console; {url} is plain HTTP"),
        Some(trust) => Ok(builder.tls_config(Arc::new(tls_config(trust)?)).build()),
    }
}

/// Reads and writes of one request may take this long (a large batch is
/// stored in one transaction before the console answers).
const TIMEOUT: Duration = Duration::from_secs(600);

/// The TLS client settings for `trust`.
fn tls_config(trust: &Trust) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().context("setting up TLS")?;
    Ok(match trust {
        Trust::CaFile(path) => builder.with_root_certificates(ca_roots(path)?),
        Trust::Nothing => builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider))),
    }
    .with_no_client_auth())
}

/// The certificates of a PEM file as trust anchors.
fn ca_roots(path: &Path) -> anyhow::Result<rustls::RootCertStore> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let bad = |what: String| anyhow::anyhow!("--ca-cert {}: {what}", path.display());
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot be read ({e})")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("is not PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(bad("holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, certificate) in certificates.into_iter().enumerate() {
        roots.add(certificate).map_err(|e| bad(format!("certificate {} is not usable as a CA: {e}", i + 1)))?;
    }
    Ok(roots)
}

/// Accepts any server certificate (the handshake's signatures are still
/// checked, so the connection is encrypted, but to whom is not known).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS certificate problem behind a failed connection, if that is what failed.
fn certificate_problem(error: &ureq::Transport) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = source {
        let inner = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|i| i as &(dyn std::error::Error + 'static));
        if let Some(rustls::Error::InvalidCertificate(why)) = inner.unwrap_or(e).downcast_ref::<rustls::Error>() {
            return Some(describe_certificate_error(why));
        }
        source = e.source();
    }
    None
}

/// What is wrong with a certificate, in words.
fn describe_certificate_error(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match why {
        E::UnknownIssuer => "it is signed by a CA this sensor does not trust".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => "it is not made out to this host name".into(),
        E::Expired | E::ExpiredContext { .. } => "it has expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet".into(),
        E::Revoked => "it is revoked".into(),
        other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "it is a CA certificate (CA:TRUE) used as the console's own; give the console a certificate without CA:TRUE".into()
        }
        other => format!("{other:?}"),
    }
}

/// POSTs `body` and returns the JSON answer; an error answer is an error
/// with the console's message, a certificate that is not trusted an error
/// that says how to trust it.
fn post(agent: &ureq::Agent, url: &str, path: &str, token: &str, body: &[u8]) -> anyhow::Result<serde_json::Value> {
    let request = agent
        .post(&format!("{url}{path}"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/octet-stream")
        .set("Accept", "application/json");
    let (status, response) = match request.send_bytes(body) {
        Ok(response) => (response.status(), response),
        Err(ureq::Error::Status(status, response)) => (status, response),
        Err(ureq::Error::Transport(t)) => match certificate_problem(&t) {
            Some(why) => bail!(
                "the console's TLS certificate at {url} is not trusted: {why}; pass --ca-cert FILE with the certificate of the CA \
                 that signed it (or the console's own self-signed certificate)"
            ),
            None => bail!("reaching the console at {url}: {t}"),
        },
    };
    let text = response.into_string().with_context(|| format!("reading the answer of {url}"))?;
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if !(200..300).contains(&status) {
        let message = json.get("error").and_then(|e| e.as_str()).map_or(text.as_str(), |m| m);
        bail!("the console answered {status}: {message}");
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_consoles_are_reached() {
        assert!(agent("http://c.example:8080", None).is_ok());
        assert!(agent("https://c.example", None).is_ok());
        assert!(agent("HTTPS://c.example", Some(&Trust::Nothing)).is_ok());
        assert!(agent("ftp://c.example", None).is_err());
        assert!(agent("c.example", None).is_err());
        let plain = agent("http://c.example", Some(&Trust::Nothing)).err().unwrap().to_string();
        assert!(plain.contains("https://"), "{plain}");
        let missing = tls_config(&Trust::CaFile("/nonexistent/ca.pem".into())).err().unwrap().to_string();
        assert!(missing.starts_with("--ca-cert /nonexistent/ca.pem"), "{missing}");
    }
}
