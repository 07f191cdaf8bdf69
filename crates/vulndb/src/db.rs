//! Where imported vulnerability data lives: [`VulnStore`] is the interface
//! matching and import use. The data is kept in tables of its own (`vdb_*`,
//! versioned by `vdb_meta`) beside the inventory: in the same SQLite file
//! ([`crate::SqliteVulnDb`]) or the console's PostgreSQL database
//! ([`crate::PgVulnDb`]). Every statement and migration is written once,
//! here, in plain SQL both understand; the backends add only connections,
//! transactions, placeholders and bulk inserts.

use crate::csaf::{Advisory, AdvisoryVuln, Product, Remediation};
use crate::import::ImportBatch;
use crate::kev::KevEntry;
use crate::names::vendor_keys;
use crate::nvd::{parse_cpe, CpeEntry, CveRecord, Score};
use crate::sql::{placeholders, rows_in, values, Backend, Row, Tx, Value};
use crate::VulnError;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Schema migrations of the `vdb_*` tables; the version is the index plus
/// one. Row ids are given by the importer (one writer at a time), so the
/// same statements work on both databases; PostgreSQL reads `INTEGER` as
/// `BIGINT` and `REAL` as `DOUBLE PRECISION`.
pub(crate) const MIGRATIONS: &[&str] = &[
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
    r#"
ALTER TABLE vdb_imports ADD COLUMN changed INTEGER;
ALTER TABLE vdb_imports ADD COLUMN batch TEXT;
ALTER TABLE vdb_imports ADD COLUMN imported_by TEXT;
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

/// One entry of the import log: a file (or archive member) imported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredImport {
    /// The file as named when imported (`archive.zip/member.json` for members).
    pub path: String,
    /// `nvd-cve`, `nvd-cpe`, `csaf` or `kev`.
    pub kind: String,
    /// Records read.
    pub records: u64,
    /// Records new or changed (`None` for imports logged before this was kept).
    pub changed: Option<u64>,
    /// When (RFC 3339).
    pub imported_at: String,
    /// The batch of files imported together (`None` for older imports).
    pub batch: Option<String>,
    /// Who imported (`None` for older imports).
    pub user: Option<String>,
}

/// The storage interface of the vulnerability database.
pub trait VulnStore {
    /// Starts writing one file's records; nothing is visible until [`ImportWriter::commit`].
    fn writer(&mut self) -> Result<Box<dyn ImportWriter + '_>, VulnError>;
    /// Counts of what is stored.
    fn status(&self) -> Result<DbStatus, VulnError>;
    /// The import generation: goes up with every file that changed something, so cached matches know they are stale.
    fn generation(&self) -> Result<i64, VulnError>;
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
    /// The cached matches of these device identities that were computed at this generation, by identity.
    fn cached_matches(&self, identities: &[String], generation: i64) -> Result<HashMap<String, String>, VulnError>;
    /// Called after a batch of files: gives back space the import used temporarily.
    fn finish_import(&mut self) -> Result<(), VulnError>;
    /// Caches the matches of identities, `(identity, data)`, computed at this generation.
    fn cache_matches(&mut self, generation: i64, entries: &[(String, String)]) -> Result<(), VulnError>;
    /// The import log, newest first, at most `limit` entries.
    fn imports(&self, limit: usize) -> Result<Vec<StoredImport>, VulnError>;
}

