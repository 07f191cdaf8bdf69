//! Detection storage: alerts, the baseline, threat intelligence and the
//! learning state, written once in SQL that SQLite and PostgreSQL both run
//! (through [`Db`]), so every store has it.

use crate::db::{Db, Row, Value};
use crate::StoreError;
use palisade_detect::{Alert, BaselineKey, BaselineRow, DetectionState, Indicator, IndicatorKind, Learning};
use palisade_model::{AlertCategory, AlertStatus, DetectionEngine, MacAddr, Protocol, Severity, Timestamp};

/// The detection tables (SQLite dialect; PostgreSQL's is [`DETECTION_MIGRATION_PG`]).
pub(crate) const DETECTION_MIGRATION_SQLITE: &str = r#"
CREATE TABLE alerts (id INTEGER PRIMARY KEY, group_key TEXT NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL, engine TEXT NOT NULL,
                     severity TEXT NOT NULL, status TEXT NOT NULL, src_ip TEXT, src_mac TEXT, dst_ip TEXT, dst_mac TEXT, protocol TEXT,
                     first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, count INTEGER NOT NULL, description TEXT NOT NULL,
                     remediation TEXT NOT NULL, evidence TEXT, evidence_packets INTEGER NOT NULL, baseline_items TEXT NOT NULL);
CREATE INDEX alerts_status ON alerts (status, id);
CREATE INDEX alerts_group ON alerts (group_key);
CREATE INDEX alerts_last ON alerts (last_ns, id);
CREATE TABLE baseline (kind TEXT NOT NULL, item TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, count INTEGER NOT NULL,
                       learned INTEGER NOT NULL, peak_bytes INTEGER NOT NULL, peak_packets INTEGER NOT NULL, PRIMARY KEY (kind, item));
CREATE INDEX baseline_first ON baseline (first_ns);
CREATE TABLE intel (kind TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE detection_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// The detection tables in PostgreSQL's dialect.
pub(crate) const DETECTION_MIGRATION_PG: &str = r#"
CREATE TABLE alerts (id BIGSERIAL PRIMARY KEY, group_key TEXT NOT NULL, title TEXT NOT NULL, category TEXT COLLATE "C" NOT NULL,
                     engine TEXT COLLATE "C" NOT NULL, severity TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL, src_ip TEXT,
                     src_mac TEXT, dst_ip TEXT, dst_mac TEXT, protocol TEXT, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL,
                     count BIGINT NOT NULL, description TEXT NOT NULL, remediation TEXT NOT NULL, evidence TEXT,
                     evidence_packets BIGINT NOT NULL, baseline_items TEXT NOT NULL);
CREATE INDEX alerts_status ON alerts (status, id);
CREATE INDEX alerts_group ON alerts (group_key);
CREATE INDEX alerts_last ON alerts (last_ns, id);
CREATE TABLE baseline (kind TEXT COLLATE "C" NOT NULL, item TEXT COLLATE "C" NOT NULL, first_ns BIGINT NOT NULL, last_ns BIGINT NOT NULL,
                       count BIGINT NOT NULL, learned BIGINT NOT NULL, peak_bytes BIGINT NOT NULL, peak_packets BIGINT NOT NULL,
                       PRIMARY KEY (kind, item));
CREATE INDEX baseline_first ON baseline (first_ns);
CREATE TABLE intel (kind TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE detection_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// Baseline rows written per statement.
const ROWS_PER_STATEMENT: usize = 200;

/// Which alerts to list.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Only alerts with this status.
    pub status: Option<AlertStatus>,
    /// At most this many (the oldest first).
    pub limit: Option<usize>,
}

/// What detection stores. Every [`crate::Database`] has it.
pub trait AlertStore {
    /// What detection continues from: the learning state, the baseline,
    /// the alerts that are not closed, and the threat intelligence.
    fn load_detection(&self) -> Result<DetectionState, StoreError>;
    /// Saves an analysis' detection outcome: new alerts get their ids (in
    /// `alerts`), changed ones are updated, baseline rows are upserted.
    fn save_detection(&mut self, alerts: &mut [Alert], baseline: &[BaselineRow], learning: &Learning) -> Result<(), StoreError>;
    /// Records an alert's evidence file and its number of packets.
    fn set_alert_evidence(&mut self, id: i64, path: &str, packets: u32) -> Result<(), StoreError>;
    /// Stored alerts, oldest first.
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError>;
    /// One alert.
    fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError>;
    /// Changes an alert's status; `learned` also makes the baseline facts it
    /// deviated from part of the baseline. Returns the updated alert.
    fn set_alert_status(&mut self, id: i64, status: AlertStatus) -> Result<Option<Alert>, StoreError>;
    /// Every baseline fact.
    fn baseline(&self) -> Result<Vec<BaselineRow>, StoreError>;
    /// The learning state, if detection ever ran.
    fn learning(&self) -> Result<Option<Learning>, StoreError>;
    /// Replaces the learning state (switching learning on again).
    fn save_learning(&mut self, learning: &Learning) -> Result<(), StoreError>;
    /// Adds indicators; returns how many were new.
    fn add_intel(&mut self, indicators: &[Indicator]) -> Result<usize, StoreError>;
    /// Every stored indicator.
    fn intel(&self) -> Result<Vec<Indicator>, StoreError>;
}

pub(crate) const ALERT_COLUMNS: &str =
    "id, group_key, title, category, engine, severity, status, src_ip, src_mac, dst_ip, dst_mac, protocol, \
                             first_ns, last_ns, count, description, remediation, evidence, evidence_packets, baseline_items";

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt { path: "alerts".into(), what }
}

