//! Rebuilding the embedded table from the IEEE registry CSV files.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::csv;

/// Errors of [`refresh`].
#[derive(Debug, thiserror::Error)]
pub enum OuiError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An input file holds a malformed record.
    #[error("{}:{line}: {reason}", path.display())]
    Parse {
        /// The input file.
        path: PathBuf,
        /// 1-based line the record starts on.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The inputs held no assignments at all, which would empty the table.
    #[error("no registry assignments found in the input files")]
    Empty,
}

/// Outcome of a successful [`refresh`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSummary {
    /// Number of assignments written (after dropping duplicates).
    pub entries: usize,
}

/// One parsed assignment.
struct Assignment {
    prefix: u64,
    bits: u8,
    name: String,
}

/// Parses IEEE registry CSV files (oui.csv, mam.csv, oui36.csv, iab.csv
/// formats: Registry,Assignment,Organization Name,Organization Address) and
/// writes the compact gz table.
///
/// A header row is skipped, as are blank lines. When the same prefix is
/// listed more than once, the first listing (in input order) is kept.
pub fn refresh(inputs: &[PathBuf], out: &Path) -> Result<RefreshSummary, OuiError> {
    let mut all = Vec::new();
    for path in inputs {
        let text = std::fs::read_to_string(path).map_err(|source| OuiError::Io { path: path.clone(), source })?;
        parse_file(&text, &mut all).map_err(|(line, reason)| OuiError::Parse { path: path.clone(), line, reason })?;
    }
    if all.is_empty() {
        return Err(OuiError::Empty);
    }
    // Order by the left-aligned 48-bit prefix, shorter prefix first, so a
    // block and its sub-assignments read in order. The sort is stable, so
    // dedup keeps the first listing.
    all.sort_by_key(|a| (a.prefix << (48 - u32::from(a.bits)), a.bits));
    all.dedup_by_key(|a| (a.prefix, a.bits));

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let written = all
        .iter()
        .try_for_each(|a| gz.write_all(crate::format_line(a.prefix, a.bits, &a.name).as_bytes()))
        .and_then(|()| gz.finish())
        .and_then(|bytes| std::fs::write(out, bytes));
    written.map_err(|source| OuiError::Io { path: out.to_path_buf(), source })?;
    Ok(RefreshSummary { entries: all.len() })
}

/// Appends the assignments of one file to `out` (IEEE CSV, or the IEEE
/// `oui.txt` text listing); on error gives the line and reason.
fn parse_file(text: &str, out: &mut Vec<Assignment>) -> Result<(), (usize, String)> {
    if text.lines().any(|l| l.contains("(hex)")) && !text.starts_with("Registry") {
        return parse_text(text, out);
    }
    let records = csv::records(text).map_err(|e| (e.line, e.reason.to_string()))?;
    for (index, record) in records.into_iter().enumerate() {
        let fields = &record.fields;
        let first = fields.first().map(|f| f.trim()).unwrap_or_default();
        if (index == 0 && first == "Registry") || (fields.len() == 1 && first.is_empty()) {
            continue;
        }
        out.push(parse_record(fields).map_err(|reason| (record.line, reason))?);
    }
    Ok(())
}

/// Parses the MA-L entries of IEEE's `oui.txt` listing: lines of the form
/// `00-1B-1B   (hex)\t\tSiemens AG`.
fn parse_text(text: &str, out: &mut Vec<Assignment>) -> Result<(), (usize, String)> {
    for (index, line) in text.lines().enumerate() {
        let Some((prefix, name)) = line.split_once("(hex)") else { continue };
        let digits: String = prefix.trim().split('-').collect();
        let prefix =
            crate::parse_hex(&digits, 6).ok_or_else(|| (index + 1, format!("assignment {:?} is not 6 hex digits", prefix.trim())))?;
        let name = normalise_name(name);
        if name.is_empty() {
            return Err((index + 1, "empty organization name".to_string()));
        }
        out.push(Assignment { prefix, bits: 24, name });
    }
    Ok(())
}

/// Parses `Registry,Assignment,Organization Name[,...]`.
fn parse_record(fields: &[String]) -> Result<Assignment, String> {
    let [registry, assignment, name, ..] = fields else {
        return Err(format!("expected at least 3 fields, found {}", fields.len()));
    };
    let bits = match registry.trim() {
        "MA-L" => 24,
        "MA-M" => 28,
        "MA-S" | "IAB" => 36,
        other => return Err(format!("unknown registry {other:?}")),
    };
    let assignment = assignment.trim();
    let prefix = crate::parse_hex(assignment, crate::hex_digits(bits))
        .ok_or_else(|| format!("assignment {assignment:?} is not {} hex digits as {registry} requires", crate::hex_digits(bits)))?;
    let name = normalise_name(name);
    if name.is_empty() {
        return Err("empty organization name".to_string());
    }
    Ok(Assignment { prefix, bits, name })
}

