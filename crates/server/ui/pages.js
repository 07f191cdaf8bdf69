// The console's pages. Every page is built with el(), which sets text with
// textContent: names and values seen on the network never become markup.

import { api, qs, upload } from './api.js';
import { barChart, donut, stackedColumns, legend, PALETTE } from './charts.js';
import { NetworkMap } from './map.js';
import { deviceVulnCards, VULN_PAGES } from './vulns.js';
import { BASELINE_PAGES, siteSelect, chosenSite } from './baseline.js';

/** Creates an element: attributes (on* keys are listeners), then children (text, nodes, arrays). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'value') node.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') node[k] = Boolean(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer = null;
/** Shows a short message in the corner. */
export function toast(message, bad = false) {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.classList.toggle('bad', bad);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

const SEVERITIES = [['critical', '#dc2626'], ['high', '#ea580c'], ['medium', '#d97706'], ['low', '#64748b']];
const STATUSES = ['new', 'acknowledged', 'closed', 'learned', 'muted'];
const LEVEL_NAMES = { 0: 'L0 process', 1: 'L1 control', 2: 'L2 supervision', 3: 'L3 operations', 4: 'L4 enterprise', 5: 'L5 internet', unknown: 'Unknown' };

export const time = (t) => {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().slice(0, 19).replace('T', ' ');
};
const join = (list) => (list || []).join(', ');
const deviceName = (d) => (d.hostnames && d.hostnames[0]) || (d.ips && d.ips[0]) || (d.macs && d.macs[0]) || `device ${d.id}`;

export function pageHead(title, subtitle, ...actions) {
  return el('div', { class: 'page-head' }, el('div', {}, el('h1', {}, title), subtitle ? el('div', { class: 'muted' }, subtitle) : null), el('div', { class: 'toolbar' }, actions));
}

export function card(title, ...body) {
  return el('section', { class: 'card' }, title ? el('h2', {}, title) : null, body);
}

export function stat(label, value, extra) {
  return el('div', { class: 'card stat' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, String(value)), extra ? el('div', { class: 'muted' }, extra) : null);
}

export function table(columns, rows, { onRow, sort, onSort } = {}) {
  const head = el('tr', {}, columns.map((c) => {
    const sorted = sort && sort.key === c.sort;
    return el('th', {
      class: [c.sort ? 'sortable' : '', sorted ? 'sorted' : '', sorted && sort.desc ? 'desc' : ''].join(' ').trim() || null,
      onclick: c.sort && onSort ? () => onSort(c.sort) : null,
      scope: 'col',
    }, c.label);
  }));
  const body = el('tbody', {}, rows.map((r) => el('tr', { class: onRow ? 'clickable' : null, onclick: onRow ? (e) => { if (!e.target.closest('a,button,input,select')) onRow(r); } : null }, columns.map((c) => el('td', {}, c.cell(r))))));
  return el('table', {}, el('thead', {}, head), body);
}

export function empty(text) {
  return el('div', { class: 'empty' }, text);
}

async function tryAlerts(path) {
  try { return await api('GET', path, undefined, { quiet: true }); } catch (e) { if (e.status === 404) return null; throw e; }
}

// ---------------------------------------------------------------- overview

async function overview({ query }) {
  // The site comes from the link (bookmarkable) or the selector's last choice; '' is every site.
  if (query.has('site')) localStorage.setItem('palisade.site', query.get('site'));
  const site = chosenSite();
  const data = await api('GET', '/overview' + qs({ site }));
  const picker = await siteSelect((v) => { location.hash = `#/overview?site=${encodeURIComponent(v)}`; });
  const inSite = site ? `&site=${encodeURIComponent(site)}` : '';
  const d = data.devices;
  const alerts = data.alerts || null;
  const levelItems = Object.entries(d.by_purdue_level).map(([k, v], i) => [LEVEL_NAMES[k] || k, v, PALETTE[i % PALETTE.length]]);
  const types = Object.entries(d.by_type).sort((a, b) => b[1] - a[1]);
  const openAlerts = alerts ? Object.values(alerts.open_by_severity || {}).reduce((a, b) => a + b, 0) : 0;
  const cards = el('div', { class: 'cards' },
    stat('Devices', d.total),
    stat('Device types', types.length),
    stat('Open alerts', alerts ? openAlerts : '–'),
    stat('Critical / high', alerts ? `${(alerts.open_by_severity || {}).critical || 0} / ${(alerts.open_by_severity || {}).high || 0}` : '–'),
  );
  const byType = card('Devices by type', types.length ? barChart(types.slice(0, 12), { onClick: (t) => { location.hash = `#/devices?type=${encodeURIComponent(t)}${inSite}`; } }) : empty('No devices yet: upload a capture.'));
  const byLevel = card('Devices by Purdue level', levelItems.length ? el('div', { class: 'chart donut-row' }, donut(levelItems, 'devices'), legend(levelItems.map(([l, v, c]) => [`${l}: ${v}`, c]))) : empty('No devices yet.'));
  let timeline = card('Alerts by severity over time', empty('No alerts yet.'));
  let risks = card('Top risks', empty('No open alerts on any device.'));
  if (alerts && alerts.timeline && alerts.timeline.length) {
    timeline = card('Alerts by severity over time', el('div', { class: 'chart' }, stackedColumns(alerts.timeline.map((b) => ({ label: b.day.slice(5), values: b.counts })), SEVERITIES), legend(SEVERITIES)));
  }
  if (alerts && alerts.top_risks && alerts.top_risks.length) {
    risks = card('Top risks', table([
      { label: 'Device', cell: (r) => (r.device_id ? el('a', { href: `#/devices/${r.device_id}` }, r.name || r.ip) : r.ip) },
      { label: 'Score', cell: (r) => String(r.score) },
      { label: 'Open alerts', cell: (r) => String(r.alerts) },
      { label: 'Worst', cell: (r) => el('span', { class: `sev ${r.worst}` }, r.worst) },
    ], alerts.top_risks));
  }
  const vendors = card('Top vendors', d.top_vendors.length ? barChart(d.top_vendors.map(([v, n]) => [v, n]), { color: PALETTE[1], onClick: (v) => { location.hash = `#/devices?vendor=${encodeURIComponent(v)}${inSite}`; } }) : empty('No vendors known yet.'));
  const last = data.analyses && data.analyses[0];
  return el('div', {}, pageHead('Overview', last ? `Last analysis ${time(last.finished_at)} · ${last.inputs.join(', ')}` : 'No capture analysed yet', picker), cards,
    el('div', { class: 'grid2' }, timeline, risks), el('div', { class: 'grid2' }, byType, byLevel), el('div', { class: 'grid2' }, vendors));
}

// --------------------------------------------------------------- inventory

const DEVICE_COLUMNS = [
  { key: 'id', label: 'ID', sort: 'id', cell: (d) => String(d.id) },
  { key: 'name', label: 'Name', sort: 'name', cell: (d) => el('a', { href: `#/devices/${d.id}` }, deviceName(d)) },
  { key: 'ip', label: 'IP', sort: 'ip', cell: (d) => join(d.ips) },
  { key: 'mac', label: 'MAC', sort: 'mac', cell: (d) => join(d.macs) },
  { key: 'vendor', label: 'Vendor', sort: 'vendor', cell: (d) => d.vendor || '' },
  { key: 'type', label: 'Type', sort: 'type', cell: (d) => d.type },
  { key: 'purdue_level', label: 'Level', sort: 'purdue_level', cell: (d) => (d.purdue_level === null || d.purdue_level === undefined ? '' : `L${d.purdue_level}`) },
  { key: 'protocols', label: 'Protocols', cell: (d) => join(d.protocols) },
  { key: 'model', label: 'Model', cell: (d) => d.model || '' },
  { key: 'firmware', label: 'Firmware', cell: (d) => d.firmware || '' },
  { key: 'os', label: 'OS', cell: (d) => d.os || '' },
  { key: 'first_seen', label: 'First seen', sort: 'first_seen', cell: (d) => time(d.first_seen) },
  { key: 'last_seen', label: 'Last seen', sort: 'last_seen', cell: (d) => time(d.last_seen) },
];
const DEFAULT_COLUMNS = ['name', 'ip', 'mac', 'vendor', 'type', 'purdue_level', 'protocols', 'last_seen'];
const FILTERS = ['search', 'type', 'purdue_level', 'vendor', 'protocol', 'subnet', 'site'];

async function devices({ query }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) || '']));
  filters.site = filters.site || chosenSite();
  let sort = { key: query.get('sort') || 'id', desc: query.get('order') === 'desc' };
  let shown = JSON.parse(localStorage.getItem('palisade.columns') || 'null') || DEFAULT_COLUMNS;
  const stats = (await api('GET', '/overview')).devices;
  const tableBox = el('div', { class: 'table-wrap' });
  const countLine = el('span', { class: 'muted', id: 'device-count' });
  const more = el('button', { id: 'load-more', onclick: () => load(true) }, 'Load more');
  let items = [];
  let cursor = null;
  let generation = 0;

  const updateHash = () => {
    const params = { ...filters, sort: sort.key === 'id' ? '' : sort.key, order: sort.desc ? 'desc' : '' };
    history.replaceState(null, '', '#/devices' + qs(params));
  };
  const exportLink = (format) => '/api/v1/inventory/export' + qs({ ...filters, format });
  const csv = el('a', { class: 'button', href: exportLink('csv'), download: 'inventory.csv', id: 'export-csv' }, 'Export CSV');
  const json = el('a', { class: 'button', href: exportLink('json'), download: 'inventory.json' }, 'Export JSON');

  function render() {
    const columns = DEVICE_COLUMNS.filter((c) => shown.includes(c.key));
    tableBox.replaceChildren(items.length ? table(columns, items, {
      onRow: (d) => { location.hash = `#/devices/${d.id}`; },
      sort,
      onSort: (key) => { sort = { key, desc: sort.key === key ? !sort.desc : false }; load(false); },
    }) : empty('No device matches these filters.'), el('div', { class: 'pager' }, countLine, cursor ? more : el('span', {}, '')));
  }

  async function load(append) {
    const mine = ++generation;
    if (!append) { cursor = null; updateHash(); csv.href = exportLink('csv'); json.href = exportLink('json'); }
    const params = { ...filters, sort: sort.key, order: sort.desc ? 'desc' : 'asc', limit: 100, cursor: append ? cursor : '', count: !append };
    try {
      const page = await api('GET', '/devices' + qs(params));
      if (mine !== generation) return;
      items = append ? items.concat(page.items) : page.items;
      cursor = page.next_cursor;
      if (page.total !== null && page.total !== undefined) countLine.dataset.total = page.total;
      countLine.textContent = `${items.length} of ${countLine.dataset.total || items.length} devices`;
      render();
    } catch (e) {
      toast(e.message, true);
    }
  }

  let timer = null;
  const onFilter = (name) => (e) => { filters[name] = e.target.value.trim(); clearTimeout(timer); timer = setTimeout(() => load(false), 250); };
  const select = (name, label, options) => el('select', { 'aria-label': label, id: `filter-${name}`, onchange: onFilter(name) },
    el('option', { value: '' }, label), options.map(([v, l]) => el('option', { value: v, selected: filters[name] === v }, l)));
  const columnsMenu = el('div', { class: 'columns-menu', hidden: true }, DEVICE_COLUMNS.map((c) => el('label', {},
    el('input', { type: 'checkbox', checked: shown.includes(c.key), onchange: (e) => {
      shown = e.target.checked ? DEVICE_COLUMNS.map((x) => x.key).filter((k) => k === c.key || shown.includes(k)) : shown.filter((k) => k !== c.key);
      localStorage.setItem('palisade.columns', JSON.stringify(shown));
      render();
    } }), c.label)));
  const toolbar = el('div', { class: 'toolbar' },
    el('input', { type: 'search', placeholder: 'Search IP, MAC, name, vendor, model…', value: filters.search, id: 'device-search', oninput: onFilter('search'), 'aria-label': 'Search devices' }),
    select('type', 'All types', Object.keys(stats.by_type).sort().map((t) => [t, t])),
    select('purdue_level', 'All levels', Object.keys(stats.by_purdue_level).map((l) => [l, LEVEL_NAMES[l] || l])),
    el('input', { placeholder: 'Protocol', value: filters.protocol, id: 'filter-protocol', oninput: onFilter('protocol'), size: 10, 'aria-label': 'Protocol' }),
    el('input', { placeholder: 'Vendor', value: filters.vendor, id: 'filter-vendor', oninput: onFilter('vendor'), size: 14, 'aria-label': 'Vendor' }),
    filters.subnet ? el('span', { class: 'pill' }, `subnet ${filters.subnet}`) : null,
    el('button', { onclick: () => { columnsMenu.hidden = !columnsMenu.hidden; } }, 'Columns'),
    await siteSelect((v) => { filters.site = v; load(false); }),
  );
  await load(false);
  return el('div', {}, pageHead('Inventory', `${stats.total} devices`, csv, json), toolbar, columnsMenu, tableBox);
}

