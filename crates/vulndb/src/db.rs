//! Where imported vulnerability data lives: [`VulnStore`] is the interface
//! matching and import use; [`SqliteVulnDb`] keeps it in tables of its own
//! (`vdb_*`, versioned by `vdb_meta`) beside the inventory in the same
//! SQLite file. The SQL is plain (no SQLite-only functions) so a PostgreSQL
//! implementation can follow with the same statements.

use crate::csaf::{Advisory, AdvisoryVuln, Product, Remediation};
use crate::kev::KevEntry;
use crate::names::vendor_keys;
use crate::nvd::{parse_cpe, CpeEntry, CveRecord, Score};
use crate::VulnError;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Schema migrations of the `vdb_*` tables; the version is the index plus one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE vdb_imports (id INTEGER PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL, records INTEGER NOT NULL,
                          imported_at TEXT NOT NULL);
CREATE TABLE vdb_products (id INTEGER PRIMARY KEY, part TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
                           vendor_key TEXT NOT NULL, title TEXT, UNIQUE (part, vendor, product));
CREATE INDEX vdb_products_vendor ON vdb_products (vendor_key);
CREATE TABLE vdb_cves (id INTEGER PRIMARY KEY, cve_id TEXT NOT NULL UNIQUE, published TEXT, last_modified TEXT, status TEXT,
                       summary TEXT NOT NULL, cwe TEXT NOT NULL, cvss3_score REAL, cvss3_vector TEXT, cvss4_score REAL,
                       cvss4_vector TEXT, from_nvd INTEGER NOT NULL);
CREATE TABLE vdb_cpe_matches (cve INTEGER NOT NULL, config INTEGER NOT NULL, config_all INTEGER NOT NULL, node INTEGER NOT NULL,
                              node_all INTEGER NOT NULL, node_negate INTEGER NOT NULL, vulnerable INTEGER NOT NULL,
                              product INTEGER NOT NULL, version TEXT NOT NULL, start_incl TEXT, start_excl TEXT, end_incl TEXT,
                              end_excl TEXT);
CREATE INDEX vdb_cpe_matches_cve ON vdb_cpe_matches (cve);
CREATE INDEX vdb_cpe_matches_product ON vdb_cpe_matches (product);
CREATE TABLE vdb_advisories (id INTEGER PRIMARY KEY, tracking_id TEXT NOT NULL UNIQUE, publisher TEXT NOT NULL, title TEXT NOT NULL,
                             release_date TEXT NOT NULL, revision TEXT NOT NULL, url TEXT);
CREATE TABLE vdb_advisory_products (advisory INTEGER NOT NULL, product_id TEXT NOT NULL, vendor TEXT NOT NULL,
                                    vendor_key TEXT NOT NULL, family TEXT, name TEXT NOT NULL, full_name TEXT NOT NULL, version TEXT,
                                    version_range TEXT, model_numbers TEXT NOT NULL, cpe TEXT, PRIMARY KEY (advisory, product_id));
CREATE INDEX vdb_advisory_products_vendor ON vdb_advisory_products (vendor_key);
CREATE TABLE vdb_advisory_vulns (advisory INTEGER NOT NULL, cve_id TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL,
                                 cvss3_score REAL, cvss3_vector TEXT, cvss4_score REAL, cvss4_vector TEXT, statuses TEXT NOT NULL,
                                 remediations TEXT NOT NULL, PRIMARY KEY (advisory, cve_id));
CREATE TABLE vdb_kev (cve_id TEXT PRIMARY KEY, vendor TEXT NOT NULL, product TEXT NOT NULL, name TEXT NOT NULL,
                      date_added TEXT NOT NULL, due_date TEXT NOT NULL, required_action TEXT NOT NULL, ransomware TEXT NOT NULL);
CREATE TABLE vdb_identity_matches (identity TEXT PRIMARY KEY, generation INTEGER NOT NULL, data TEXT NOT NULL);
"#,
    r#"
ALTER TABLE vdb_cves ADD COLUMN kev_added TEXT;
ALTER TABLE vdb_cves ADD COLUMN kev_due TEXT;
ALTER TABLE vdb_cves ADD COLUMN kev_action TEXT;
"#,
];

/// A CPE product (vendor and product of CPE names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpeProduct {
    /// Row id.
    pub id: i64,
    /// `a`, `o` or `h`.
    pub part: String,
    /// CPE vendor.
    pub vendor: String,
    /// CPE product.
    pub product: String,
    /// Dictionary title, when the dictionary was imported.
    pub title: Option<String>,
}