/// Writes one file's records in one transaction; dropping it without
/// [`ImportWriter::commit`] leaves nothing of the file behind.
pub trait ImportWriter {
    /// Adds or updates a CVE (a record whose `lastModified` is already stored is skipped).
    fn cve(&mut self, cve: CveRecord) -> Result<(), VulnError>;
    /// Adds a CPE dictionary entry (its product and title).
    fn cpe(&mut self, entry: &CpeEntry) -> Result<(), VulnError>;
    /// Replaces an advisory (same tracking id) by this one.
    fn advisory(&mut self, advisory: &Advisory) -> Result<(), VulnError>;
    /// Empties the KEV catalog (a catalog file replaces the whole list).
    fn clear_kev(&mut self) -> Result<(), VulnError>;
    /// Adds a KEV entry.
    fn kev(&mut self, entry: &KevEntry) -> Result<(), VulnError>;
    /// Makes the file's records visible, logs the import in its batch and says how many records were new or changed.
    fn commit(self: Box<Self>, import: &FileImport, batch: &ImportBatch) -> Result<u64, VulnError>;
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

/// Brings the `vdb_*` tables to the newest schema, under the writers' lock.
pub(crate) fn migrate<B: Backend>(db: &mut B) -> Result<(), VulnError> {
    let name = db.name().to_string();
    let mut tx = db.begin()?;
    tx.batch("CREATE TABLE IF NOT EXISTS vdb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
    let current = meta(&mut tx, "schema_version")?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(VulnError::TooNew { path: name, found: current, supported });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        tx.batch(&B::dialect(sql))?;
        set_meta(&mut tx, "schema_version", i as i64 + 1)?;
    }
    tx.commit()
}

fn meta(tx: &mut impl Tx, key: &str) -> Result<i64, VulnError> {
    let rows = tx.query("SELECT value FROM vdb_meta WHERE key = $1", &values![key])?;
    Ok(rows.first().map_or(0, |r| r.int(0)))
}

fn set_meta(tx: &mut impl Tx, key: &str, value: i64) -> Result<(), VulnError> {
    tx.exec(
        "INSERT INTO vdb_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &values![key, value.to_string()],
    )
}

fn score(score: Option<f64>, vector: Option<String>) -> Option<Score> {
    Some(Score { base: score?, vector: vector.unwrap_or_default() })
}

/// CVE records buffered before they are written together.
const CVE_BATCH: usize = 1000;
/// New CPE products buffered before they are written together.
const PRODUCT_BATCH: usize = 5000;

const PRODUCT_COLUMNS: &[&str] = &["id", "part", "vendor", "product", "vendor_key", "title"];
const CVE_COLUMNS: &[&str] = &[
    "id",
    "cve_id",
    "published",
    "last_modified",
    "status",
    "summary",
    "cwe",
    "cvss3_score",
    "cvss3_vector",
    "cvss4_score",
    "cvss4_vector",
    "kev_added",
    "kev_due",
    "kev_action",
    "from_nvd",
];
const MATCH_COLUMNS: &[&str] = &[
    "cve",
    "config",
    "config_all",
    "node",
    "node_all",
    "node_negate",
    "vulnerable",
    "product",
    "version",
    "start_incl",
    "start_excl",
    "end_incl",
    "end_excl",
];

/// A CPE product the writer knows of.
struct ProductSlot {
    id: i64,
    /// It has a dictionary title already (the first one stays).
    titled: bool,
    /// Its place in [`Writer::new_products`] while it is not written yet.
    pending: Option<usize>,
}

/// A CPE product not written yet.
struct NewProduct {
    prefix: String,
    row: Vec<Value>,
}

/// Writes through one transaction; dropping it without commit rolls back.
struct Writer<T: Tx> {
    tx: T,
    products: HashMap<String, ProductSlot>,
    new_products: Vec<NewProduct>,
    cves: Vec<CveRecord>,
    /// The last row ids given, per table.
    last_cve: i64,
    last_product: i64,
    last_advisory: i64,
    /// The KEV catalog before this file, while a catalog is being replaced.
    old_kev: Option<HashMap<String, KevEntry>>,
    changed: u64,
}

impl<T: Tx> Writer<T> {
    fn new(mut tx: T) -> Result<Self, VulnError> {
        let mut products = HashMap::new();
        for r in tx.query("SELECT id, part, vendor, product, CASE WHEN title IS NULL THEN 0 ELSE 1 END FROM vdb_products", &[])? {
            let prefix = format!("cpe:2.3:{}:{}:{}", r.text(1), r.text(2), r.text(3));
            products.insert(prefix, ProductSlot { id: r.int(0), titled: r.flag(4), pending: None });
        }
        let last = tx.query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM vdb_cves), (SELECT COALESCE(MAX(id), 0) FROM vdb_products), \
             (SELECT COALESCE(MAX(id), 0) FROM vdb_advisories)",
            &[],
        )?;
        let last = last.first().cloned().unwrap_or_default();
        Ok(Writer {
            tx,
            products,
            new_products: Vec::new(),
            cves: Vec::new(),
            last_cve: last.int(0),
            last_product: last.int(1),
            last_advisory: last.int(2),
            old_kev: None,
            changed: 0,
        })
    }

    /// The row id of a CPE product, adding it when new.
    fn product_id(&mut self, criteria: &str) -> Option<i64> {
        let cpe = parse_cpe(criteria)?;
        if let Some(slot) = self.products.get(cpe.product_prefix) {
            return Some(slot.id);
        }
        self.last_product += 1;
        let id = self.last_product;
        let row = Vec::from(values![id, cpe.part, cpe.vendor, cpe.product, stored_vendor_key(cpe.vendor), Value::Null]);
        self.products.insert(cpe.product_prefix.to_string(), ProductSlot { id, titled: false, pending: Some(self.new_products.len()) });
        self.new_products.push(NewProduct { prefix: cpe.product_prefix.to_string(), row });
        Some(id)
    }

    fn flush_products(&mut self) -> Result<(), VulnError> {
        if self.new_products.is_empty() {
            return Ok(());
        }
        let new = std::mem::take(&mut self.new_products);
        let rows: Vec<Vec<Value>> = new.iter().map(|p| p.row.clone()).collect();
        self.tx.insert_rows("vdb_products", PRODUCT_COLUMNS, &rows)?;
        for p in new {
            if let Some(slot) = self.products.get_mut(&p.prefix) {
                slot.pending = None;
            }
        }
        Ok(())
    }

    /// Writes the buffered CVE records: one look-up of what is stored, then bulk inserts.
    fn flush_cves(&mut self) -> Result<(), VulnError> {
        if self.cves.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.cves);
        // A record listed twice: the later one stands, as if written in turn.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(batch.len());
        for (i, c) in batch.iter().enumerate() {
            last.insert(c.id.as_str(), i);
        }
        let keys: Vec<Value> =
            batch.iter().enumerate().filter(|(i, c)| last.get(c.id.as_str()) == Some(i)).map(|(_, c)| Value::from(&c.id)).collect();
        let tx = &mut self.tx;
        let stored: HashMap<String, (i64, Option<String>)> = rows_in(
            |sql, keys| tx.query_in(sql, keys),
            "SELECT id, cve_id, last_modified FROM vdb_cves WHERE cve_id IN ({})",
            &keys,
            |r| (r.text(1), (r.int(0), r.opt_text(2))),
        )?
        .into_iter()
        .collect();
        let (mut cve_rows, mut match_rows, mut replaced) = (Vec::new(), Vec::new(), Vec::new());
        for (i, cve) in batch.iter().enumerate() {
            if last.get(cve.id.as_str()) != Some(&i) {
                continue;
            }
            let prior = stored.get(&cve.id);
            if prior.is_some_and(|(_, modified)| modified.is_some() && *modified == cve.last_modified) {
                continue;
            }
            self.changed += 1;
            let kev = cve.kev.as_ref();
            let fields = values![
                cve.published.as_deref(),
                cve.last_modified.as_deref(),
                cve.status.as_deref(),
                &cve.summary,
                &cve.cwe,
                cve.cvss3.as_ref().map(|s| s.base),
                cve.cvss3.as_ref().map(|s| s.vector.as_str()),
                cve.cvss4.as_ref().map(|s| s.base),
                cve.cvss4.as_ref().map(|s| s.vector.as_str()),
                kev.map(|k| k.date_added.as_str()),
                kev.map(|k| k.due_date.as_str()),
                kev.map(|k| k.required_action.as_str()),
            ];
            let row = match prior {
                Some(&(row, _)) => {
                    let mut params = Vec::from(values![row]);
                    params.extend(fields);
                    self.tx.exec(
                        "UPDATE vdb_cves SET published = $2, last_modified = $3, status = $4, summary = $5, cwe = $6, cvss3_score = $7, \
                         cvss3_vector = $8, cvss4_score = $9, cvss4_vector = $10, kev_added = $11, kev_due = $12, kev_action = $13, \
                         from_nvd = 1 WHERE id = $1",
                        &params,
                    )?;
                    replaced.push(Value::Int(row));
                    row
                }
                None => {
                    self.last_cve += 1;
                    let mut values = Vec::from(values![self.last_cve, &cve.id]);
                    values.extend(fields);
                    values.push(Value::Int(1));
                    cve_rows.push(values);
                    self.last_cve
                }
            };
            if cve.status.as_deref() == Some("Rejected") {
                continue;
            }
            for (ci, config) in cve.configurations.iter().enumerate() {
                for (ni, node) in config.nodes.iter().enumerate() {
                    for m in &node.matches {
                        let Some(product) = self.product_id(&m.criteria) else { continue };
                        let version = parse_cpe(&m.criteria).map_or("*", |c| c.version);
                        match_rows.push(Vec::from(values![
                            row,
                            ci as i64,
                            config.all,
                            ni as i64,
                            node.all,
                            node.negate,
                            m.vulnerable,
                            product,
                            version,
                            m.start_including.as_deref(),
                            m.start_excluding.as_deref(),
                            m.end_including.as_deref(),
                            m.end_excluding.as_deref(),
                        ]));
                    }
                }
            }
        }
        self.tx.exec_in("DELETE FROM vdb_cpe_matches WHERE cve IN ({})", &replaced)?;
        self.flush_products()?;
        self.tx.insert_rows("vdb_cves", CVE_COLUMNS, &cve_rows)?;
        self.tx.insert_rows("vdb_cpe_matches", MATCH_COLUMNS, &match_rows)
    }
}