// ------------------------------------------------------------------ device

async function device({ args }) {
  const id = Number(args[0]);
  const data = await api('GET', `/devices/${id}`);
  const d = data.device;
  const facts = [
    ['IP addresses', join(d.ips)], ['MAC addresses', join(d.macs)], ['Host names', join(d.hostnames)], ['Vendor', d.vendor],
    ['Model', d.model], ['Firmware', d.firmware], ['Serial', d.serial], ['OS', d.os], ['Type', d.type],
    ['Purdue level', d.purdue_level === null ? 'unknown' : `L${d.purdue_level}`], ['Protocols', join(d.protocols)],
    ['First seen', time(d.first_seen)], ['Last seen', time(d.last_seen)], ['Behind a router', d.behind_router ? 'yes' : 'no'],
  ];
  const summary = card('Identity', el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v || '–')])),
    d.classification_reasons.length ? el('p', { class: 'muted' }, 'Classified because: ', d.classification_reasons.join('; ')) : null);
  const sources = card('Facts and their sources', d.facts.length ? table([
    { label: 'Field', cell: (f) => f.field }, { label: 'Value', cell: (f) => f.value }, { label: 'Source', cell: (f) => f.source },
    { label: 'First seen', cell: (f) => time(f.first_seen) }, { label: 'Last seen', cell: (f) => time(f.last_seen) },
  ], d.facts) : empty('No identity facts.'));
  const connections = card('Connections', data.connections.length ? table([
    { label: 'Peer', cell: (c) => (c.peer_id ? el('a', { href: `#/devices/${c.peer_id}` }, c.peer) : c.peer) },
    { label: 'Direction', cell: (c) => c.direction }, { label: 'Service', cell: (c) => c.service },
    { label: 'First seen', cell: (c) => time(c.first_seen) }, { label: 'Last seen', cell: (c) => time(c.last_seen) },
  ], data.connections) : empty('No connections recorded.'));
  const alerts = card('Alerts', data.alerts.length ? alertTable(data.alerts) : empty('No alerts for this device.'));
  const events = card('Operations and violations', data.events.length ? eventTable(data.events) : empty('No operations or violations seen.'));
  return el('div', {}, pageHead(deviceName(d), `${d.type} · ${d.vendor || 'unknown vendor'}`, el('a', { class: 'button', href: '#/devices' }, '← Inventory')),
    el('div', { class: 'grid2' }, summary, alerts), deviceVulnCards(data), sources, connections, events);
}