/// One CPE match of a stored configuration, with its product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMatch {
    /// CVE row id.
    pub cve: i64,
    /// Configuration index.
    pub config: i64,
    /// The configuration needs all nodes.
    pub config_all: bool,
    /// Node index.
    pub node: i64,
    /// The node needs all matches.
    pub node_all: bool,
    /// The node is negated.
    pub node_negate: bool,
    /// Vulnerable match.
    pub vulnerable: bool,
    /// Product row id.
    pub product: i64,
    /// CPE version field.
    pub version: String,
    /// Range bounds.
    pub start_including: Option<String>,
    /// Range bounds.
    pub start_excluding: Option<String>,
    /// Range bounds.
    pub end_including: Option<String>,
    /// Range bounds.
    pub end_excluding: Option<String>,
}

/// A stored CVE's details.
#[derive(Clone, Debug, PartialEq)]
pub struct CveInfo {
    /// Row id.
    pub row: i64,
    /// CVE id.
    pub cve_id: String,
    /// Published.
    pub published: Option<String>,
    /// Summary.
    pub summary: String,
    /// CWE ids.
    pub cwe: String,
    /// CVSS v3.x.
    pub cvss3: Option<Score>,
    /// CVSS v4.0.
    pub cvss4: Option<Score>,
    /// KEV facts NVD copied into the record (date added, due date, required action).
    pub kev: Option<KevEntry>,
}

/// A stored advisory with the vulnerabilities it lists.
#[derive(Clone, Debug, PartialEq)]
pub struct AdvisoryInfo {
    /// Row id.
    pub row: i64,
    /// Tracking id.
    pub tracking_id: String,
    /// Publisher.
    pub publisher: String,
    /// Title.
    pub title: String,
    /// Current release date.
    pub release_date: String,
    /// Address.
    pub url: Option<String>,
    /// Vulnerabilities, with statuses and remediations.
    pub vulnerabilities: Vec<AdvisoryVuln>,
}

/// How much of each kind of data is stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DbStatus {
    /// CVE records.
    pub cves: u64,
    /// CPE match criteria.
    pub cpe_matches: u64,
    /// CPE products.
    pub products: u64,
    /// CSAF advisories.
    pub advisories: u64,
    /// KEV entries.
    pub kev: u64,
    /// Import generation (goes up with every file imported).
    pub generation: i64,
}

/// What one imported file added or changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileImport {
    /// The file.
    pub path: String,
    /// `nvd-cve`, `nvd-cpe`, `csaf` or `kev`.
    pub kind: String,
    /// Records read.
    pub records: u64,
    /// Records new or changed (unchanged records are skipped).
    pub changed: u64,
}

/// The storage interface of the vulnerability database.
pub trait VulnStore {
    /// Starts writing one file's records; nothing is visible until [`ImportWriter::commit`].
    fn writer(&mut self) -> Result<Box<dyn ImportWriter + '_>, VulnError>;
    /// Counts of what is stored.
    fn status(&self) -> Result<DbStatus, VulnError>;
    /// CPE products of these vendor keys.
    fn products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<CpeProduct>, VulnError>;
    /// Every CPE match of every configuration that names one of these products.
    fn configurations_naming(&self, products: &BTreeSet<i64>) -> Result<Vec<StoredMatch>, VulnError>;
    /// CPE products by id.
    fn products(&self, ids: &BTreeSet<i64>) -> Result<Vec<CpeProduct>, VulnError>;
    /// CVE details by row id.
    fn cves(&self, rows: &BTreeSet<i64>) -> Result<Vec<CveInfo>, VulnError>;
    /// CVE details by CVE id.
    fn cves_by_id(&self, ids: &BTreeSet<String>) -> Result<Vec<CveInfo>, VulnError>;
    /// Advisory products of these vendor keys, with their advisory's row id.
    fn advisory_products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<(i64, Product)>, VulnError>;
    /// Advisories by row id.
    fn advisories(&self, rows: &BTreeSet<i64>) -> Result<Vec<AdvisoryInfo>, VulnError>;
    /// KEV entries of these CVEs.
    fn kev(&self, cves: &BTreeSet<String>) -> Result<Vec<KevEntry>, VulnError>;
    /// The cached matches of a device identity, when computed at this generation.
    fn cached_matches(&self, identity: &str, generation: i64) -> Result<Option<String>, VulnError>;
    /// Called after a batch of files: gives back space the import used temporarily.
    fn finish_import(&mut self) -> Result<(), VulnError> {
        Ok(())
    }
    /// Caches the matches of identities, `(identity, data)`, computed at this generation.
    fn cache_matches(&mut self, generation: i64, entries: &[(String, String)]) -> Result<(), VulnError>;
}

