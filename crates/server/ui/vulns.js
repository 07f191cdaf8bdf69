// Vulnerabilities and risk: the matches on the inventory with their
// evidence, advisory import (admins), the site's and devices' risk scores
// with their parts, recommendations, attack paths and the two reports.

import { api, qs, ApiError } from './api.js';
import { barChart, legend, PALETTE } from './charts.js';
import { el, toast, card, table, pageHead, stat, empty, time } from './pages.js';

const LEVEL_COLORS = { critical: '#dc2626', high: '#ea580c', medium: '#d97706', low: '#64748b' };
const REPORTS = [['risk', 'Risk assessment'], ['vulns', 'Vulnerability report']];

const score = (v) => (v.cvss3 ?? v.cvss4);
const deviceLink = (id, label) => el('a', { href: `#/devices/${id}` }, label || `device ${id}`);
const level = (name, text) => el('span', { class: `sev ${name}` }, text || name);

/** CVSS score with the severity's colour, and a KEV badge when known exploited. */
function cveCell(v) {
  return el('span', {}, v.cve, v.kev ? el('span', { class: 'pill kev', title: `Known exploited (CISA KEV) since ${v.kev.date_added}; due ${v.kev.due_date}: ${v.kev.required_action}` }, 'KEV') : null);
}

/** The evidence of a match: which product of which source, matched by which facts. */
function evidenceCell(v) {
  const basis = v.basis || [];
  if (!basis.length) return '';
  const first = basis[0];
  const summary = `${first.source}: ${first.product}${basis.length > 1 ? ` (+${basis.length - 1})` : ''}`;
  return el('details', { class: 'evidence' }, el('summary', {}, summary), el('ul', {}, basis.map((b) => el('li', {},
    el('strong', {}, `${b.source} ${b.reference}`), ` ${b.product} — ${b.matched_by}`, b.versions ? `, versions ${b.versions}` : '',
    ` (confidence ${Number(b.confidence).toFixed(2)})`,
    b.advisory ? ` · advisory ${b.advisory}` : '',
    el('div', { class: 'muted' }, 'from ', (b.facts || []).map((f) => `${f.field} "${f.value}" (${f.source})`).join('; ') || 'no fact')))));
}

const VULN_COLUMNS = [
  { label: 'CVE', cell: cveCell },
  { label: 'CVSS', cell: (v) => (score(v) === null || score(v) === undefined ? '–' : level(v.severity, `${Number(score(v)).toFixed(1)} ${v.severity}`)) },
  { label: 'Confidence', cell: (v) => `${v.confidence_label} ${Number(v.confidence).toFixed(2)}` },
  { label: 'Fixed in', cell: (v) => v.fixed_version || '' },
  { label: 'Evidence', cell: evidenceCell },
  { label: 'Summary', cell: (v) => el('span', { title: v.summary }, v.summary) },
];

function vulnTable(items, withDevice) {
  const columns = withDevice ? [VULN_COLUMNS[0], { label: 'Device', cell: (v) => deviceLink(v.device_id, v.device) }, ...VULN_COLUMNS.slice(1)] : VULN_COLUMNS;
  return table(columns, items);
}

/** A list of recommendations, each with its action and evidence. */
function recommendationList(recs, labels = {}) {
  if (!recs.length) return empty('No recommendation.');
  return el('ol', { class: 'recs' }, recs.map((r) => el('li', { 'data-kind': r.kind },
    el('div', {}, level(r.priority), ' ', el('strong', {}, r.title)),
    el('div', { class: 'explain' }, r.action),
    r.device_ids && r.device_ids.length > 1 ? el('div', { class: 'muted' }, `${r.device_ids.length} devices: `,
      r.device_ids.slice(0, 12).map((id, i) => [i ? ', ' : '', deviceLink(id, labels[id])]), r.device_ids.length > 12 ? ' …' : '') : null,
    el('details', {}, el('summary', {}, `Evidence (${r.evidence.length})`), el('ul', {}, r.evidence.slice(0, 25).map((e) => el('li', {},
      el('span', { class: 'pill' }, e.kind), e.device_id ? [deviceLink(e.device_id, labels[e.device_id]), ': '] : null, e.detail)),
    r.evidence.length > 25 ? el('li', { class: 'muted' }, `… ${r.evidence.length - 25} more`) : null)))));
}

/** A score's parts: points of the most, and why. */
function scoreParts(parts) {
  return el('div', { class: 'score-parts' }, parts.map((p) => {
    const bar = el('div');
    bar.style.width = `${Math.round((100 * p.points) / Math.max(1, p.max))}%`;
    return el('div', { class: 'score-part', 'data-part': p.name },
      el('div', {}, el('strong', {}, p.name), ` ${p.points} / ${p.max}`),
      el('div', { class: 'progress' }, bar),
      p.reasons.length ? el('div', { class: 'muted' }, p.reasons.join('; ')) : null);
  }));
}