function eventTable(events) {
  return table([
    { label: 'Time', cell: (e) => time(e.time) }, { label: 'Type', cell: (e) => e.type }, { label: 'Protocol', cell: (e) => e.protocol },
    { label: 'From', cell: (e) => e.src_ip || e.src_mac || '' }, { label: 'To', cell: (e) => e.dst_ip || e.dst_mac || '' },
    { label: 'What', cell: (e) => e.kind }, { label: 'Details', cell: (e) => e.detail || [e.target, e.result].filter(Boolean).join(' ') },
    { label: 'Count', cell: (e) => String(e.count) },
  ], events);
}

// ------------------------------------------------------------------ alerts

function alertTable(alerts, { selected, onRow } = {}) {
  const columns = [
    { label: 'Severity', cell: (a) => el('span', { class: `sev ${a.severity}` }, a.severity) },
    { label: 'Title', cell: (a) => a.title },
    { label: 'Engine', cell: (a) => a.engine },
    { label: 'Source', cell: (a) => a.src_ip || a.src_mac || '' },
    { label: 'Destination', cell: (a) => a.dst_ip || a.dst_mac || '' },
    { label: 'Protocol', cell: (a) => a.protocol || '' },
    { label: 'Count', cell: (a) => String(a.count) },
    { label: 'Last seen', cell: (a) => time(a.last_seen) },
    { label: 'Status', cell: (a) => el('span', { class: `status ${a.status}` }, a.status) },
  ];
  if (selected) {
    columns.unshift({ label: '', cell: (a) => el('input', { type: 'checkbox', 'aria-label': `select alert ${a.id}`, checked: selected.has(a.id), onchange: (e) => { if (e.target.checked) selected.add(a.id); else selected.delete(a.id); } }) });
  }
  return table(columns, alerts, { onRow: onRow || ((a) => { location.hash = `#/alerts/${a.id}`; }) });
}