impl<T: Tx> ImportWriter for Writer<T> {
    fn cve(&mut self, cve: CveRecord) -> Result<(), VulnError> {
        self.cves.push(cve);
        if self.cves.len() >= CVE_BATCH {
            self.flush_cves()?;
        }
        Ok(())
    }

    fn cpe(&mut self, entry: &CpeEntry) -> Result<(), VulnError> {
        if entry.deprecated {
            return Ok(());
        }
        let Some(cpe) = parse_cpe(&entry.name) else {
            return Err(VulnError::Format(format!("cpeName {:?} is not a CPE 2.3 name", entry.name)));
        };
        if !self.products.contains_key(cpe.product_prefix) {
            self.changed += 1;
        }
        let Some(id) = self.product_id(&entry.name) else { return Ok(()) };
        // The title without the version it ends with names the product.
        let title = entry.title.as_deref().map(|t| {
            let t = t.trim();
            let v = cpe.version.replace('\\', "");
            t.strip_suffix(v.as_str()).map_or(t, str::trim_end).to_string()
        });
        if let (Some(title), Some(slot)) = (title, self.products.get_mut(cpe.product_prefix)) {
            if !slot.titled {
                slot.titled = true;
                match slot.pending.and_then(|i| self.new_products.get_mut(i)).and_then(|p| p.row.get_mut(5)) {
                    Some(cell) => *cell = Value::Text(title),
                    None => self.tx.exec("UPDATE vdb_products SET title = $2 WHERE id = $1 AND title IS NULL", &values![id, title])?,
                }
            }
        }
        if self.new_products.len() >= PRODUCT_BATCH {
            self.flush_products()?;
        }
        Ok(())
    }