/// Writes one file's records in one transaction.
pub trait ImportWriter {
    /// Adds or updates a CVE; `false` when an identical record was stored already.
    fn cve(&mut self, cve: &CveRecord) -> Result<bool, VulnError>;
    /// Adds a CPE dictionary entry (its product and title).
    fn cpe(&mut self, entry: &CpeEntry) -> Result<bool, VulnError>;
    /// Replaces an advisory (same tracking id) by this one.
    fn advisory(&mut self, advisory: &Advisory) -> Result<bool, VulnError>;
    /// Empties the KEV catalog (a catalog file replaces the whole list).
    fn clear_kev(&mut self) -> Result<(), VulnError>;
    /// Adds a KEV entry.
    fn kev(&mut self, entry: &KevEntry) -> Result<bool, VulnError>;
    /// Makes the file's records visible and logs the import.
    fn commit(self: Box<Self>, import: &FileImport) -> Result<(), VulnError>;
}

/// The SQLite vulnerability database.
pub struct SqliteVulnDb {
    conn: Connection,
    path: String,
}

impl SqliteVulnDb {
    /// Opens (creating if needed) the `vdb_*` tables in the database at `path`.
    pub fn open(path: &Path) -> Result<Self, VulnError> {
        let name = path.display().to_string();
        let err = |source| VulnError::Database { path: name.clone(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        let mut db = SqliteVulnDb { conn, path: name };
        db.migrate()?;
        Ok(db)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        move |source| VulnError::Database { path: self.path.clone(), source }
    }

    fn migrate(&mut self) -> Result<(), VulnError> {
        let path = self.path.clone();
        let err = |source| VulnError::Database { path: path.clone(), source };
        self.conn.execute_batch("CREATE TABLE IF NOT EXISTS vdb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);").map_err(err)?;
        let current: i64 = self
            .conn
            .query_row("SELECT value FROM vdb_meta WHERE key = 'schema_version'", [], |r| r.get::<_, String>(0))
            .optional()
            .map_err(err)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(VulnError::TooNew { path, found: current, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
            let tx = self.conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            tx.execute(
                "INSERT INTO vdb_meta (key, value) VALUES ('schema_version', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![(i + 1).to_string()],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    /// The import generation: goes up with every imported file, so cached matches know they are stale.
    pub fn generation(&self) -> Result<i64, VulnError> {
        let v: Option<String> =
            self.conn.query_row("SELECT value FROM vdb_meta WHERE key = 'generation'", [], |r| r.get(0)).optional().map_err(self.err())?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Runs `query` once per chunk of `ids` (SQLite limits bound parameters), with `{}` replaced by the placeholders.
    fn chunked<K: rusqlite::ToSql, T>(
        &self,
        query: &str,
        ids: &[K],
        mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, VulnError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = query.replace("{}", &marks);
            let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
            let rows = stmt.query_map(params_from_iter(chunk.iter()), &mut row).map_err(self.err())?;
            for r in rows {
                out.push(r.map_err(self.err())?);
            }
        }
        Ok(out)
    }
}

/// The single key a vendor name is stored under (its alias target when it has one).
pub fn stored_vendor_key(vendor: &str) -> String {
    let keys = vendor_keys(vendor);
    let first_part = vendor.split(['/', '|']).next().unwrap_or(vendor);
    let own = vendor_keys(first_part);
    // The alias target, when the first part has one, else the first part's key.
    own.iter()
        .find(|k| crate::names::is_alias_target(k))
        .or_else(|| own.iter().next())
        .or_else(|| keys.iter().next())
        .cloned()
        .unwrap_or_else(|| vendor.to_lowercase())
}

fn score(score: Option<f64>, vector: Option<String>) -> Option<Score> {
    Some(Score { base: score?, vector: vector.unwrap_or_default() })
}

/// Writes through one transaction; dropping it without commit rolls back.
struct SqliteWriter<'c> {
    tx: Transaction<'c>,
    path: String,
    products: HashMap<String, i64>,
    /// The KEV catalog before this file, while a catalog is being replaced.
    old_kev: Option<HashMap<String, KevEntry>>,
}

impl SqliteWriter<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        move |source| VulnError::Database { path: self.path.clone(), source }
    }

    /// The row id of a CPE product, adding it when new.
    fn product_id(&mut self, criteria: &str) -> Result<Option<i64>, VulnError> {
        let Some(cpe) = parse_cpe(criteria) else { return Ok(None) };
        if let Some(id) = self.products.get(cpe.product_prefix) {
            return Ok(Some(*id));
        }
        let key = stored_vendor_key(cpe.vendor);
        self.tx
            .prepare_cached("INSERT INTO vdb_products (part, vendor, product, vendor_key) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![cpe.part, cpe.vendor, cpe.product, key]))
            .map_err(self.err())?;
        let id = self.tx.last_insert_rowid();
        self.products.insert(cpe.product_prefix.to_string(), id);
        Ok(Some(id))
    }
}

impl ImportWriter for SqliteWriter<'_> {
    fn cve(&mut self, cve: &CveRecord) -> Result<bool, VulnError> {
        let existing: Option<(i64, Option<String>)> = self
            .tx
            .prepare_cached("SELECT id, last_modified FROM vdb_cves WHERE cve_id = ?1")
            .and_then(|mut s| s.query_row(params![cve.id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(self.err())?;
        if let Some((_, last)) = &existing {
            if last.is_some() && *last == cve.last_modified {
                return Ok(false);
            }
        }
        let rejected = cve.status.as_deref() == Some("Rejected");
        let (s3, v3) = (cve.cvss3.as_ref().map(|s| s.base), cve.cvss3.as_ref().map(|s| s.vector.as_str()));
        let (s4, v4) = (cve.cvss4.as_ref().map(|s| s.base), cve.cvss4.as_ref().map(|s| s.vector.as_str()));
        let kev_added = cve.kev.as_ref().map(|k| k.date_added.as_str());
        let kev_due = cve.kev.as_ref().map(|k| k.due_date.as_str());
        let kev_action = cve.kev.as_ref().map(|k| k.required_action.as_str());
        let row = match existing {
            Some((row, _)) => {
                self.tx
                    .prepare_cached(
                        "UPDATE vdb_cves SET published = ?2, last_modified = ?3, status = ?4, summary = ?5, cwe = ?6, cvss3_score = ?7, \
                         cvss3_vector = ?8, cvss4_score = ?9, cvss4_vector = ?10, from_nvd = 1, kev_added = ?11, kev_due = ?12, \
                         kev_action = ?13 WHERE id = ?1",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            row,
                            cve.published,
                            cve.last_modified,
                            cve.status,
                            cve.summary,
                            cve.cwe,
                            s3,
                            v3,
                            s4,
                            v4,
                            kev_added,
                            kev_due,
                            kev_action
                        ])
                    })
                    .map_err(self.err())?;
                self.tx
                    .prepare_cached("DELETE FROM vdb_cpe_matches WHERE cve = ?1")
                    .and_then(|mut s| s.execute(params![row]))
                    .map_err(self.err())?;
                row
            }
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO vdb_cves (cve_id, published, last_modified, status, summary, cwe, cvss3_score, cvss3_vector, \
                         cvss4_score, cvss4_vector, from_nvd, kev_added, kev_due, kev_action) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            cve.id,
                            cve.published,
                            cve.last_modified,
                            cve.status,
                            cve.summary,
                            cve.cwe,
                            s3,
                            v3,
                            s4,
                            v4,
                            kev_added,
                            kev_due,
                            kev_action
                        ])
                    })
                    .map_err(self.err())?;
                self.tx.last_insert_rowid()
            }
        };
        if rejected {
            return Ok(true);
        }
        for (ci, config) in cve.configurations.iter().enumerate() {
            for (ni, node) in config.nodes.iter().enumerate() {
                for m in &node.matches {
                    let Some(product) = self.product_id(&m.criteria)? else { continue };
                    let version = parse_cpe(&m.criteria).map_or("*", |c| c.version);
                    self.tx
                        .prepare_cached(
                            "INSERT INTO vdb_cpe_matches (cve, config, config_all, node, node_all, node_negate, vulnerable, product, version, \
                             start_incl, start_excl, end_incl, end_excl) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                        )
                        .and_then(|mut s| {
                            s.execute(params![
                                row,
                                ci as i64,
                                config.all,
                                ni as i64,
                                node.all,
                                node.negate,
                                m.vulnerable,
                                product,
                                version,
                                m.start_including,
                                m.start_excluding,
                                m.end_including,
                                m.end_excluding
                            ])
                        })
                        .map_err(self.err())?;
                }
            }
        }
        Ok(true)
    }

    fn cpe(&mut self, entry: &CpeEntry) -> Result<bool, VulnError> {
        if entry.deprecated {
            return Ok(false);
        }
        let Some(cpe) = parse_cpe(&entry.name) else {
            return Err(VulnError::Format(format!("cpeName {:?} is not a CPE 2.3 name", entry.name)));
        };
        let known = self.products.contains_key(cpe.product_prefix);
        let Some(id) = self.product_id(&entry.name)? else { return Ok(false) };
        // The title without the version it ends with names the product.
        let title = entry.title.as_deref().map(|t| {
            let t = t.trim();
            let v = cpe.version.replace('\\', "");
            t.strip_suffix(v.as_str()).map_or(t, str::trim_end).to_string()
        });
        if let Some(title) = title {
            self.tx
                .prepare_cached("UPDATE vdb_products SET title = ?2 WHERE id = ?1 AND title IS NULL")
                .and_then(|mut s| s.execute(params![id, title]))
                .map_err(self.err())?;
        }
        Ok(!known)
    }

    fn advisory(&mut self, a: &Advisory) -> Result<bool, VulnError> {
        let old: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM vdb_advisories WHERE tracking_id = ?1")
            .and_then(|mut s| s.query_row(params![a.tracking_id], |r| r.get(0)).optional())
            .map_err(self.err())?;
        if let Some(old) = old {
            let same: bool = self
                .tx
                .prepare_cached("SELECT COUNT(*) FROM vdb_advisories WHERE id = ?1 AND revision = ?2 AND release_date = ?3")
                .and_then(|mut s| s.query_row(params![old, a.revision, a.release_date], |r| r.get::<_, i64>(0)))
                .map_err(self.err())?
                > 0;
            if same {
                return Ok(false);
            }
            for table in ["vdb_advisory_products", "vdb_advisory_vulns"] {
                self.tx.execute(&format!("DELETE FROM {table} WHERE advisory = ?1"), params![old]).map_err(self.err())?;
            }
            self.tx.execute("DELETE FROM vdb_advisories WHERE id = ?1", params![old]).map_err(self.err())?;
        }
        self.tx
            .execute(
                "INSERT INTO vdb_advisories (tracking_id, publisher, title, release_date, revision, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![a.tracking_id, a.publisher, a.title, a.release_date, a.revision, a.url],
            )
            .map_err(self.err())?;
        let row = self.tx.last_insert_rowid();
        for p in &a.products {
            self.tx
                .prepare_cached(
                    "INSERT INTO vdb_advisory_products (advisory, product_id, vendor, vendor_key, family, name, full_name, version, \
                     version_range, model_numbers, cpe) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                     ON CONFLICT (advisory, product_id) DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        row,
                        p.id,
                        p.vendor,
                        stored_vendor_key(&p.vendor),
                        p.family,
                        p.name,
                        p.full_name,
                        p.version,
                        p.version_range,
                        p.model_numbers.join("|"),
                        p.cpe
                    ])
                })
                .map_err(self.err())?;
        }
        for v in &a.vulnerabilities {
            let statuses = serde_json::to_string(&v.statuses).unwrap_or_default();
            let remediations: Vec<serde_json::Value> = v
                .remediations
                .iter()
                .map(|r| {
                    serde_json::json!({"category": r.category, "details": r.details, "url": r.url, "product_ids": r.product_ids,
                                       "fixed_version": r.fixed_version})
                })
                .collect();
            self.tx
                .prepare_cached(
                    "INSERT INTO vdb_advisory_vulns (advisory, cve_id, title, summary, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, \
                     statuses, remediations) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (advisory, cve_id) DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        row,
                        v.cve,
                        v.title,
                        v.summary,
                        v.cvss3.as_ref().map(|s| s.base),
                        v.cvss3.as_ref().map(|s| s.vector.as_str()),
                        v.cvss4.as_ref().map(|s| s.base),
                        v.cvss4.as_ref().map(|s| s.vector.as_str()),
                        statuses,
                        serde_json::Value::Array(remediations).to_string()
                    ])
                })
                .map_err(self.err())?;
            // CVEs NVD has not told us about yet get the advisory's words and scores.
            if v.cve.starts_with("CVE-") {
                self.tx
                    .prepare_cached(
                        "INSERT INTO vdb_cves (cve_id, summary, cwe, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, from_nvd) \
                         VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, 0) ON CONFLICT (cve_id) DO NOTHING",
                    )
                    .and_then(|mut s| {
                        let summary = if v.summary.is_empty() { &v.title } else { &v.summary };
                        s.execute(params![
                            v.cve,
                            summary,
                            v.cvss3.as_ref().map(|s| s.base),
                            v.cvss3.as_ref().map(|s| s.vector.as_str()),
                            v.cvss4.as_ref().map(|s| s.base),
                            v.cvss4.as_ref().map(|s| s.vector.as_str())
                        ])
                    })
                    .map_err(self.err())?;
            }
        }
        Ok(true)
    }

    fn clear_kev(&mut self) -> Result<(), VulnError> {
        let mut old = HashMap::new();
        {
            let mut stmt = self
                .tx
                .prepare("SELECT cve_id, vendor, product, name, date_added, due_date, required_action, ransomware FROM vdb_kev")
                .map_err(self.err())?;
            let rows = stmt.query_map([], kev_row).map_err(self.err())?;
            for row in rows {
                let e = row.map_err(self.err())?;
                old.insert(e.cve_id.clone(), e);
            }
        }
        self.tx.execute("DELETE FROM vdb_kev", []).map_err(self.err())?;
        self.old_kev = Some(old);
        Ok(())
    }

    fn kev(&mut self, e: &KevEntry) -> Result<bool, VulnError> {
        let unchanged = self.old_kev.as_mut().and_then(|old| old.remove(&e.cve_id)).is_some_and(|o| o == *e);
        self.tx
            .prepare_cached(
                "INSERT INTO vdb_kev (cve_id, vendor, product, name, date_added, due_date, required_action, ransomware) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (cve_id) DO UPDATE SET vendor = excluded.vendor, \
                 product = excluded.product, name = excluded.name, date_added = excluded.date_added, due_date = excluded.due_date, \
                 required_action = excluded.required_action, ransomware = excluded.ransomware",
            )
            .and_then(|mut s| {
                s.execute(params![
                    e.cve_id,
                    e.vendor_project,
                    e.product,
                    e.vulnerability_name,
                    e.date_added,
                    e.due_date,
                    e.required_action,
                    e.known_ransomware_campaign_use
                ])
            })
            .map_err(self.err())?;
        Ok(!unchanged)
    }

    fn commit(self: Box<Self>, import: &FileImport) -> Result<(), VulnError> {
        // Entries a new catalog no longer lists are a change too.
        let removed = self.old_kev.as_ref().map_or(0, |old| old.len() as u64);
        let path = self.path.clone();
        let err = |source| VulnError::Database { path: path.clone(), source };
        self.tx
            .execute(
                "INSERT INTO vdb_imports (path, kind, records, imported_at) VALUES (?1, ?2, ?3, ?4)",
                params![import.path, import.kind, import.records as i64, chrono::Utc::now().to_rfc3339()],
            )
            .map_err(err)?;
        if import.changed + removed > 0 {
            let generation: i64 = self
                .tx
                .query_row("SELECT value FROM vdb_meta WHERE key = 'generation'", [], |r| r.get::<_, String>(0))
                .optional()
                .map_err(err)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.tx
                .execute(
                    "INSERT INTO vdb_meta (key, value) VALUES ('generation', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![(generation + 1).to_string()],
                )
                .map_err(err)?;
        }
        self.tx.commit().map_err(err)
    }
}