const ACTIONS = [['acknowledged', 'Acknowledge'], ['closed', 'Close'], ['learned', 'Learn'], ['muted', 'Mute']];

async function alertsPage({ args, query, can }) {
  if (args[0]) return alertDetail(Number(args[0]), can);
  const filters = { status: query.get('status') || 'open', severity: query.get('severity') || '', engine: query.get('engine') || '', category: query.get('category') || '', search: query.get('search') || '', site: query.get('site') || chosenSite() };
  const selected = new Set();
  const box = el('div', { class: 'table-wrap' });
  let items = [];
  let cursor = null;
  const more = el('button', { onclick: () => load(true) }, 'Load more');
  async function load(append) {
    if (!append) { selected.clear(); history.replaceState(null, '', '#/alerts' + qs(filters)); }
    const page = await tryAlerts('/alerts' + qs({ ...filters, status: filters.status === 'open' ? 'new,acknowledged' : filters.status, cursor: append ? cursor : '', limit: 100 }));
    if (!page) { box.replaceChildren(empty('Alerts are not available on this server.')); return; }
    items = append ? items.concat(page.items) : page.items;
    cursor = page.next_cursor;
    box.replaceChildren(items.length ? alertTable(items, { selected: can('security-analyst') ? selected : null }) : empty('No alert matches these filters.'),
      el('div', { class: 'pager' }, el('span', {}, `${items.length} alerts shown`), cursor ? more : el('span')));
  }
  const bulk = can('security-analyst') ? ACTIONS.map(([status, label]) => el('button', { onclick: async () => {
    if (!selected.size) { toast('Select alerts first.'); return; }
    try { const r = await api('POST', '/alerts/bulk', { ids: [...selected], status }); toast(`${r.changed} alerts ${status}`); load(false); } catch (e) { toast(e.message, true); }
  } }, label)) : [];
  const filter = (name, label, options) => el('select', { 'aria-label': label, id: `alert-${name}`, onchange: (e) => { filters[name] = e.target.value; load(false); } },
    options.map(([v, l]) => el('option', { value: v, selected: filters[name] === v }, l)));
  const toolbar = el('div', { class: 'toolbar' },
    filter('status', 'Status', [['open', 'Open (new + acknowledged)'], ['', 'All statuses'], ...STATUSES.map((s) => [s, s])]),
    filter('severity', 'Severity', [['', 'All severities'], ...SEVERITIES.map(([s]) => [s, s])]),
    filter('engine', 'Engine', [['', 'All engines'], ...['policy', 'protocol', 'anomaly', 'malware', 'operational'].map((e) => [e, e])]),
    await siteSelect((v) => { filters.site = v; load(false); }),
    el('input', { type: 'search', placeholder: 'Search title, address…', value: filters.search, oninput: (e) => { filters.search = e.target.value; clearTimeout(box.timer); box.timer = setTimeout(() => load(false), 250); } }),
    bulk.length ? el('div', { class: 'bulk' }, el('span', { class: 'muted' }, 'Selected:'), bulk) : null);
  await load(false);
  return el('div', {}, pageHead('Alerts', 'What broke the baseline or the policy, and what looked like an attack'), toolbar, box);
}