    fn advisory(&mut self, a: &Advisory) -> Result<(), VulnError> {
        self.flush_cves()?;
        let old =
            self.tx.query("SELECT id, revision, release_date FROM vdb_advisories WHERE tracking_id = $1", &values![&a.tracking_id])?;
        if let Some(old) = old.first() {
            if old.text(1) == a.revision && old.text(2) == a.release_date {
                return Ok(());
            }
            for table in ["vdb_advisory_products", "vdb_advisory_vulns"] {
                self.tx.exec(&format!("DELETE FROM {table} WHERE advisory = $1"), &values![old.int(0)])?;
            }
            self.tx.exec("DELETE FROM vdb_advisories WHERE id = $1", &values![old.int(0)])?;
        }
        self.changed += 1;
        self.last_advisory += 1;
        let row = self.last_advisory;
        self.tx.exec(
            "INSERT INTO vdb_advisories (id, tracking_id, publisher, title, release_date, revision, url) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &values![row, &a.tracking_id, &a.publisher, &a.title, &a.release_date, &a.revision, a.url.as_deref()],
        )?;
        for p in &a.products {
            self.tx.exec(
                "INSERT INTO vdb_advisory_products (advisory, product_id, vendor, vendor_key, family, name, full_name, version, \
                 version_range, model_numbers, cpe) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (advisory, product_id) DO NOTHING",
                &values![
                    row,
                    &p.id,
                    &p.vendor,
                    stored_vendor_key(&p.vendor),
                    p.family.as_deref(),
                    &p.name,
                    &p.full_name,
                    p.version.as_deref(),
                    p.version_range.as_deref(),
                    p.model_numbers.join("|"),
                    p.cpe.as_deref(),
                ],
            )?;
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
            let scores = values![
                v.cvss3.as_ref().map(|s| s.base),
                v.cvss3.as_ref().map(|s| s.vector.as_str()),
                v.cvss4.as_ref().map(|s| s.base),
                v.cvss4.as_ref().map(|s| s.vector.as_str()),
            ];
            let mut params = Vec::from(values![row, &v.cve, &v.title, &v.summary]);
            params.extend(scores.iter().cloned());
            params.extend(values![statuses, serde_json::Value::Array(remediations).to_string()]);
            self.tx.exec(
                "INSERT INTO vdb_advisory_vulns (advisory, cve_id, title, summary, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, \
                 statuses, remediations) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (advisory, cve_id) DO NOTHING",
                &params,
            )?;
            // CVEs NVD has not told us about yet get the advisory's words and scores.
            if v.cve.starts_with("CVE-") {
                self.last_cve += 1;
                let summary = if v.summary.is_empty() { &v.title } else { &v.summary };
                let mut params = Vec::from(values![self.last_cve, &v.cve, summary]);
                params.extend(scores);
                self.tx.exec(
                    "INSERT INTO vdb_cves (id, cve_id, summary, cwe, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, from_nvd) \
                     VALUES ($1, $2, $3, '', $4, $5, $6, $7, 0) ON CONFLICT (cve_id) DO NOTHING",
                    &params,
                )?;
            }
        }
        Ok(())
    }