/// Trims the name, collapses runs of whitespace (including tabs and line
/// breaks) to one space and drops stray trailing commas ("Siemens AG,").
fn normalise_name(name: &str) -> String {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.trim_end_matches(|c: char| c == ',' || c.is_whitespace()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::MacAddr;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write test input");
        path
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let oui = write(
            dir.path(),
            "oui.csv",
            "Registry,Assignment,Organization Name,Organization Address\r\n\
             MA-L,001B1B,\"Siemens AG,\",\"I IA SC, Karlsruhe DE \"\r\n\
             MA-L,ACDE48,\"Acme, \"\"Widgets\"\"   Inc.\",\"1 Road\nSuite 2 Town\"\r\n\
             MA-L,acde48,Second listing loses,\r\n\
             MA-L,741AE0,IEEE Registration Authority,x\r\n\
             \r\n",
        );
        let mam = write(
            dir.path(),
            "mam.csv",
            "Registry,Assignment,Organization Name,Organization Address\nMA-M,741AE09,Private,\nMA-M,741AE01,\tSub  Vendor ,addr\n",
        );
        let s36 = write(dir.path(), "oui36.csv", "MA-S,741AE0123,Tiny Co,addr\nIAB,0050C27D5,DEUTA-WERKE GmbH,addr\n");
        let out = dir.path().join("oui.tsv.gz");
        let summary = refresh(&[oui, mam, s36], &out).expect("refresh");
        assert_eq!(summary, RefreshSummary { entries: 7 });

        let table = crate::Table::decode(&std::fs::read(&out).expect("read output")).expect("decode");
        assert_eq!(
            table.text,
            "001B1B\t24\tSiemens AG\n\
             0050C27D5\t36\tDEUTA-WERKE GmbH\n\
             741AE0\t24\tIEEE Registration Authority\n\
             741AE01\t28\tSub Vendor\n\
             741AE0123\t36\tTiny Co\n\
             741AE09\t28\tPrivate\n\
             ACDE48\t24\tAcme, \"Widgets\" Inc.\n"
        );
        let look = |m: [u8; 6]| table.lookup(MacAddr(m));
        assert_eq!(look([0xac, 0xde, 0x48, 0, 0, 1]), Some("Acme, \"Widgets\" Inc."));
        assert_eq!(look([0x74, 0x1a, 0xe0, 0x12, 0x34, 0x56]), Some("Tiny Co"));
        assert_eq!(look([0x74, 0x1a, 0xe0, 0x12, 0x44, 0x56]), Some("Sub Vendor"));
        assert_eq!(look([0x74, 0x1a, 0xe0, 0x22, 0x44, 0x56]), Some("IEEE Registration Authority"));
        assert_eq!(look([0x74, 0x1a, 0xe0, 0x92, 0x44, 0x56]), None, "Private");
        assert_eq!(look([0x00, 0x50, 0xc2, 0x7d, 0x5f, 0xff]), Some("DEUTA-WERKE GmbH"));
        assert_eq!(look([0x00, 0x50, 0xc2, 0x7d, 0x6f, 0xff]), None);
    }

    #[test]
    fn text_listing() {
        let dir = tempfile::tempdir().unwrap();
        let txt = write(
            dir.path(),
            "oui.txt",
            "OUI/MA-L   Organization\n\n00-1B-1B   (hex)\t\tSiemens AG\n001B1B     (base 16)\t\tSiemens AG\n\t\t\t\tNuernberg\n",
        );
        let out = dir.path().join("t.gz");
        assert_eq!(refresh(&[txt], &out).unwrap().entries, 1);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.gz");
        let cases = [
            (
                "short.csv",
                "Registry,Assignment,Organization Name\nMA-L,001B1B,Ok\nMA-L,001B1D,\"multi\nline\"\nMA-L,001B1C\n",
                5,
                "at least 3 fields",
            ),
            ("hex.csv", "MA-L,001B1B,Ok\nMA-M,001B1B,Wrong length\n", 2, "7 hex digits"),
            ("reg.csv", "MA-L,001B1B,Ok\nXX-L,001B1B,Who\n", 2, "unknown registry"),
            ("name.csv", "MA-L,001B1B,  \n", 1, "empty organization name"),
            ("quote.csv", "MA-L,001B1B,Ok\nMA-L,001B1C,\"open\n", 2, "unterminated"),
        ];
        for (file, text, line, reason) in cases {
            let path = write(dir.path(), file, text);
            match refresh(std::slice::from_ref(&path), &out) {
                Err(OuiError::Parse { path: p, line: l, reason: r }) => {
                    assert_eq!((p, l), (path.clone(), line), "{file}");
                    assert!(r.contains(reason), "{file}: {r}");
                }
                other => panic!("{file}: expected a parse error, got {other:?}"),
            }
            let message = refresh(std::slice::from_ref(&path), &out).map(|_| ()).unwrap_err().to_string();
            assert!(message.starts_with(&format!("{}:{line}: ", path.display())), "{message}");
        }
        assert!(!out.exists(), "nothing written on error");
        let header_only = write(dir.path(), "empty.csv", "Registry,Assignment,Organization Name,Organization Address\n");
        assert!(matches!(refresh(&[header_only], &out), Err(OuiError::Empty)));
        let missing = dir.path().join("missing.csv");
        assert!(matches!(refresh(std::slice::from_ref(&missing), &out), Err(OuiError::Io { path, .. }) if path == missing));
    }
}