async function alertDetail(id, can) {
  const data = await api('GET', `/alerts/${id}`);
  const a = data.alert;
  const actions = can('security-analyst') ? ACTIONS.map(([status, label]) => el('button', {
    class: a.status === status ? 'primary' : null, 'data-status': status,
    onclick: async () => {
      try { await api('POST', `/alerts/${id}/status`, { status }); toast(`Alert ${status}`); location.hash = `#/alerts/${id}?t=${Date.now()}`; } catch (e) { toast(e.message, true); }
    },
  }, label)) : [];
  const facts = [
    ['Severity', el('span', { class: `sev ${a.severity}` }, a.severity)], ['Status', el('span', { class: `status ${a.status}`, id: 'alert-status' }, a.status)],
    ['Category', a.category], ['Engine', a.engine], ['Protocol', a.protocol || '–'],
    ['Source', data.src_device ? el('a', { href: `#/devices/${data.src_device}` }, a.src_ip || a.src_mac) : (a.src_ip || a.src_mac || '–')],
    ['Destination', data.dst_device ? el('a', { href: `#/devices/${data.dst_device}` }, a.dst_ip || a.dst_mac) : (a.dst_ip || a.dst_mac || '–')],
    ['First seen', time(a.first_seen)], ['Last seen', time(a.last_seen)], ['Occurrences', String(a.count)],
  ];
  const evidence = a.evidence ? el('a', { class: 'button', href: `/api/v1/alerts/${id}/evidence`, download: `alert-${id}.pcap`, id: 'evidence' }, `Download evidence (${a.evidence_packets || 0} packets)`) : el('span', { class: 'muted' }, 'No evidence packets kept.');
  return el('div', {}, pageHead(a.title, `Alert ${a.id}`, el('a', { class: 'button', href: '#/alerts' }, '← Alerts'), actions),
    el('div', { class: 'grid2' },
      card('Why it fired', el('div', { class: 'explain' }, a.description), el('h2', {}, 'What to do'), el('div', { class: 'explain' }, a.remediation), evidence),
      card('Details', el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])))));
}

// ------------------------------------------------------------------ events

async function events({ query }) {
  const filters = { type: query.get('type') || '', protocol: query.get('protocol') || '', ip: query.get('ip') || '' };
  const box = el('div', { class: 'table-wrap' });
  let items = [];
  let cursor = null;
  const more = el('button', { onclick: () => load(true) }, 'Load more');
  async function load(append) {
    try {
      const page = await api('GET', '/events' + qs({ ...filters, cursor: append ? cursor : '', limit: 100 }));
      items = append ? items.concat(page.items) : page.items;
      cursor = page.next_cursor;
      box.replaceChildren(items.length ? eventTable(items) : empty('No operation or violation matches.'), el('div', { class: 'pager' }, el('span', {}, `${items.length} shown`), cursor ? more : el('span')));
    } catch (e) { toast(e.message, true); }
  }
  let timer = null;
  const input = (name, placeholder) => el('input', { placeholder, value: filters[name], oninput: (e) => { filters[name] = e.target.value.trim(); clearTimeout(timer); timer = setTimeout(() => load(false), 300); } });
  await load(false);
  return el('div', {}, pageHead('Events', 'Industrial operations and protocol violations seen on the wire, newest first'),
    el('div', { class: 'toolbar' }, el('select', { onchange: (e) => { filters.type = e.target.value; load(false); } }, [['', 'Operations and violations'], ['operation', 'Operations'], ['violation', 'Violations']].map(([v, l]) => el('option', { value: v, selected: filters.type === v }, l))),
      input('protocol', 'Protocol'), input('ip', 'IP address')), box);
}

