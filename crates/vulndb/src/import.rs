//! Importing files: NVD CVE and CPE JSON 2.0 (plain, gzip, or zip archives
//! of them as NVD publishes its feeds and CPE dictionary), CSAF 2.0
//! advisories and the CISA KEV catalog, from files or directories. Each
//! file, and each JSON member of an archive, is one transaction: a bad one
//! is reported with its name and what is wrong, and leaves nothing of
//! itself behind.

use crate::db::{FileImport, ImportWriter, VulnStore};
use crate::{csaf, kev, nvd, VulnError};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The files imported together (one command, one upload), as the import
/// log keeps them, and how far reading them has got.
#[derive(Debug, Default)]
pub struct ImportBatch {
    /// Shared by the batch's entries in the import log.
    pub id: String,
    /// Who imported: a console user, or the command line's user.
    pub user: String,
    /// Bytes of the batch's files read so far (archives count their
    /// compressed bytes), for progress.
    pub read: AtomicU64,
}

impl ImportBatch {
    /// A new batch by `user`, with an id of its own.
    pub fn new(user: &str) -> Self {
        let now = chrono::Utc::now();
        let id = format!("{}-{}", now.timestamp_nanos_opt().unwrap_or_else(|| now.timestamp_micros()), std::process::id());
        ImportBatch { id, user: user.to_string(), read: AtomicU64::new(0) }
    }
}

/// A file being read, its bytes counted in its batch's progress.
struct Counted<'a, R> {
    inner: R,
    read: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The kinds of file understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// NVD CVE JSON 2.0 (API response or data feed, a mirror's `cve_items` list, or one record).
    NvdCve(nvd::CveLayout),
    /// NVD CPE dictionary JSON 2.0.
    NvdCpe,
    /// CSAF 2.0 advisory.
    Csaf,
    /// CISA KEV catalog.
    Kev,
}

impl FileKind {
    /// The name used in import logs and output.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::NvdCve(_) => "nvd-cve",
            FileKind::NvdCpe => "nvd-cpe",
            FileKind::Csaf => "csaf",
            FileKind::Kev => "kev",
        }
    }
}

/// How many bytes of a file are looked at to tell its kind.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Tells a file's kind from its first bytes.
pub fn sniff(head: &[u8]) -> Option<FileKind> {
    let has = |needle: &str| head.windows(needle.len()).any(|w| w == needle.as_bytes());
    if has("\"NVD_CVE\"") {
        Some(FileKind::NvdCve(nvd::CveLayout::Feed))
    } else if has("\"cve_items\"") {
        Some(FileKind::NvdCve(nvd::CveLayout::Items))
    } else if has("\"NVD_CPE\"") {
        Some(FileKind::NvdCpe)
    } else if has("\"csaf_version\"") {
        Some(FileKind::Csaf)
    } else if has("\"catalogVersion\"") || has("\"cveID\"") {
        Some(FileKind::Kev)
    } else if has("\"document\"") {
        Some(FileKind::Csaf)
    } else if has("\"vulnStatus\"") && has("\"id\"") {
        Some(FileKind::NvdCve(nvd::CveLayout::Single))
    } else {
        None
    }
}

/// The outcome of an import: the files taken in and one error line per bad file.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// Files imported.
    pub files: Vec<FileImport>,
    /// `path: what is wrong`, one per file that was refused.
    pub errors: Vec<String>,
}

/// The files a list of paths stands for: files as named, directories
/// walked (recursively, in name order) for `*.json`, `*.json.gz` and `*.zip`.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files, &mut errors);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            errors.push(format!("{}: no such file or directory", p.display()));
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files, errors);
        } else {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
            if name.ends_with(".zip") || is_json_name(&name) {
                files.push(p);
            }
        }
    }
}

/// `*.json` or `*.json.gz`, whatever the case.
fn is_json_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// Undoes gzip when the bytes start with its magic, and tells the kind.
fn open<'a>(mut raw: impl BufRead + 'a) -> Result<(FileKind, Box<dyn Read + 'a>), String> {
    let gz = raw.fill_buf().map_err(|e| e.to_string())?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read + 'a> =
        if gz { Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(raw))) } else { Box::new(raw) };
    let mut head = Vec::new();
    reader.by_ref().take(SNIFF_BYTES).read_to_end(&mut head).map_err(|e| e.to_string())?;
    let kind = sniff(&head).ok_or("not an NVD CVE or CPE JSON 2.0 feed, a CSAF 2.0 advisory or a CISA KEV catalog")?;
    Ok((kind, Box::new(std::io::Cursor::new(head).chain(reader))))
}