/// An alert from a row of [`ALERT_COLUMNS`].
pub(crate) fn alert_row(r: &Row) -> Result<Alert, StoreError> {
    let name = |i: usize| r.text(i);
    let category = AlertCategory::from_name(&name(3)).ok_or_else(|| corrupt(format!("alert category {:?}", name(3))))?;
    let engine = DetectionEngine::from_name(&name(4)).ok_or_else(|| corrupt(format!("alert engine {:?}", name(4))))?;
    let severity = Severity::from_name(&name(5)).ok_or_else(|| corrupt(format!("alert severity {:?}", name(5))))?;
    let status = AlertStatus::from_name(&name(6)).ok_or_else(|| corrupt(format!("alert status {:?}", name(6))))?;
    Ok(Alert {
        id: r.int(0),
        group_key: name(1),
        title: name(2),
        category,
        engine,
        severity,
        status,
        src_ip: r.opt_text(7).and_then(|t| t.parse().ok()),
        src_mac: r.opt_text(8).and_then(|t| MacAddr::parse(&t)),
        dst_ip: r.opt_text(9).and_then(|t| t.parse().ok()),
        dst_mac: r.opt_text(10).and_then(|t| MacAddr::parse(&t)),
        protocol: r.opt_text(11).and_then(|t| Protocol::from_name(&t)),
        first_seen: Timestamp(r.int(12)),
        last_seen: Timestamp(r.int(13)),
        count: r.int(14).max(0) as u64,
        description: name(15),
        remediation: name(16),
        evidence: r.opt_text(17),
        evidence_packets: r.int(18).clamp(0, i64::from(u32::MAX)) as u32,
        baseline_items: name(19).lines().filter(|l| !l.is_empty()).map(String::from).collect(),
    })
}

fn baseline_row(r: &Row) -> BaselineRow {
    BaselineRow {
        kind: r.text(0),
        item: r.text(1),
        first_seen: Timestamp(r.int(2)),
        last_seen: Timestamp(r.int(3)),
        count: r.int(4).max(0) as u64,
        learned: r.flag(5),
        peak_bytes: r.int(6).max(0) as u64,
        peak_packets: r.int(7).max(0) as u64,
    }
}

fn text<T: ToString>(v: Option<T>) -> Value {
    Value::from(v.map(|x| x.to_string()))
}