// --------------------------------------------------------------------- map

async function mapPage({ onLeave }) {
  const data = await api('GET', '/map');
  const wrap = el('div', { class: 'map-wrap' });
  const subtitle = data.nodes.length < data.total_devices ? `${data.nodes.length} of ${data.total_devices} devices drawn` : `${data.nodes.length} devices, ${data.edges.length} links`;
  const page = el('div', {}, pageHead('Network map', `${subtitle} · grouped by Purdue level and subnet · scroll to zoom, drag to pan, click a device to open it`), wrap);
  requestAnimationFrame(() => {
    const map = new NetworkMap(wrap, data, (id) => { location.hash = `#/devices/${id}`; });
    onLeave(() => map.destroy());
  });
  return page;
}

// ------------------------------------------------------------------ upload

async function uploadPage({ onLeave }) {
  const input = el('input', { type: 'file', id: 'capture-file', accept: '.pcap,.pcapng,.cap,.gz' });
  const sites = (await api('GET', '/sites')).items;
  const target = el('select', { id: 'upload-site', 'aria-label': 'Site to analyse into' }, sites.map((x) => el('option', { value: String(x.id) }, `into site ${x.name}`)));
  const bar = el('div');
  const status = el('div', { class: 'muted', id: 'upload-status' }, 'Choose a pcap or pcapng file (gzip-compressed is fine).');
  const jobs = el('div', { id: 'jobs' });
  const zone = el('div', { class: 'dropzone' }, el('p', {}, 'Drop a capture here, or ', input, ' ', target), el('div', { class: 'progress' }, bar), status);
  let polling = null;
  async function refreshJobs() {
    const list = await api('GET', '/captures');
    jobs.replaceChildren(...(list.items.length ? list.items.map((j) => el('div', { class: 'job', 'data-state': j.state },
      el('div', {}, el('strong', {}, j.name), el('div', { class: 'muted' }, `${(j.size / 1e6).toFixed(1)} MB · ${j.user} · ${time(j.created_at)}`)),
      el('div', { class: 'progress' }, (() => { const b = el('div'); b.style.width = `${j.percent}%`; return b; })()),
      el('div', {}, j.state === 'done' ? el('a', { href: '#/devices', class: 'job-result' }, `${j.outcome.devices} devices, ${j.outcome.new_devices || 0} new, ${j.outcome.alerts || 0} alerts`) : j.state === 'failed' ? el('span', { class: 'error', title: j.error }, 'failed') : `${j.state} ${j.percent}%`))) : [empty('No upload yet.')]));
    return list.items;
  }
  async function send(file) {
    if (!file) return;
    bar.style.width = '0%';
    status.textContent = `Uploading ${file.name}…`;
    try {
      const job = await upload('/captures' + qs({ name: file.name, site: target.value }), file, (f) => { bar.style.width = `${Math.round(f * 50)}%`; });
      status.textContent = 'Analysing…';
      clearInterval(polling);
      polling = setInterval(async () => {
        const j = await api('GET', `/captures/${job.id}`);
        bar.style.width = `${50 + Math.round(j.percent / 2)}%`;
        if (j.state === 'done') {
          clearInterval(polling);
          const o = j.outcome;
          status.replaceChildren(`Done: ${j.packets} packets analysed, ${o.devices} devices in the inventory (${o.new_devices} new), ${o.events} events, ${o.alerts} alerts raised or updated${o.errors.length ? `, errors: ${o.errors.join('; ')}` : ''}. `,
            el('a', { href: '#/devices' }, 'Open the inventory'), ' · ', el('a', { href: '#/alerts', id: 'upload-alerts' }, 'Open the alerts'));
        } else if (j.state === 'failed') {
          clearInterval(polling);
          status.textContent = `Failed: ${j.error}`;
        } else {
          status.textContent = `Analysing: ${j.percent}% (${j.packets} packets)`;
        }
        refreshJobs();
      }, 500);
    } catch (e) {
      status.textContent = e.message;
      toast(e.message, true);
    }
  }
  input.addEventListener('change', () => send(input.files[0]));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); send(e.dataTransfer.files[0]); });
  onLeave(() => clearInterval(polling));
  await refreshJobs();
  return el('div', {}, pageHead('Upload capture', 'The capture is analysed into the same inventory, like palisade analyze'), zone, card('Uploads', jobs));
}

// ------------------------------------------------------------------- users

