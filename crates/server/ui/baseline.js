// The baseline page: what the site learned during its learning period and
// what is new since (devices, connections, services, operations), with the
// alerts to learn or work through. The site selector picks the site.

import { api, qs } from './api.js';
import { el, toast, card, table, pageHead, stat, empty, time } from './pages.js';

const GROUPS = [
  ['New devices', ['device', 'address', 'host']],
  ['New connections', ['connection', 'remote-access', 'internet']],
  ['New protocols and services', ['service', 'protocol', 'role']],
  ['New operations', ['operation', 'object', 'violation']],
];

// Capture times come as RFC 3339 text (or nanoseconds).
const nsTime = (t) => (typeof t === 'number' ? time(new Date(t / 1e6).toISOString()) : time(t));

/** The site selector of the pages that show one site's data; remembers the choice. */
export async function siteSelect(onChange) {
  const sites = (await api('GET', '/sites')).items;
  const chosen = localStorage.getItem('palisade.site') || '';
  return el('select', { id: 'site-select', 'aria-label': 'Site', onchange: (e) => { localStorage.setItem('palisade.site', e.target.value); onChange(e.target.value); } },
    el('option', { value: '' }, 'All sites'),
    sites.map((s) => el('option', { value: String(s.id), selected: chosen === String(s.id) }, `${s.name} (${s.devices} devices)`)));
}

/** The site chosen in the selector ('' for all). */
export function chosenSite() {
  return localStorage.getItem('palisade.site') || '';
}

async function baselinePage({ query, can }) {
  const box = el('div');
  async function load() {
    const site = query.get('site') || chosenSite() || '1';
    try {
      const d = await api('GET', '/baseline/diff' + qs({ site, from: query.get('from') || '', to: query.get('to') || '' }));
      const l = d.learning || {};
      const ends = l.site_start ? nsTime(d.from) : '';
      const rows = d.added || [];
      const groups = GROUPS.map(([title, kinds]) => [title, rows.filter((r) => kinds.includes(r.kind))]);
      const other = rows.filter((r) => !GROUPS.some(([, kinds]) => kinds.includes(r.kind)));
      const cards = el('div', { class: 'cards' },
        stat('Learned facts', d.learned),
        stat('New since learning', rows.length, ends ? `learning ended ${ends}` : 'still learning'),
        stat('Not seen since', (d.removed || []).length),
        stat('Last capture time', nsTime(l.last_seen) || '–'));
      const factTable = (list) => table([
        { label: 'Kind', cell: (r) => r.kind },
        { label: 'What', cell: (r) => r.item },
        { label: 'First seen', cell: (r) => nsTime(r.first_seen) },
        { label: 'Seen', cell: (r) => `${r.count}×` },
        { label: 'Baseline', cell: (r) => (r.learned ? 'learned' : el('a', { href: '#/alerts?status=open&search=' + encodeURIComponent(r.item.split(' ')[0]) }, can('security-analyst') ? 'review alerts to learn' : 'change')) },
      ], list.slice(0, 500));
      box.replaceChildren(cards,
        ...groups.map(([title, list]) => card(`${title} (${list.length})`, list.length ? factTable(list) : empty('Nothing new.'))),
        other.length ? card(`Other changes (${other.length})`, factTable(other)) : null,
        card(`Not seen since learning (${(d.removed || []).length})`, (d.removed || []).length ? factTable(d.removed) : empty('Everything learned was seen again.')));
    } catch (e) {
      toast(e.message, true);
      box.replaceChildren(el('div', { class: 'card error' }, e.message));
    }
  }
  const selector = await siteSelect(() => { query.delete('site'); load(); });
  await load();
  return el('div', {}, pageHead('Baseline', 'What the site learned, and what is new since its learning period ended', selector), box);
}

/** The pages of this file, by the first part of the hash. */
export const BASELINE_PAGES = { baseline: baselinePage };