    fn clear_kev(&mut self) -> Result<(), VulnError> {
        let old = self.tx.query(&format!("SELECT {KEV_COLUMNS} FROM vdb_kev"), &[])?;
        self.old_kev = Some(old.iter().map(kev_row).map(|e| (e.cve_id.clone(), e)).collect());
        self.tx.exec("DELETE FROM vdb_kev", &[])
    }

    fn kev(&mut self, e: &KevEntry) -> Result<(), VulnError> {
        let unchanged = self.old_kev.as_mut().and_then(|old| old.remove(&e.cve_id)).is_some_and(|o| o == *e);
        self.changed += u64::from(!unchanged);
        self.tx.exec(
            &format!(
                "INSERT INTO vdb_kev ({KEV_COLUMNS}) VALUES ({}) ON CONFLICT (cve_id) DO UPDATE SET vendor = excluded.vendor, \
                 product = excluded.product, name = excluded.name, date_added = excluded.date_added, due_date = excluded.due_date, \
                 required_action = excluded.required_action, ransomware = excluded.ransomware",
                placeholders(1, 8)
            ),
            &values![
                &e.cve_id,
                &e.vendor_project,
                &e.product,
                &e.vulnerability_name,
                &e.date_added,
                &e.due_date,
                &e.required_action,
                &e.known_ransomware_campaign_use,
            ],
        )
    }