impl VulnStore for SqliteVulnDb {
    fn writer(&mut self) -> Result<Box<dyn ImportWriter + '_>, VulnError> {
        let path = self.path.clone();
        let err = |source| VulnError::Database { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let mut products = HashMap::new();
        {
            let mut stmt = tx.prepare("SELECT id, part, vendor, product FROM vdb_products").map_err(err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))
                .map_err(err)?;
            for row in rows {
                let (id, part, vendor, product) = row.map_err(err)?;
                products.insert(format!("cpe:2.3:{part}:{vendor}:{product}"), id);
            }
        }
        Ok(Box::new(SqliteWriter { tx, path, products, old_kev: None }))
    }

    fn status(&self) -> Result<DbStatus, VulnError> {
        let count = |table: &str| -> Result<u64, VulnError> {
            let n: i64 = self.conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).map_err(self.err())?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok(DbStatus {
            cves: count("vdb_cves")?,
            cpe_matches: count("vdb_cpe_matches")?,
            products: count("vdb_products")?,
            advisories: count("vdb_advisories")?,
            kev: count("vdb_kev")?,
            generation: self.generation()?,
        })
    }

    fn products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<CpeProduct>, VulnError> {
        let keys: Vec<&String> = keys.iter().collect();
        self.chunked("SELECT id, part, vendor, product, title FROM vdb_products WHERE vendor_key IN ({})", &keys, product_row)
    }

    fn products(&self, ids: &BTreeSet<i64>) -> Result<Vec<CpeProduct>, VulnError> {
        let ids: Vec<i64> = ids.iter().copied().collect();
        self.chunked("SELECT id, part, vendor, product, title FROM vdb_products WHERE id IN ({})", &ids, product_row)
    }

    fn configurations_naming(&self, products: &BTreeSet<i64>) -> Result<Vec<StoredMatch>, VulnError> {
        let ids: Vec<i64> = products.iter().copied().collect();
        let cves: BTreeSet<i64> =
            self.chunked("SELECT DISTINCT cve FROM vdb_cpe_matches WHERE product IN ({})", &ids, |r| r.get(0))?.into_iter().collect();
        let cves: Vec<i64> = cves.into_iter().collect();
        self.chunked(
            "SELECT cve, config, config_all, node, node_all, node_negate, vulnerable, product, version, start_incl, start_excl, end_incl, \
             end_excl FROM vdb_cpe_matches WHERE cve IN ({}) ORDER BY cve, config, node",
            &cves,
            |r| {
                Ok(StoredMatch {
                    cve: r.get(0)?,
                    config: r.get(1)?,
                    config_all: r.get(2)?,
                    node: r.get(3)?,
                    node_all: r.get(4)?,
                    node_negate: r.get(5)?,
                    vulnerable: r.get(6)?,
                    product: r.get(7)?,
                    version: r.get(8)?,
                    start_including: r.get(9)?,
                    start_excluding: r.get(10)?,
                    end_including: r.get(11)?,
                    end_excluding: r.get(12)?,
                })
            },
        )
    }

    fn cves(&self, rows: &BTreeSet<i64>) -> Result<Vec<CveInfo>, VulnError> {
        let rows: Vec<i64> = rows.iter().copied().collect();
        self.chunked(
            "SELECT id, cve_id, published, summary, cwe, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, kev_added, kev_due, \
             kev_action FROM vdb_cves WHERE id IN ({})",
            &rows,
            cve_row,
        )
    }

    fn cves_by_id(&self, ids: &BTreeSet<String>) -> Result<Vec<CveInfo>, VulnError> {
        let ids: Vec<&String> = ids.iter().collect();
        self.chunked(
            "SELECT id, cve_id, published, summary, cwe, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, kev_added, kev_due, \
             kev_action FROM vdb_cves \
             WHERE cve_id IN ({})",
            &ids,
            cve_row,
        )
    }

    fn advisory_products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<(i64, Product)>, VulnError> {
        let keys: Vec<&String> = keys.iter().collect();
        self.chunked(
            "SELECT advisory, product_id, vendor, family, name, full_name, version, version_range, model_numbers, cpe FROM vdb_advisory_products \
             WHERE vendor_key IN ({}) ORDER BY advisory, product_id",
            &keys,
            |r| {
                let models: String = r.get(8)?;
                Ok((
                    r.get(0)?,
                    Product {
                        id: r.get(1)?,
                        vendor: r.get(2)?,
                        family: r.get(3)?,
                        name: r.get(4)?,
                        full_name: r.get(5)?,
                        version: r.get(6)?,
                        version_range: r.get(7)?,
                        model_numbers: models.split('|').filter(|m| !m.is_empty()).map(str::to_string).collect(),
                        cpe: r.get(9)?,
                    },
                ))
            },
        )
    }

    fn advisories(&self, rows: &BTreeSet<i64>) -> Result<Vec<AdvisoryInfo>, VulnError> {
        let ids: Vec<i64> = rows.iter().copied().collect();
        let mut out: BTreeMap<i64, AdvisoryInfo> = self
            .chunked("SELECT id, tracking_id, publisher, title, release_date, url FROM vdb_advisories WHERE id IN ({})", &ids, |r| {
                Ok(AdvisoryInfo {
                    row: r.get(0)?,
                    tracking_id: r.get(1)?,
                    publisher: r.get(2)?,
                    title: r.get(3)?,
                    release_date: r.get(4)?,
                    url: r.get(5)?,
                    vulnerabilities: Vec::new(),
                })
            })?
            .into_iter()
            .map(|a| (a.row, a))
            .collect();
        let vulns = self.chunked(
            "SELECT advisory, cve_id, title, summary, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, statuses, remediations \
             FROM vdb_advisory_vulns WHERE advisory IN ({}) ORDER BY advisory, cve_id",
            &ids,
            |r| {
                let statuses: String = r.get(8)?;
                let remediations: String = r.get(9)?;
                Ok((
                    r.get::<_, i64>(0)?,
                    AdvisoryVuln {
                        cve: r.get(1)?,
                        title: r.get(2)?,
                        summary: r.get(3)?,
                        cvss3: score(r.get(4)?, r.get(5)?),
                        cvss4: score(r.get(6)?, r.get(7)?),
                        statuses: serde_json::from_str(&statuses).unwrap_or_default(),
                        remediations: parse_remediations(&remediations),
                    },
                ))
            },
        )?;
        for (row, v) in vulns {
            if let Some(a) = out.get_mut(&row) {
                a.vulnerabilities.push(v);
            }
        }
        Ok(out.into_values().collect())
    }

    fn kev(&self, cves: &BTreeSet<String>) -> Result<Vec<KevEntry>, VulnError> {
        let ids: Vec<&String> = cves.iter().collect();
        self.chunked(
            "SELECT cve_id, vendor, product, name, date_added, due_date, required_action, ransomware FROM vdb_kev WHERE cve_id IN ({})",
            &ids,
            kev_row,
        )
    }

    fn finish_import(&mut self) -> Result<(), VulnError> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(self.err())
    }

    fn cached_matches(&self, identity: &str, generation: i64) -> Result<Option<String>, VulnError> {
        self.conn
            .prepare_cached("SELECT data FROM vdb_identity_matches WHERE identity = ?1 AND generation = ?2")
            .and_then(|mut s| s.query_row(params![identity, generation], |r| r.get(0)).optional())
            .map_err(self.err())
    }

    fn cache_matches(&mut self, generation: i64, entries: &[(String, String)]) -> Result<(), VulnError> {
        let path = self.path.clone();
        let err = |source| VulnError::Database { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        // Entries of older generations are stale: drop them rather than let them pile up.
        tx.execute("DELETE FROM vdb_identity_matches WHERE generation <> ?1", params![generation]).map_err(err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO vdb_identity_matches (identity, generation, data) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (identity) DO UPDATE SET generation = excluded.generation, data = excluded.data",
                )
                .map_err(err)?;
            for (identity, data) in entries {
                stmt.execute(params![identity, generation, data]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

fn product_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CpeProduct> {
    Ok(CpeProduct { id: r.get(0)?, part: r.get(1)?, vendor: r.get(2)?, product: r.get(3)?, title: r.get(4)? })
}

fn cve_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CveInfo> {
    Ok(CveInfo {
        row: r.get(0)?,
        cve_id: r.get(1)?,
        published: r.get(2)?,
        summary: r.get(3)?,
        cwe: r.get(4)?,
        cvss3: score(r.get(5)?, r.get(6)?),
        cvss4: score(r.get(7)?, r.get(8)?),
        kev: r
            .get::<_, Option<String>>(9)?
            .map(|added| -> rusqlite::Result<KevEntry> {
                Ok(KevEntry {
                    cve_id: r.get(1)?,
                    date_added: added,
                    due_date: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                    required_action: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
                    ..Default::default()
                })
            })
            .transpose()?,
    })
}

fn kev_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KevEntry> {
    Ok(KevEntry {
        cve_id: r.get(0)?,
        vendor_project: r.get(1)?,
        product: r.get(2)?,
        vulnerability_name: r.get(3)?,
        date_added: r.get(4)?,
        due_date: r.get(5)?,
        required_action: r.get(6)?,
        known_ransomware_campaign_use: r.get(7)?,
    })
}

fn parse_remediations(text: &str) -> Vec<Remediation> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    values
        .iter()
        .map(|v| Remediation {
            category: v["category"].as_str().unwrap_or_default().to_string(),
            details: v["details"].as_str().unwrap_or_default().to_string(),
            url: v["url"].as_str().map(str::to_string),
            product_ids: v["product_ids"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            fixed_version: v["fixed_version"].as_str().map(str::to_string),
        })
        .collect()
}
