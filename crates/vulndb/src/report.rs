//! Reports: a risk assessment and a vulnerability report per site, each one
//! self-contained HTML page (inline CSS and SVG charts, no scripts, no
//! external files) laid out to print cleanly to PDF.

use crate::advice::{Recommendations, PRIORITIES};
use crate::matching::VulnMatch;
use crate::risk::SiteRisk;
use crate::site::{device_label, SiteData};
use std::fmt::Write;

/// The wall-clock time a report is generated at, for its header.
pub fn generated_now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Escapes text for HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dee7; --critical:#b3261e; --high:#e8710a; --medium:#c9a100; --low:#3b7d3b; --none:#8a94a6; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { font: 13px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0; padding: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid var(--accent); padding-bottom: 3px; }
h3 { font-size: 14px; margin: 16px 0 6px; } .muted { color: var(--muted); } .small { font-size: 11px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; font-weight: 600; } tr { break-inside: avoid; page-break-inside: avoid; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; color: #fff; font-size: 11px; font-weight: 600; text-transform: uppercase; }
.critical { background: var(--critical); } .high { background: var(--high); } .medium { background: var(--medium); } .low { background: var(--low); } .none { background: var(--none); }
.kev { background: #5a1a8c; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; } .card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; break-inside: avoid; }
.card .n { font-size: 24px; font-weight: 700; } .charts { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.path { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 4px 0 10px; break-inside: avoid; }
.hop { border: 1px solid var(--line); border-radius: 5px; padding: 3px 7px; background: #f8fafc; } .hop.target { border-color: var(--critical); }
.arrow { color: var(--muted); font-size: 11px; } ul.evidence { margin: 2px 0 0 16px; padding: 0; } ul.evidence li { font-size: 11px; color: var(--muted); }
.section { break-inside: auto; } footer { margin-top: 30px; font-size: 11px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 6px; }
@page { size: A4; margin: 14mm 12mm; }
@media print { body { padding: 0; } h2 { break-after: avoid; page-break-after: avoid; } .pagebreak { break-before: page; page-break-before: always; } }
"#;

/// Most device rows a risk report lists (the rest are in `palisade risk --json`).
const MAX_ROWS: usize = 300;
/// Most devices a recommendation row names.
const MAX_LISTED: usize = 25;
/// Most devices a vulnerability report details.
const MAX_DEVICES: usize = 200;

fn color(level: &str) -> &'static str {
    match level {
        "critical" => "#b3261e",
        "high" => "#e8710a",
        "medium" => "#c9a100",
        "low" => "#3b7d3b",
        _ => "#8a94a6",
    }
}

fn badge(level: &str) -> String {
    format!("<span class=\"badge {}\">{}</span>", esc(level), esc(level))
}

/// A half-circle gauge of a 0–100 score.
fn gauge(score: u32, level: &str, caption: &str) -> String {
    let s = f64::from(score.min(100));
    let angle = std::f64::consts::PI * (1.0 - s / 100.0);
    let (x, y) = (100.0 + 80.0 * angle.cos(), 100.0 - 80.0 * angle.sin());
    format!(
        "<svg width=\"220\" height=\"130\" viewBox=\"0 0 200 120\" role=\"img\" aria-label=\"{cap} {score}\">\
         <path d=\"M20 100 A80 80 0 0 1 180 100\" fill=\"none\" stroke=\"#e3e7ee\" stroke-width=\"18\"/>\
         <path d=\"M20 100 A80 80 0 0 1 {x:.1} {y:.1}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"18\"/>\
         <text x=\"100\" y=\"92\" text-anchor=\"middle\" font-size=\"30\" font-weight=\"700\" fill=\"#1d2330\">{score}</text>\
         <text x=\"100\" y=\"114\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6475\">{cap}</text></svg>",
        cap = esc(caption),
        c = color(level),
    )
}

/// A horizontal bar chart: (label, value, colour) rows.
fn bars(title: &str, rows: &[(String, f64, &str)], max: f64, unit: &str) -> String {
    let height = 24 + rows.len() * 20;
    let mut svg = format!(
        "<svg width=\"460\" height=\"{height}\" viewBox=\"0 0 460 {height}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"0\" y=\"13\" font-size=\"12\" font-weight=\"600\" fill=\"#1d2330\">{t}</text>",
        t = esc(title)
    );
    let max = if max > 0.0 { max } else { 1.0 };
    for (i, (label, value, c)) in rows.iter().enumerate() {
        let y = 22 + i * 20;
        let w = (value / max * 230.0).clamp(0.0, 230.0);
        let short: String =
            if label.chars().count() > 32 { format!("{}…", label.chars().take(31).collect::<String>()) } else { label.clone() };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" font-size=\"9\" fill=\"#1d2330\">{l}</text>\
             <rect x=\"190\" y=\"{y}\" width=\"{w:.1}\" height=\"14\" rx=\"2\" fill=\"{c}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"10\" fill=\"#5b6475\">{v}{unit}</text>",
            ty = y + 11,
            l = esc(&short),
            tx = 194.0 + w,
            v = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") },
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A donut of counts per category.
fn donut(title: &str, parts: &[(&str, usize)]) -> String {
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    let mut svg = format!(
        "<svg width=\"260\" height=\"150\" viewBox=\"0 0 260 150\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"0\" y=\"13\" font-size=\"12\" font-weight=\"600\" fill=\"#1d2330\">{t}</text>",
        t = esc(title)
    );
    let (cx, cy, r) = (65.0, 85.0, 45.0);
    let circumference = 2.0 * std::f64::consts::PI * r;
    let mut offset = 0.0;
    if total == 0 {
        let _ = write!(svg, "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"none\" stroke=\"#e3e7ee\" stroke-width=\"20\"/>");
    }
    for (name, n) in parts.iter().filter(|(_, n)| *n > 0) {
        let len = *n as f64 / total.max(1) as f64 * circumference;
        let _ = write!(
            svg,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"20\" \
             stroke-dasharray=\"{len:.2} {rest:.2}\" stroke-dashoffset=\"{off:.2}\" transform=\"rotate(-90 {cx} {cy})\"/>",
            c = color(name),
            rest = circumference - len,
            off = -offset,
        );
        offset += len;
    }
    let _ = write!(svg, "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"700\">{total}</text>", cy + 6.0);
    for (i, (name, n)) in parts.iter().enumerate() {
        let y = 40 + i * 18;
        let _ = write!(
            svg,
            "<rect x=\"135\" y=\"{}\" width=\"11\" height=\"11\" fill=\"{}\"/><text x=\"152\" y=\"{}\" font-size=\"11\">{} {}</text>",
            y,
            color(name),
            y + 10,
            esc(name),
            n
        );
    }
    svg.push_str("</svg>");
    svg
}

fn page(title: &str, site: &str, generated: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — {s}</title><style>{STYLE}</style></head><body>\
         <h1>{t}</h1><div class=\"muted\">Site <b>{s}</b> · generated {g} · Palisade</div>{body}\
         <footer>Generated by Palisade from the site's stored inventory, events and the imported vulnerability data \
         (NVD, CSAF advisories, CISA KEV). Matches carry a confidence; check low-confidence ones against the device.</footer></body></html>\n",
        t = esc(title),
        s = esc(site),
        g = esc(generated),
    )
}

fn recommendation_rows(out: &mut String, recs: &Recommendations, site: &SiteData) {
    if recs.site.is_empty() {
        out.push_str("<p class=\"muted\">No recommendation: nothing stored points to a weakness.</p>");
        return;
    }
    out.push_str("<table><tr><th>Priority</th><th>Recommendation</th><th>Devices</th></tr>");
    for r in &recs.site {
        let mut devices: Vec<String> =
            r.device_ids.iter().take(MAX_LISTED).map(|id| site.device(*id).map_or_else(|| format!("#{id}"), device_label)).collect();
        if r.device_ids.len() > MAX_LISTED {
            devices.push(format!("… and {} more", r.device_ids.len() - MAX_LISTED));
        }
        let _ = write!(out, "<tr><td>{}</td><td><b>{}</b><br>{}<ul class=\"evidence\">", badge(&r.priority), esc(&r.title), esc(&r.action));
        for e in r.evidence.iter().take(6) {
            let _ = write!(out, "<li>{}: {}</li>", esc(&e.kind), esc(&e.detail));
        }
        if r.evidence.len() > 6 {
            let _ = write!(out, "<li>… and {} more</li>", r.evidence.len() - 6);
        }
        let _ = write!(out, "</ul></td><td class=\"small\">{}</td></tr>", esc(&devices.join(", ")));
    }
    out.push_str("</table>");
}

/// The risk assessment report.
pub fn risk_report(site: &SiteData, recs: &Recommendations, risk: &SiteRisk, generated: &str, notes: &[String]) -> String {
    let mut b = String::new();
    let vulns: usize = site.vulns.values().map(Vec::len).sum();
    let kev: usize = site.vulns.values().flatten().filter(|v| v.kev.is_some()).count();
    let _ = write!(
        b,
        "<h2>Summary</h2><div class=\"charts\">{}<div class=\"cards\">\
         <div class=\"card\"><div class=\"n\">{}</div>devices</div><div class=\"card\"><div class=\"n\">{}</div>vulnerability matches</div>\
         <div class=\"card\"><div class=\"n\">{}</div>known exploited</div><div class=\"card\"><div class=\"n\">{}</div>attack paths to controllers</div>\
         </div></div>",
        gauge(risk.score, &risk.level, &format!("site risk: {}", risk.level)),
        site.devices.len(),
        vulns,
        kev,
        risk.attack_paths.len()
    );
    b.push_str("<table><tr><th>Part</th><th>Points</th><th>Why</th></tr>");
    for p in &risk.parts {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{:.1} / {:.0}</td><td class=\"small\">{}</td></tr>",
            esc(&p.name),
            p.points,
            p.max,
            esc(&p.reasons.join("; "))
        );
    }
    b.push_str("</table>");
    let levels: Vec<(&str, usize)> = PRIORITIES.iter().map(|l| (*l, risk.devices.iter().filter(|d| d.level == *l).count())).collect();
    let top: Vec<(String, f64, &str)> =
        risk.devices.iter().take(10).map(|d| (d.device.clone(), f64::from(d.score), color(&d.level))).collect();
    let _ =
        write!(b, "<div class=\"charts\">{}{}</div>", donut("Devices by risk level", &levels), bars("Riskiest devices", &top, 100.0, ""));
    b.push_str("<h2>Recommendations</h2>");
    recommendation_rows(&mut b, recs, site);
    b.push_str(
        "<h2 class=\"pagebreak\">Attack vectors</h2><p class=\"muted small\">Paths through the observed connections from internet-facing \
                or enterprise hosts to controllers, most likely and most damaging first. Each hop is a connection seen on the network.</p>",
    );
    if risk.attack_paths.is_empty() {
        b.push_str("<p class=\"muted\">No path from an entry point to a controller was observed.</p>");
    }
    for p in &risk.attack_paths {
        let _ = write!(b, "<h3>#{} · score {} · entry: {}</h3><div class=\"path\">", p.rank, p.score, esc(&p.entry));
        for (i, h) in p.hops.iter().enumerate() {
            if let Some(via) = h.via {
                let _ = write!(b, "<span class=\"arrow\">— {} →</span>", esc(via.as_str()));
            }
            let target = if i + 1 == p.hops.len() { " target" } else { "" };
            let weak = h.weakness.as_deref().map(|w| format!("<br><span class=\"small muted\">{}</span>", esc(w))).unwrap_or_default();
            let _ = write!(b, "<span class=\"hop{target}\">{}{weak}</span>", esc(&h.device));
        }
        b.push_str("</div>");
    }
    b.push_str("<h2 class=\"pagebreak\">Device risk</h2><table><tr><th>Device</th><th>Type</th><th>Score</th><th>Parts</th></tr>");
    for d in risk.devices.iter().take(MAX_ROWS) {
        let parts: Vec<String> = d
            .parts
            .iter()
            .filter(|p| p.points > 0.0)
            .map(|p| {
                format!(
                    "{} {:.1}{}",
                    p.name,
                    p.points,
                    if p.reasons.is_empty() { String::new() } else { format!(" ({})", p.reasons.join("; ")) }
                )
            })
            .collect();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td class=\"small\">{}</td></tr>",
            esc(&d.device),
            esc(d.device_type.as_str()),
            d.score,
            badge(&d.level),
            esc(&parts.join(" · "))
        );
    }
    b.push_str("</table>");
    if risk.devices.len() > MAX_ROWS {
        let _ = write!(
            b,
            "<p class=\"muted\">… and {} lower-risk devices; `palisade risk --json` lists them all.</p>",
            risk.devices.len() - MAX_ROWS
        );
    }
    if !notes.is_empty() {
        b.push_str("<h2>Limits of this assessment</h2><ul>");
        for n in notes {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }
    page("Risk assessment", &site.name, generated, &b)
}

/// The vulnerability report.
pub fn vulnerability_report(site: &SiteData, generated: &str, notes: &[String]) -> String {
    let mut b = String::new();
    let all: Vec<&VulnMatch> = site.vulns.values().flatten().collect();
    let severities: Vec<(&str, usize)> =
        ["critical", "high", "medium", "low", "none"].iter().map(|s| (*s, all.iter().filter(|v| v.severity == *s).count())).collect();
    let affected = site.vulns.values().filter(|v| !v.is_empty()).count();
    let kev = all.iter().filter(|v| v.kev.is_some()).count();
    let mut per_device: Vec<(String, f64, &str)> = site
        .vulns
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(id, v)| {
            let worst = v.iter().map(|m| m.score()).fold(0.0, f64::max);
            (site.device(*id).map_or_else(|| format!("#{id}"), device_label), v.len() as f64, color(crate::matching::severity(Some(worst))))
        })
        .collect();
    per_device.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    per_device.truncate(12);
    let max = per_device.iter().map(|r| r.1).fold(0.0, f64::max);
    let _ = write!(
        b,
        "<h2>Summary</h2><div class=\"cards\"><div class=\"card\"><div class=\"n\">{}</div>vulnerability matches</div>\
         <div class=\"card\"><div class=\"n\">{affected}</div>affected devices of {}</div><div class=\"card\"><div class=\"n\">{kev}</div>known exploited (KEV)</div></div>\
         <div class=\"charts\">{}{}</div>",
        all.len(),
        site.devices.len(),
        donut("Matches by severity", &severities),
        bars("Vulnerabilities per device", &per_device, max, "")
    );
    b.push_str("<h2>Vulnerabilities by device</h2>");
    if all.is_empty() {
        b.push_str("<p class=\"muted\">No device matched the imported vulnerability data.</p>");
    }
    // The most exposed devices first: worst score, then most matches.
    let mut listed: Vec<(&i64, &Vec<VulnMatch>)> = site.vulns.iter().filter(|(_, v)| !v.is_empty()).collect();
    let worst = |v: &[VulnMatch]| v.iter().map(VulnMatch::score).fold(0.0, f64::max);
    listed.sort_by(|a, b| worst(b.1).total_cmp(&worst(a.1)).then(b.1.len().cmp(&a.1.len())).then(a.0.cmp(b.0)));
    let more = listed.len().saturating_sub(MAX_DEVICES);
    for (id, list) in listed.into_iter().take(MAX_DEVICES) {
        let label = site.device(*id).map_or_else(|| format!("#{id}"), device_label);
        let firmware = site.device(*id).and_then(|d| d.firmware.clone()).unwrap_or_else(|| "unknown".into());
        let _ = write!(
            b,
            "<h3>{}</h3><div class=\"small muted\">firmware {}</div><table><tr><th>CVE</th><th>CVSS</th><th>Confidence</th>\
             <th>Fixed in</th><th>What it rests on</th></tr>",
            esc(&label),
            esc(&firmware)
        );
        for v in list {
            let kev = if v.kev.is_some() { " <span class=\"badge kev\">KEV</span>" } else { "" };
            let basis: Vec<String> = v
                .basis
                .iter()
                .map(|m| {
                    let facts: Vec<String> = m.facts.iter().map(|f| format!("{}={} ({})", f.field, f.value, f.source)).collect();
                    format!(
                        "{}: {} — {} [{}], versions {}; facts {}",
                        m.source,
                        m.reference,
                        m.product,
                        m.matched_by,
                        m.versions,
                        facts.join(", ")
                    )
                })
                .collect();
            let _ = write!(
                b,
                "<tr><td><b>{}</b>{kev}<br><span class=\"small\">{}</span></td><td>{} {}</td><td>{} ({:.2})</td><td>{}</td><td class=\"small\">{}</td></tr>",
                esc(&v.cve),
                esc(&v.summary),
                v.cvss3.or(v.cvss4).map_or("–".into(), |s| format!("{s:.1}")),
                badge(&v.severity),
                esc(&v.confidence_label),
                v.confidence,
                esc(v.fixed_version.as_deref().unwrap_or("–")),
                esc(&basis.join(" | "))
            );
        }
        b.push_str("</table>");
    }
    if more > 0 {
        let _ = write!(b, "<p class=\"muted\">… and {more} more affected devices; `palisade vulns --json` lists them all.</p>");
    }
    if !notes.is_empty() {
        b.push_str("<h2>Limits of this report</h2><ul>");
        for n in notes {
            let _ = write!(b, "<li>{}</li>", esc(n));
        }
        b.push_str("</ul>");
    }
    page("Vulnerability report", &site.name, generated, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_charts_are_inline_svg() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let g = gauge(73, "high", "site risk");
        assert!(g.starts_with("<svg") && g.contains(">73<"));
        let d = donut("t", &[("high", 2), ("low", 1)]);
        assert_eq!(d.matches("stroke-dasharray").count(), 2);
        let b = bars("t", &[("<plc>".into(), 3.0, "#000")], 3.0, "");
        assert!(b.contains("&lt;plc&gt;"));
    }
}