fn count(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The values of an alert's columns after the id, in [`ALERT_COLUMNS`] order.
pub(crate) fn alert_values(a: &Alert) -> Vec<Value> {
    vec![
        a.group_key.clone().into(),
        a.title.clone().into(),
        a.category.as_str().into(),
        a.engine.as_str().into(),
        a.severity.as_str().into(),
        a.status.as_str().into(),
        text(a.src_ip),
        text(a.src_mac),
        text(a.dst_ip),
        text(a.dst_mac),
        text(a.protocol),
        Value::Int(a.first_seen.0),
        Value::Int(a.last_seen.0),
        count(a.count),
        a.description.clone().into(),
        a.remediation.clone().into(),
        a.evidence.clone().into(),
        Value::Int(i64::from(a.evidence_packets)),
        a.baseline_items.join("\n").into(),
    ]
}

/// Learning an alert accepts what came with its deviation too: for an alert
/// between two hosts, every fact of that pair and the protocols both use or
/// serve; for an alert about one host (a new device, a scanner), every fact
/// about that host. Otherwise the next analysis would alert on the details
/// of a change the analyst just accepted.
fn learn_around(db: &impl Db, site: i64, alert: &Alert) -> Result<(), StoreError> {
    let host = |ip: Option<std::net::IpAddr>, mac: Option<MacAddr>| ip.map(|i| i.to_string()).or(mac.map(|m| m.to_string()));
    match (host(alert.src_ip, alert.src_mac), host(alert.dst_ip, alert.dst_mac)) {
        (Some(src), Some(dst)) => {
            db.exec(
                "UPDATE baseline SET learned = 1 WHERE site_id = $6 AND learned = 0 AND (item LIKE $1 \
                 OR (kind IN ('protocol', 'host', 'internet') AND (item LIKE $2 OR item LIKE $3 OR item = $4 OR item = $5)))",
                &[
                    format!("{src} {dst} %").into(),
                    format!("{src} %").into(),
                    format!("{dst} %").into(),
                    src.clone().into(),
                    dst.into(),
                    site.into(),
                ],
            )?;
        }
        (Some(h), None) => {
            db.exec(
                "UPDATE baseline SET learned = 1 WHERE site_id = $5 AND learned = 0 \
                 AND (item = $1 OR item LIKE $2 OR item LIKE $3 OR item LIKE $4)",
                &[h.clone().into(), format!("{h} %").into(), format!("% {h} %").into(), format!("% {h}").into(), site.into()],
            )?;
        }
        _ => {}
    }
    Ok(())
}

impl<T: Db> AlertStore for T {
    fn load_detection(&self) -> Result<DetectionState, StoreError> {
        let alerts = self
            .rows(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE status <> $1 AND site_id = $2 ORDER BY id"),
                &[AlertStatus::Closed.as_str().into(), self.scope().into()],
            )?
            .iter()
            .map(alert_row)
            .collect::<Result<_, _>>()?;
        Ok(DetectionState { learning: self.learning()?, baseline: self.baseline()?, alerts, intel: self.intel()? })
    }

    fn save_detection(&mut self, alerts: &mut [Alert], baseline: &[BaselineRow], learning: &Learning) -> Result<(), StoreError> {
        for chunk in baseline.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO baseline (site_id, kind, item, first_ns, last_ns, count, learned, peak_bytes, peak_packets) VALUES ",
            );
            let mut params = Vec::with_capacity(chunk.len() * 9);
            for (i, r) in chunk.iter().enumerate() {
                let n = i * 9;
                if i > 0 {
                    sql.push_str(", ");
                }
                let numbers: Vec<String> = (n + 1..=n + 9).map(|k| format!("${k}")).collect();
                sql.push_str(&format!("({})", numbers.join(", ")));
                params.extend([
                    Value::Int(self.scope()),
                    r.kind.clone().into(),
                    r.item.clone().into(),
                    Value::Int(r.first_seen.0),
                    Value::Int(r.last_seen.0),
                    count(r.count),
                    Value::Int(i64::from(r.learned)),
                    count(r.peak_bytes),
                    count(r.peak_packets),
                ]);
            }
            sql.push_str(
                " ON CONFLICT (site_id, kind, item) DO UPDATE SET first_ns = excluded.first_ns, last_ns = excluded.last_ns, count = excluded.count, \
                 learned = excluded.learned, peak_bytes = excluded.peak_bytes, peak_packets = excluded.peak_packets",
            );
            self.exec(&sql, &params)?;
        }
        for a in alerts.iter_mut() {
            let values = alert_values(a);
            if a.id == 0 {
                let mut values = values;
                values.push(Value::Int(self.scope()));
                let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
                let columns = ALERT_COLUMNS.trim_start_matches("id, ");
                a.id = self.insert_id(&format!("INSERT INTO alerts ({columns}, site_id) VALUES ({})", placeholders.join(", ")), &values)?;
            } else {
                let mut params = values;
                params.push(Value::Int(a.id));
                self.exec(
                    "UPDATE alerts SET group_key = $1, title = $2, category = $3, engine = $4, severity = $5, status = $6, src_ip = $7, \
                     src_mac = $8, dst_ip = $9, dst_mac = $10, protocol = $11, first_ns = $12, last_ns = $13, count = $14, \
                     description = $15, remediation = $16, evidence = $17, evidence_packets = $18, baseline_items = $19 WHERE id = $20",
                    &params,
                )?;
            }
        }
        self.save_learning(learning)
    }

    fn set_alert_evidence(&mut self, id: i64, path: &str, packets: u32) -> Result<(), StoreError> {
        self.exec(
            "UPDATE alerts SET evidence = $1, evidence_packets = $2 WHERE id = $3",
            &[path.into(), Value::Int(i64::from(packets)), Value::Int(id)],
        )?;
        Ok(())
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, StoreError> {
        let limit = filter.limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = match filter.status {
            Some(s) => self.rows(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE status = $1 AND site_id = $3 ORDER BY id LIMIT $2"),
                &[s.as_str().into(), Value::Int(limit), Value::Int(self.scope())],
            )?,
            None => self.rows(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE site_id = $2 ORDER BY id LIMIT $1"),
                &[Value::Int(limit), Value::Int(self.scope())],
            )?,
        };
        rows.iter().map(alert_row).collect()
    }

    fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        self.row(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"), &[Value::Int(id)])?.as_ref().map(alert_row).transpose()
    }

    fn set_alert_status(&mut self, id: i64, status: AlertStatus) -> Result<Option<Alert>, StoreError> {
        let Some(alert) = self.alert(id)? else { return Ok(None) };
        self.exec("UPDATE alerts SET status = $1 WHERE id = $2", &[status.as_str().into(), Value::Int(id)])?;
        if status == AlertStatus::Learned {
            // The baseline learned from is the alert's own site's.
            let site = self.row("SELECT site_id FROM alerts WHERE id = $1", &[Value::Int(id)])?.map_or(crate::DEFAULT_SITE, |r| r.int(0));
            for item in &alert.baseline_items {
                let Some(key) = BaselineKey::parse_text(item) else { continue };
                self.exec(
                    "UPDATE baseline SET learned = 1 WHERE site_id = $3 AND kind = $1 AND item = $2",
                    &[key.kind().into(), key.item().into(), site.into()],
                )?;
            }
            learn_around(self, site, &alert)?;
        }
        self.alert(id)
    }

    fn baseline(&self) -> Result<Vec<BaselineRow>, StoreError> {
        let rows = self.rows(
            "SELECT kind, item, first_ns, last_ns, count, learned, peak_bytes, peak_packets FROM baseline WHERE site_id = $1 \
             ORDER BY kind, item",
            &[self.scope().into()],
        )?;
        Ok(rows.iter().map(baseline_row).collect())
    }

    fn learning(&self) -> Result<Option<Learning>, StoreError> {
        let Some(row) = self.row("SELECT value FROM detection_state WHERE site_id = $1 AND key = 'learning'", &[self.scope().into()])?
        else {
            return Ok(None);
        };
        serde_json::from_str(&row.text(0)).map(Some).map_err(|e| corrupt(format!("learning state: {e}")))
    }

    fn save_learning(&mut self, learning: &Learning) -> Result<(), StoreError> {
        let value = serde_json::to_string(learning).map_err(|e| corrupt(format!("learning state: {e}")))?;
        self.exec(
            "INSERT INTO detection_state (site_id, key, value) VALUES ($2, 'learning', $1) \
             ON CONFLICT (site_id, key) DO UPDATE SET value = excluded.value",
            &[value.into(), self.scope().into()],
        )?;
        Ok(())
    }

    fn add_intel(&mut self, indicators: &[Indicator]) -> Result<usize, StoreError> {
        let mut added = 0;
        for ind in indicators {
            added += self.exec(
                "INSERT INTO intel (kind, value, source) VALUES ($1, $2, $3) ON CONFLICT (kind, value) DO NOTHING",
                &[ind.kind.as_str().into(), ind.value.clone().into(), ind.source.clone().into()],
            )? as usize;
        }
        Ok(added)
    }

    fn intel(&self) -> Result<Vec<Indicator>, StoreError> {
        let rows = self.rows("SELECT kind, value, source FROM intel ORDER BY kind, value", &[])?;
        Ok(rows
            .iter()
            .filter_map(|r| Some(Indicator { kind: IndicatorKind::from_name(&r.text(0))?, value: r.text(1), source: r.text(2) }))
            .collect())
    }
}