function scoreBox(value, levelName, caption) {
  return el('div', { class: 'score-box' }, el('div', { class: `score ${levelName}`, id: 'risk-score' }, String(value)), el('div', {}, level(levelName), el('div', { class: 'muted' }, caption)));
}

/** A choice of site when the console has several (null otherwise); `onChange(id)` on change. */
async function siteSelect(current, onChange) {
  const sites = (await api('GET', '/sites')).items;
  if (sites.length < 2) return null;
  return el('select', { id: 'vuln-site', 'aria-label': 'Site', onchange: (e) => onChange(e.target.value) },
    sites.map((x) => el('option', { value: String(x.id), selected: String(x.id) === current }, x.name)));
}

/** When vulnerability data cannot be read here (503), a card that says so instead of the page. */
function unavailable(title, e) {
  return el('div', {}, pageHead(title), card('Not available', el('p', {}, e.message)));
}

// --------------------------------------------------------- import (admins)

/** Waits for a background import to finish, showing its progress; the finished job. */
async function followImport(job, show) {
  for (;;) {
    show(job);
    if (job.state === 'done' || job.state === 'failed') return job;
    await new Promise((resolve) => { setTimeout(resolve, 500); });
    job = await api('GET', `/vulndb/import/${job.id}`);
  }
}

function importCard(onDone, open) {
  const input = el('input', { type: 'file', id: 'vulndb-files', multiple: true, accept: '.json,.gz,.zip', 'aria-label': 'Vulnerability files' });
  const result = el('div', { id: 'import-result' });
  const button = el('button', { class: 'primary', id: 'vulndb-import', type: 'submit' }, 'Import');
  const show = (files, message, bad) => result.replaceChildren(
    el('p', { class: bad ? 'error' : 'muted', id: 'import-message' }, message),
    table([
      { label: 'File', cell: (f) => f.file }, { label: 'Kind', cell: (f) => f.kind || '' },
      { label: 'Records', cell: (f) => String(f.records) }, { label: 'New or changed', cell: (f) => String(f.changed) },
      { label: 'Result', cell: (f) => (f.imported ? el('span', { class: 'ok' }, 'imported') : el('span', { class: f.error ? 'error' : 'muted' }, f.error || 'not imported')) },
    ], files || []));
  const bar = el('div');
  const progress = (job) => {
    bar.style.width = `${job.percent}%`;
    result.replaceChildren(
      el('div', { class: 'progress', id: 'import-progress', 'data-percent': String(job.percent) }, bar),
      el('p', { class: 'muted', id: 'import-state' }, `${job.state === 'queued' ? 'Waiting for the import before it' : 'Importing'}: ${job.files_done} of ${job.files_total} file(s) done, ${job.percent}%`),
      job.files.length ? table([
        { label: 'File', cell: (f) => f.file }, { label: 'Records', cell: (f) => String(f.records) },
        { label: 'Result', cell: (f) => (f.imported ? el('span', { class: 'ok' }, 'imported') : el('span', { class: 'error' }, f.error || 'refused')) },
      ], job.files) : null);
  };
  const form = el('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    if (!input.files.length) { toast('Choose one or more files first.', true); return; }
    const body = new FormData();
    for (const f of input.files) body.append('file', f, f.name);
    button.disabled = true;
    result.replaceChildren(el('p', { class: 'muted' }, `Uploading ${input.files.length} file(s)…`));
    try {
      const job = await followImport(await api('POST', '/vulndb/import', body), progress);
      const n = job.files.filter((f) => f.imported).length;
      const held = job.status ? ` The database holds ${job.status.cves} CVEs, ${job.status.advisories} advisories, ${job.status.kev} KEV entries.` : '';
      if (job.state === 'done') {
        show(job.files, `Imported ${n} file(s).${held}`);
        toast('Import done');
      } else {
        show(job.files, `${job.error}.${held}`, true);
      }
      if (n) onDone();
    } catch (err) {
      const data = err instanceof ApiError ? err.data : null;
      show(data && data.files, err.message, true);
    } finally {
      button.disabled = false;
    }
  } }, el('label', {}, 'NVD CVE or CPE JSON, CSAF advisories, CISA KEV catalog (.json, .json.gz, .zip of them)', input), button);
  return el('details', { class: 'card import', open, id: 'vulndb-import-card' }, el('summary', {}, el('h2', {}, 'Import vulnerability data')), form, result);
}

// --------------------------------------------------------- vulnerabilities