async function users({ user }) {
  const list = await api('GET', '/users');
  const roles = ['read-only', 'security-analyst', 'admin'];
  const change = async (u, body, message) => { try { await api('PATCH', `/users/${u.id}`, body); toast(message); location.hash = `#/users?t=${Date.now()}`; } catch (e) { toast(e.message, true); } };
  const rows = table([
    { label: 'User', cell: (u) => u.username },
    { label: 'Role', cell: (u) => el('select', { disabled: u.id === user.id, 'aria-label': `role of ${u.username}`, onchange: (e) => change(u, { role: e.target.value }, 'Role changed') }, roles.map((r) => el('option', { value: r, selected: u.role === r }, r))) },
    { label: 'Status', cell: (u) => (u.disabled ? 'disabled' : u.must_change_password ? 'must change password' : 'active') },
    { label: 'Last login', cell: (u) => time(u.last_login) || 'never' },
    { label: '', cell: (u) => (u.id === user.id ? 'you' : el('span', {},
      el('button', { onclick: () => change(u, { disabled: !u.disabled }, u.disabled ? 'Enabled' : 'Disabled') }, u.disabled ? 'Enable' : 'Disable'), ' ',
      el('button', { onclick: () => { const p = prompt(`New password for ${u.username} (10+ characters; they must change it):`); if (p) change(u, { password: p }, 'Password reset'); } }, 'Reset password'), ' ',
      el('button', { class: 'danger', onclick: async () => { if (!confirm(`Remove ${u.username}?`)) return; try { await api('DELETE', `/users/${u.id}`); toast('Removed'); location.hash = `#/users?t=${Date.now()}`; } catch (e) { toast(e.message, true); } } }, 'Remove'))) },
  ], list.items);
  const form = el('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target;
    try { await api('POST', '/users', { username: f.username.value, role: f.role.value, password: f.password.value }); toast(`User ${f.username.value} added`); location.hash = `#/users?t=${Date.now()}`; } catch (err) { toast(err.message, true); }
  } }, el('label', {}, 'User name', el('input', { name: 'username', required: true })),
  el('label', {}, 'Role', el('select', { name: 'role' }, roles.map((r) => el('option', { value: r }, r)))),
  el('label', {}, 'First password', el('input', { name: 'password', type: 'password', minlength: 10, required: true })),
  el('button', { class: 'primary', type: 'submit' }, 'Add user'));
  return el('div', {}, pageHead('Users', 'admin: everything · security-analyst: alert workflow and uploads · read-only: view'), el('div', { class: 'table-wrap' }, rows), card('Add a user', form));
}

// ---------------------------------------------------------------- settings