/// Imports one document, named `name` in the log, in one transaction.
fn import_reader(store: &mut dyn VulnStore, name: String, raw: impl BufRead, batch: &ImportBatch) -> Result<FileImport, String> {
    let (kind, mut reader) = open(raw)?;
    let mut writer = store.writer().map_err(|e| e.to_string())?;
    let mut import = FileImport { path: name, kind: kind.as_str().into(), records: 0, changed: 0 };
    let count = |written: Result<(), VulnError>, import: &mut FileImport| -> Result<(), String> {
        import.records += 1;
        written.map_err(|e| e.to_string())
    };
    let w: &mut dyn ImportWriter = writer.as_mut();
    match kind {
        FileKind::NvdCve(layout) => nvd::stream_cves_in(reader, layout, |c| count(w.cve(c), &mut import))?,
        FileKind::NvdCpe => nvd::stream_cpes(reader, |c| count(w.cpe(&c), &mut import))?,
        FileKind::Kev => {
            w.clear_kev().map_err(|e| e.to_string())?;
            kev::stream_kev(reader, |k| count(w.kev(&k), &mut import))?;
        }
        FileKind::Csaf => {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            let advisory = csaf::parse(&bytes)?;
            count(w.advisory(&advisory), &mut import)?;
        }
    }
    import.changed = writer.commit(&import, batch).map_err(|e| e.to_string())?;
    Ok(import)
}

/// Imports one file (plain JSON or gzip), named `name` in the log, in one transaction.
pub fn import_file(store: &mut dyn VulnStore, path: &Path, name: &str, batch: &ImportBatch) -> Result<FileImport, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    import_reader(store, name.to_string(), BufReader::with_capacity(1 << 20, Counted { inner: file, read: &batch.read }), batch)
}

/// Whether the file at `path` is a zip archive (from its first bytes).
fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == *b"PK\x03\x04"
}

/// Imports each JSON member (`*.json`, `*.json.gz`) of a zip archive in a
/// transaction of its own: what was imported, and one error per member (or
/// archive) that was refused. The archive is `shown` in the log and in
/// errors, its members as `shown/member`.
pub fn import_zip(store: &mut dyn VulnStore, path: &Path, shown: &str, batch: &ImportBatch) -> (Vec<FileImport>, Vec<String>) {
    let archive = std::fs::File::open(path).map_err(|e| e.to_string()).and_then(|f| {
        zip::ZipArchive::new(BufReader::new(Counted { inner: f, read: &batch.read }))
            .map_err(|e| format!("not a readable zip archive: {e}"))
    });
    let mut archive = match archive {
        Ok(a) => a,
        Err(e) => return (Vec::new(), vec![format!("{shown}: {e}")]),
    };
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    for i in 0..archive.len() {
        let member = archive.by_index(i).and_then(|m| m.name().map(|n| n.into_owned()).map(|n| (m, n)));
        let (member, name) = match member {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("{shown}: member {}: {e}", i + 1));
                continue;
            }
        };
        if member.is_dir() || !is_json_name(&name) {
            continue;
        }
        match import_reader(store, format!("{shown}/{name}"), BufReader::with_capacity(1 << 20, member), batch) {
            Ok(f) => done.push(f),
            Err(e) => errors.push(format!("{shown}/{name}: {e}")),
        }
    }
    if done.is_empty() && errors.is_empty() {
        errors.push(format!("{shown}: the archive holds no *.json or *.json.gz member"));
    }
    (done, errors)
}

/// Who the import log names for imports from the command line.
pub const COMMAND_LINE: &str = "command line";

/// Imports files and directories, each file in its own transaction, as
/// one batch of the import log (by [`COMMAND_LINE`]).
pub fn import_paths(store: &mut dyn VulnStore, paths: &[PathBuf]) -> ImportReport {
    let batch = &ImportBatch::new(COMMAND_LINE);
    let (files, mut errors) = expand(paths);
    let mut report = ImportReport::default();
    for f in files {
        let shown = f.display().to_string();
        if is_zip(&f) {
            let (done, refused) = import_zip(store, &f, &shown, batch);
            report.files.extend(done);
            errors.extend(refused);
            continue;
        }
        match import_file(store, &f, &shown, batch) {
            Ok(done) => report.files.push(done),
            Err(e) => errors.push(format!("{}: {e}", f.display())),
        }
    }
    if let Err(e) = store.finish_import() {
        errors.push(e.to_string());
    }
    report.errors = errors;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_sniffed() {
        assert_eq!(sniff(br#"{"resultsPerPage":1,"format":"NVD_CVE","version":"2.0""#), Some(FileKind::NvdCve(nvd::CveLayout::Feed)));
        assert_eq!(sniff(br#"{"timestamp":"x","cve_count":2,"cve_items":[{"id":"CVE-1""#), Some(FileKind::NvdCve(nvd::CveLayout::Items)));
        assert_eq!(
            sniff(br#"{"id":"CVE-2024-1","sourceIdentifier":"x","vulnStatus":"Analyzed""#),
            Some(FileKind::NvdCve(nvd::CveLayout::Single))
        );
        assert_eq!(sniff(br#"{"format": "NVD_CPE""#), Some(FileKind::NvdCpe));
        assert_eq!(sniff(br#"{"document":{"csaf_version":"2.0""#), Some(FileKind::Csaf));
        assert_eq!(sniff(br#"{"title":"CISA Catalog","catalogVersion":"2024.01.01""#), Some(FileKind::Kev));
        assert_eq!(sniff(b"hello"), None);
    }
}