    fn commit(mut self: Box<Self>, import: &FileImport, batch: &ImportBatch) -> Result<u64, VulnError> {
        self.flush_cves()?;
        self.flush_products()?;
        // Entries a new catalog no longer lists are a change too.
        let removed = self.old_kev.as_ref().map_or(0, |old| old.len() as u64);
        let id = self.tx.query("SELECT COALESCE(MAX(id), 0) + 1 FROM vdb_imports", &[])?.first().map_or(1, |r| r.int(0));
        let logged = i64::try_from(self.changed).unwrap_or(i64::MAX);
        self.tx.exec(
            "INSERT INTO vdb_imports (id, path, kind, records, imported_at, changed, batch, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &values![
                id,
                &import.path,
                &import.kind,
                import.records as i64,
                chrono::Utc::now().to_rfc3339(),
                logged,
                &batch.id,
                &batch.user
            ],
        )?;
        if self.changed + removed > 0 {
            let generation = meta(&mut self.tx, "generation")?;
            set_meta(&mut self.tx, "generation", generation + 1)?;
        }
        let changed = self.changed;
        self.tx.commit()?;
        Ok(changed)
    }
}

const CVE_DETAILS: &str =
    "SELECT id, cve_id, published, summary, cwe, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, kev_added, kev_due, kev_action FROM vdb_cves";
const KEV_COLUMNS: &str = "cve_id, vendor, product, name, date_added, due_date, required_action, ransomware";

fn ints(ids: &BTreeSet<i64>) -> Vec<Value> {
    ids.iter().map(|&i| Value::Int(i)).collect()
}

fn texts(ids: &BTreeSet<String>) -> Vec<Value> {
    ids.iter().map(Value::from).collect()
}