async function vulnerabilitiesPage({ query, can }) {
  let status;
  try {
    status = await api('GET', '/vulndb/status');
  } catch (e) {
    if (e.status === 503) return unavailable('Vulnerabilities', e);
    throw e;
  }
  const filters = { site: query.get('site') || '', device_id: query.get('device_id') || '', cve: query.get('cve') || '', min_cvss: query.get('min_cvss') || '', kev: query.get('kev') === 'true' };
  const box = el('div', { class: 'table-wrap', id: 'vuln-table' });
  const counts = el('div', { class: 'cards' });
  async function load() {
    history.replaceState(null, '', '#/vulnerabilities' + qs(filters));
    try {
      let r;
      [r, status] = await Promise.all([api('GET', '/vulnerabilities' + qs({ ...filters, limit: 1000 })), api('GET', '/vulndb/status')]);
      counts.replaceChildren(stat('Matches', r.total), stat('Devices affected', r.devices), stat('Known exploited', r.kev),
        stat('CVEs in the database', status.cves, `${status.advisories} advisories · ${status.kev} KEV entries`));
      box.replaceChildren(r.items.length ? vulnTable(r.items, true) : empty(status.cves || status.advisories ? 'No vulnerability matches these filters.' : 'No vulnerability data yet: import NVD, CSAF or KEV files.'),
        el('div', { class: 'pager' }, el('span', { id: 'vuln-count' }, `${r.items.length} of ${r.total} shown`), el('span', {}, `computed ${time(r.computed_at)}`)));
    } catch (e) { toast(e.message, true); }
  }
  let timer = null;
  const typed = (name) => (e) => { filters[name] = e.target.value.trim(); clearTimeout(timer); timer = setTimeout(load, 250); };
  const sites = await siteSelect(filters.site, (id) => { filters.site = id; load(); });
  const toolbar = el('div', { class: 'toolbar' }, sites,
    el('input', { type: 'search', id: 'vuln-cve', placeholder: 'CVE id (e.g. CVE-2024-)', value: filters.cve, oninput: typed('cve'), 'aria-label': 'CVE' }),
    el('input', { id: 'vuln-device', placeholder: 'Device id', value: filters.device_id, oninput: typed('device_id'), size: 8, 'aria-label': 'Device id' }),
    el('select', { id: 'vuln-min-cvss', 'aria-label': 'Least CVSS', onchange: (e) => { filters.min_cvss = e.target.value; load(); } },
      [['', 'Any CVSS'], ['4', '4.0+ (medium)'], ['7', '7.0+ (high)'], ['9', '9.0+ (critical)']].map(([v, l]) => el('option', { value: v, selected: filters.min_cvss === v }, l))),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'vuln-kev', checked: filters.kev, onchange: (e) => { filters.kev = e.target.checked; load(); } }), 'Known exploited only'),
    el('a', { class: 'button', href: '#/risk', onclick: (e) => { e.preventDefault(); location.hash = `#/risk${qs({ site: filters.site })}`; } }, 'Risk and recommendations'));
  await load();
  return el('div', {}, pageHead('Vulnerabilities', 'Advisories matched on the inventory by vendor, model and firmware facts, worst first'),
    can('admin') ? importCard(load, !status.cves && !status.advisories) : null, counts, toolbar, box);
}

// -------------------------------------------------------------------- risk

function attackPaths(paths) {
  if (!paths.length) return empty('No path from an internet-facing or IT host to a controller was seen.');
  return el('div', { id: 'attack-paths' }, paths.map((p) => el('div', { class: 'attack-path' },
    el('div', {}, el('strong', {}, `#${p.rank}`), ` score ${p.score} · `, el('span', { class: 'muted' }, p.entry)),
    el('div', { class: 'hops' }, p.hops.map((h, i) => [
      i ? el('span', { class: 'arrow' }, `→ ${h.via || 'ip'} →`) : null,
      el('span', { class: i === p.hops.length - 1 ? 'hop target' : 'hop', title: h.weakness || '' }, deviceLink(h.device_id, h.device), h.weakness ? el('span', { class: 'muted' }, ` (${h.weakness})`) : null),
    ])))));
}

function reportLinks(site) {
  return el('div', { class: 'reports' }, REPORTS.map(([kind, name]) => el('div', { class: 'report' },
    el('strong', {}, name),
    el('a', { class: 'button', href: `/api/v1/reports/${kind}${qs({ site })}`, target: '_blank', rel: 'noopener', id: `open-${kind}-report` }, 'Open'),
    el('a', { class: 'button', href: `/api/v1/reports/${kind}${qs({ site, download: 1 })}`, download: '', id: `download-${kind}-report` }, 'Download HTML'))),
  el('p', { class: 'muted' }, 'Self-contained pages: print them to PDF from the browser.'));
}