async function settings({ can }) {
  const parts = [];
  if (can('admin')) {
    const s = await api('GET', '/settings');
    const form = el('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      const values = {};
      for (const item of s.items) { const v = e.target[item.key].value.trim(); if (v) values[item.key] = v; }
      try { await api('PUT', '/settings', values); toast('Settings saved'); } catch (err) { toast(err.message, true); }
    } }, s.items.map((item) => el('label', { title: item.description }, item.key.replace('_', ' '), el('input', { name: item.key, value: item.value || '', placeholder: item.description }))),
    el('button', { class: 'primary', type: 'submit' }, 'Save'));
    parts.push(card('Console', el('p', { class: 'muted' }, `Database: ${s.database}`), form));
  }
  const [sites, tokens] = await Promise.all([api('GET', '/sites'), api('GET', '/tokens')]);
  const reload = () => { location.hash = `#/settings?t=${Date.now()}`; };
  const siteOptions = () => sites.items.map((x) => el('option', { value: String(x.id) }, x.name));
  const sensorSecret = el('div', { class: 'explain', hidden: true, id: 'sensor-token' });
  const sensors = sites.items.flatMap((x) => x.sensors.map((sn) => ({ ...sn, site: x.name })));
  parts.push(el('div', { class: 'grid2' },
    card('Sites', table([{ label: 'Site', cell: (x) => x.name }, { label: 'Description', cell: (x) => x.description },
      { label: 'Devices', cell: (x) => el('a', { href: `#/devices?site=${x.id}` }, String(x.devices)) },
      { label: 'Open alerts', cell: (x) => el('a', { href: `#/alerts?site=${x.id}` }, String(x.open_alerts)) }], sites.items),
      can('admin') ? el('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); try { await api('POST', '/sites', { name: e.target.name.value, description: e.target.description.value }); toast('Site added'); reload(); } catch (err) { toast(err.message, true); } } },
        el('input', { name: 'name', placeholder: 'New site name', required: true }), el('input', { name: 'description', placeholder: 'Description' }), el('button', { type: 'submit' }, 'Add site')) : null,
      can('admin') ? el('form', { class: 'inline', id: 'import-form', onsubmit: async (e) => {
        e.preventDefault();
        const file = e.target.bundle.files[0];
        if (!file) return;
        try { const r = await upload(`/sites/${e.target.site.value}/import`, file, () => {}); toast(`Imported ${r.stored.devices} devices, ${r.stored.events} events, ${r.stored.alerts} alerts`); reload(); } catch (err) { toast(err.message, true); }
      } }, el('select', { name: 'site', 'aria-label': 'Site to import into' }, siteOptions()), el('input', { type: 'file', name: 'bundle', 'aria-label': 'Sensor bundle' }), el('button', { type: 'submit' }, 'Import sensor bundle')) : null),
    card('Sensors', el('div', { id: 'sensors' }, table([{ label: 'Sensor', cell: (x) => x.name }, { label: 'Site', cell: (x) => x.site }, { label: 'Kind', cell: (x) => x.kind },
      { label: 'Last seen', cell: (x) => (x.kind === 'local' ? time(x.last_analysis) || 'never' : time(x.last_sync) || 'never synced') },
      { label: 'Received', cell: (x) => (x.kind === 'local' ? `${x.analyses} analyses, ${x.packets} packets` : `${x.synced_devices} devices, ${x.synced_events} events, ${x.synced_alerts} alerts`) }], sensors)),
      can('admin') ? el('form', { class: 'inline', id: 'sensor-form', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api('POST', '/sensors', { site_id: Number(e.target.site.value), name: e.target.name.value });
          sensorSecret.hidden = false;
          sensorSecret.textContent = `Copy this sensor token now, it is not shown again:\n${r.token}\nOn the sensor: palisade sync --db DB --console ${location.origin} --token ${r.token}`;
        } catch (err) { toast(err.message, true); }
      } }, el('select', { name: 'site', 'aria-label': 'Site of the sensor' }, siteOptions()), el('input', { name: 'name', placeholder: 'New sensor name', required: true }), el('button', { type: 'submit' }, 'Add sensor')) : null,
      sensorSecret)));
  const secret = el('div', { class: 'explain', hidden: true, id: 'token-secret' });
  parts.push(card('API tokens', el('p', { class: 'muted' }, 'Scripts send a token as "Authorization: Bearer <token>"; it acts with your role.'),
    tokens.items.length ? table([{ label: 'Name', cell: (t) => t.name }, { label: 'Created', cell: (t) => time(t.created_at) }, { label: 'Last used', cell: (t) => time(t.last_used) || 'never' },
      { label: '', cell: (t) => el('button', { class: 'danger', onclick: async () => { try { await api('DELETE', `/tokens/${t.id}`); toast('Token revoked'); location.hash = `#/settings?t=${Date.now()}`; } catch (e) { toast(e.message, true); } } }, 'Revoke') }], tokens.items) : empty('No token yet.'),
    el('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); try { const r = await api('POST', '/tokens', { name: e.target.name.value }); secret.hidden = false; secret.textContent = `Copy this token now, it is not shown again:\n${r.secret}`; } catch (err) { toast(err.message, true); } } },
      el('input', { name: 'name', placeholder: 'What the token is for', required: true }), el('button', { type: 'submit' }, 'Create token')), secret));
  parts.push(card('Your password', el('a', { class: 'button', href: '#/password' }, 'Change password')));
  return el('div', {}, pageHead('Settings'), parts);
}

// ---------------------------------------------------------------- password

async function password({ user, refreshUser }) {
  const error = el('p', { class: 'error', hidden: true });
  const form = el('form', { class: 'card', id: 'password-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target;
    if (f.new_password.value !== f.confirm.value) { error.hidden = false; error.textContent = 'The two new passwords differ.'; return; }
    try {
      await api('POST', '/auth/password', { current_password: f.current.value, new_password: f.new_password.value });
      await refreshUser();
      toast('Password changed');
      location.hash = '#/overview';
    } catch (err) { error.hidden = false; error.textContent = err.message; }
  } },
  user.must_change_password ? el('p', {}, 'Welcome. Choose your own password before going on.') : null,
  el('label', {}, 'Current password', el('input', { name: 'current', type: 'password', autocomplete: 'current-password', required: true })),
  el('label', {}, 'New password (10+ characters)', el('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true })),
  el('label', {}, 'New password again', el('input', { name: 'confirm', type: 'password', autocomplete: 'new-password', minlength: 10, required: true })),
  error, el('button', { class: 'primary', type: 'submit' }, 'Change password'));
  form.style.maxWidth = '420px';
  form.style.display = 'flex';
  form.style.flexDirection = 'column';
  form.style.gap = '12px';
  return el('div', {}, pageHead('Change password'), form);
}

/** Every page, by the first part of the hash. */
export const PAGES = { overview, devices, device, alerts: alertsPage, map: mapPage, events, upload: uploadPage, users, settings, password, ...VULN_PAGES, ...BASELINE_PAGES };