impl<B: Backend> VulnStore for B {
    fn writer(&mut self) -> Result<Box<dyn ImportWriter + '_>, VulnError> {
        Ok(Box::new(Writer::new(self.begin()?)?))
    }

    fn status(&self) -> Result<DbStatus, VulnError> {
        let rows = self.query(
            "SELECT (SELECT COUNT(*) FROM vdb_cves), (SELECT COUNT(*) FROM vdb_cpe_matches), (SELECT COUNT(*) FROM vdb_products), \
             (SELECT COUNT(*) FROM vdb_advisories), (SELECT COUNT(*) FROM vdb_kev)",
            &[],
        )?;
        let r = rows.first().cloned().unwrap_or_default();
        let count = |i| u64::try_from(r.int(i)).unwrap_or(0);
        Ok(DbStatus {
            cves: count(0),
            cpe_matches: count(1),
            products: count(2),
            advisories: count(3),
            kev: count(4),
            generation: self.generation()?,
        })
    }

    fn generation(&self) -> Result<i64, VulnError> {
        Ok(self.query("SELECT value FROM vdb_meta WHERE key = 'generation'", &[])?.first().map_or(0, |r| r.int(0)))
    }

    fn products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<CpeProduct>, VulnError> {
        rows_in(
            |sql, keys| self.query_in(sql, keys),
            "SELECT id, part, vendor, product, title FROM vdb_products WHERE vendor_key IN ({}) ORDER BY id",
            &texts(keys),
            product_row,
        )
    }

    fn products(&self, ids: &BTreeSet<i64>) -> Result<Vec<CpeProduct>, VulnError> {
        rows_in(
            |sql, keys| self.query_in(sql, keys),
            "SELECT id, part, vendor, product, title FROM vdb_products WHERE id IN ({}) ORDER BY id",
            &ints(ids),
            product_row,
        )
    }

    fn configurations_naming(&self, products: &BTreeSet<i64>) -> Result<Vec<StoredMatch>, VulnError> {
        let query = |sql: &str, keys: &[Value]| self.query_in(sql, keys);
        let cves: BTreeSet<i64> =
            rows_in(query, "SELECT DISTINCT cve FROM vdb_cpe_matches WHERE product IN ({})", &ints(products), |r| r.int(0))?
                .into_iter()
                .collect();
        let mut out = rows_in(
            query,
            "SELECT cve, config, config_all, node, node_all, node_negate, vulnerable, product, version, start_incl, start_excl, end_incl, \
             end_excl FROM vdb_cpe_matches WHERE cve IN ({})",
            &ints(&cves),
            |r| StoredMatch {
                cve: r.int(0),
                config: r.int(1),
                config_all: r.flag(2),
                node: r.int(3),
                node_all: r.flag(4),
                node_negate: r.flag(5),
                vulnerable: r.flag(6),
                product: r.int(7),
                version: r.text(8),
                start_including: r.opt_text(9),
                start_excluding: r.opt_text(10),
                end_including: r.opt_text(11),
                end_excluding: r.opt_text(12),
            },
        )?;
        // One order whatever the database.
        out.sort_by(|a, b| {
            (a.cve, a.config, a.node, a.product, &a.version, &a.start_including, &a.start_excluding, &a.end_including, &a.end_excluding)
                .cmp(&(
                    b.cve,
                    b.config,
                    b.node,
                    b.product,
                    &b.version,
                    &b.start_including,
                    &b.start_excluding,
                    &b.end_including,
                    &b.end_excluding,
                ))
                .then(a.vulnerable.cmp(&b.vulnerable))
        });
        Ok(out)
    }

    fn cves(&self, rows: &BTreeSet<i64>) -> Result<Vec<CveInfo>, VulnError> {
        rows_in(|sql, keys| self.query_in(sql, keys), &format!("{CVE_DETAILS} WHERE id IN ({{}}) ORDER BY id"), &ints(rows), cve_row)
    }

    fn cves_by_id(&self, ids: &BTreeSet<String>) -> Result<Vec<CveInfo>, VulnError> {
        rows_in(|sql, keys| self.query_in(sql, keys), &format!("{CVE_DETAILS} WHERE cve_id IN ({{}}) ORDER BY id"), &texts(ids), cve_row)
    }

    fn advisory_products_of_vendors(&self, keys: &BTreeSet<String>) -> Result<Vec<(i64, Product)>, VulnError> {
        let mut out = rows_in(
            |sql, keys| self.query_in(sql, keys),
            "SELECT advisory, product_id, vendor, family, name, full_name, version, version_range, model_numbers, cpe FROM vdb_advisory_products \
             WHERE vendor_key IN ({})",
            &texts(keys),
            |r| {
                (
                    r.int(0),
                    Product {
                        id: r.text(1),
                        vendor: r.text(2),
                        family: r.opt_text(3),
                        name: r.text(4),
                        full_name: r.text(5),
                        version: r.opt_text(6),
                        version_range: r.opt_text(7),
                        model_numbers: r.text(8).split('|').filter(|m| !m.is_empty()).map(str::to_string).collect(),
                        cpe: r.opt_text(9),
                    },
                )
            },
        )?;
        // Sorted here: the databases' text orders differ.
        out.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        Ok(out)
    }

    fn advisories(&self, rows: &BTreeSet<i64>) -> Result<Vec<AdvisoryInfo>, VulnError> {
        let ids = ints(rows);
        let query = |sql: &str, keys: &[Value]| self.query_in(sql, keys);
        let mut out: BTreeMap<i64, AdvisoryInfo> = rows_in(
            query,
            "SELECT id, tracking_id, publisher, title, release_date, url FROM vdb_advisories WHERE id IN ({})",
            &ids,
            |r| AdvisoryInfo {
                row: r.int(0),
                tracking_id: r.text(1),
                publisher: r.text(2),
                title: r.text(3),
                release_date: r.text(4),
                url: r.opt_text(5),
                vulnerabilities: Vec::new(),
            },
        )?
        .into_iter()
        .map(|a| (a.row, a))
        .collect();
        let mut vulns = rows_in(
            query,
            "SELECT advisory, cve_id, title, summary, cvss3_score, cvss3_vector, cvss4_score, cvss4_vector, statuses, remediations \
             FROM vdb_advisory_vulns WHERE advisory IN ({})",
            &ids,
            |r| {
                (
                    r.int(0),
                    AdvisoryVuln {
                        cve: r.text(1),
                        title: r.text(2),
                        summary: r.text(3),
                        cvss3: score(r.opt_real(4), r.opt_text(5)),
                        cvss4: score(r.opt_real(6), r.opt_text(7)),
                        statuses: serde_json::from_str(&r.text(8)).unwrap_or_default(),
                        remediations: parse_remediations(&r.text(9)),
                    },
                )
            },
        )?;
        vulns.sort_by(|a, b| (a.0, &a.1.cve).cmp(&(b.0, &b.1.cve)));
        for (row, v) in vulns {
            if let Some(a) = out.get_mut(&row) {
                a.vulnerabilities.push(v);
            }
        }
        Ok(out.into_values().collect())
    }

    fn kev(&self, cves: &BTreeSet<String>) -> Result<Vec<KevEntry>, VulnError> {
        let mut out = rows_in(
            |sql, keys| self.query_in(sql, keys),
            &format!("SELECT {KEV_COLUMNS} FROM vdb_kev WHERE cve_id IN ({{}})"),
            &texts(cves),
            kev_row,
        )?;
        out.sort_by(|a, b| a.cve_id.cmp(&b.cve_id));
        Ok(out)
    }

    fn cached_matches(&self, identities: &[String], generation: i64) -> Result<HashMap<String, String>, VulnError> {
        let keys: Vec<Value> = identities.iter().map(Value::from).collect();
        let rows = rows_in(
            |sql, keys| self.query_in(sql, keys),
            "SELECT identity, generation, data FROM vdb_identity_matches WHERE identity IN ({})",
            &keys,
            |r| (r.int(1) == generation).then(|| (r.text(0), r.text(2))),
        )?;
        Ok(rows.into_iter().flatten().collect())
    }

    fn finish_import(&mut self) -> Result<(), VulnError> {
        self.after_import()
    }

    fn cache_matches(&mut self, generation: i64, entries: &[(String, String)]) -> Result<(), VulnError> {
        let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
        for (identity, data) in entries {
            latest.insert(identity, data);
        }
        let mut tx = self.begin()?;
        // Entries of older generations are stale: drop them rather than let them pile up.
        tx.exec("DELETE FROM vdb_identity_matches WHERE generation <> $1", &values![generation])?;
        let keys: Vec<Value> = latest.keys().map(|&k| Value::from(k)).collect();
        tx.exec_in("DELETE FROM vdb_identity_matches WHERE identity IN ({})", &keys)?;
        let rows: Vec<Vec<Value>> = latest.into_iter().map(|(identity, data)| Vec::from(values![identity, generation, data])).collect();
        tx.insert_rows("vdb_identity_matches", &["identity", "generation", "data"], &rows)?;
        tx.commit()
    }

    fn imports(&self, limit: usize) -> Result<Vec<StoredImport>, VulnError> {
        let rows = self.query(
            "SELECT path, kind, records, changed, imported_at, batch, imported_by FROM vdb_imports ORDER BY id DESC LIMIT $1",
            &values![i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        let count = |r: &Row, i| u64::try_from(r.int(i)).unwrap_or(0);
        Ok(rows
            .iter()
            .map(|r| StoredImport {
                path: r.text(0),
                kind: r.text(1),
                records: count(r, 2),
                changed: r.opt_text(3).map(|_| count(r, 3)),
                imported_at: r.text(4),
                batch: r.opt_text(5),
                user: r.opt_text(6),
            })
            .collect())
    }
}

fn product_row(r: &Row) -> CpeProduct {
    CpeProduct { id: r.int(0), part: r.text(1), vendor: r.text(2), product: r.text(3), title: r.opt_text(4) }
}

fn cve_row(r: &Row) -> CveInfo {
    CveInfo {
        row: r.int(0),
        cve_id: r.text(1),
        published: r.opt_text(2),
        summary: r.text(3),
        cwe: r.text(4),
        cvss3: score(r.opt_real(5), r.opt_text(6)),
        cvss4: score(r.opt_real(7), r.opt_text(8)),
        kev: r.opt_text(9).map(|added| KevEntry {
            cve_id: r.text(1),
            date_added: added,
            due_date: r.text(10),
            required_action: r.text(11),
            ..Default::default()
        }),
    }
}

fn kev_row(r: &Row) -> KevEntry {
    KevEntry {
        cve_id: r.text(0),
        vendor_project: r.text(1),
        product: r.text(2),
        vulnerability_name: r.text(3),
        date_added: r.text(4),
        due_date: r.text(5),
        required_action: r.text(6),
        known_ransomware_campaign_use: r.text(7),
    }
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