async function riskPage({ query }) {
  const site = query.get('site') || '';
  let risk;
  let recs;
  try {
    [risk, recs] = await Promise.all([api('GET', '/risk' + qs({ site, limit: 20 })), api('GET', '/recommendations' + qs({ site, limit: 20 }))]);
  } catch (e) {
    if (e.status === 503) return unavailable('Risk', e);
    throw e;
  }
  const byId = Object.fromEntries(risk.devices.map((d) => [d.device, d.device_id]));
  const siteCard = card('Site risk', scoreBox(risk.score, risk.level, `${risk.site} · ${risk.total_devices} devices · ${risk.vulnerabilities} vulnerability matches · ${risk.kev} known exploited`), scoreParts(risk.parts));
  const distribution = card('Device scores', el('div', { class: 'chart', id: 'score-chart' },
    barChart(risk.distribution.slice().reverse().map((b) => [`${b.from}–${b.to}`, b.devices]), { color: PALETTE[4] })),
  legend(Object.entries(LEVEL_COLORS).map(([l, color]) => [`${l}: ${risk.by_level[l] || 0}`, color])));
  const top = risk.devices.filter((d) => d.score > 0).slice(0, 12);
  const topChart = card('Riskiest devices', top.length ? el('div', { class: 'chart' }, barChart(top.map((d) => [d.device, d.score]), { color: PALETTE[9], onClick: (label) => { location.hash = `#/devices/${byId[label]}`; } })) : empty('No device has a risk score above 0.'));
  const devices = card(`Riskiest ${risk.devices.length} of ${risk.total_devices} devices`, el('div', { class: 'table-wrap' }, table([
    { label: 'Device', cell: (d) => deviceLink(d.device_id, d.device) }, { label: 'Type', cell: (d) => d.type },
    { label: 'Score', cell: (d) => level(d.level, `${d.score} ${d.level}`) },
    { label: 'Parts', cell: (d) => d.parts.filter((p) => p.points > 0).map((p) => `${p.name} ${p.points}`).join(', ') },
  ], risk.devices, { onRow: (d) => { location.hash = `#/devices/${d.device_id}`; } })));
  const deviceRecs = recs.devices.length ? el('div', {}, recs.devices.map((d) => el('details', { class: 'device-recs' },
    el('summary', {}, deviceLink(d.device_id, d.device), ` · risk ${d.score} · ${d.recommendations.length} recommendation(s)`), recommendationList(d.recommendations, recs.labels)))) : empty('No device recommendation.');
  const notes = risk.notes.length ? card('What this assessment could not see', el('ul', {}, risk.notes.map((n) => el('li', {}, n)))) : null;
  const sites = await siteSelect(site, (id) => { location.hash = `#/risk${qs({ site: id })}`; });
  return el('div', {}, pageHead('Risk', `Scores 0–100 made of named parts · computed ${time(risk.computed_at)}`, sites, el('a', { class: 'button', href: `#/vulnerabilities${qs({ site })}` }, 'Vulnerabilities')),
    el('div', { class: 'grid2' }, siteCard, card('Reports', reportLinks(site))),
    el('div', { class: 'grid2' }, distribution, topChart),
    card('Site recommendations', el('div', { id: 'site-recs' }, recommendationList(recs.site, recs.labels))),
    card('Attack paths to controllers', el('p', { class: 'muted' }, 'Most likely paths through the connections seen, from internet-facing or enterprise hosts to controllers, ranked.'), attackPaths(risk.attack_paths)),
    devices, card(`Device recommendations (riskiest ${recs.devices.length} of ${recs.total_devices})`, deviceRecs),
    notes);
}

// ------------------------------------------------------------------ device

/** The device page's vulnerability cards: risk with its parts, matches with evidence, recommendations. */
export function deviceVulnCards(data) {
  const note = data.vulnerability_note ? el('p', { class: 'muted' }, data.vulnerability_note) : null;
  const r = data.risk;
  const risk = card('Risk', r ? [scoreBox(r.score, r.level, 'device risk, 0–100'), scoreParts(r.parts)] : (note || empty('No risk score.')));
  const vulns = card('Vulnerabilities', data.vulnerabilities.length ? el('div', { class: 'table-wrap', id: 'device-vulns' }, vulnTable(data.vulnerabilities, false)) : (note || empty('No known vulnerabilities.')));
  const recs = card('Recommendations', recommendationList(data.recommendations || []));
  return [el('div', { class: 'grid2' }, risk, recs), vulns];
}

/** The pages of this module, by the first part of the hash. */
export const VULN_PAGES = { vulnerabilities: vulnerabilitiesPage, risk: riskPage };
