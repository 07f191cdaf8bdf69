// Small SVG charts drawn by hand: horizontal bars, a donut and stacked
// columns over time. Every label is set with textContent (never markup).

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A palette that stays readable for many series. */
export const PALETTE = ['#0f766e', '#2563eb', '#7c3aed', '#db2777', '#ea580c', '#ca8a04', '#16a34a', '#0891b2', '#4f46e5', '#be123c', '#65a30d', '#9333ea'];

/** Horizontal bars: items are [label, value]; onClick(label) makes bars links. */
export function barChart(items, { color = PALETTE[0], onClick } = {}) {
  const rowH = 26, labelW = 150, width = 520, valueW = 50;
  const max = Math.max(1, ...items.map(([, v]) => v));
  const root = svg('svg', { viewBox: `0 0 ${width} ${Math.max(rowH, items.length * rowH)}`, role: 'img' });
  items.forEach(([label, value], i) => {
    const y = i * rowH;
    const g = svg('g', { class: onClick ? 'bar clickable' : 'bar' });
    g.appendChild(svg('text', { x: 0, y: y + 17 }, label.length > 22 ? label.slice(0, 21) + '…' : label));
    const w = ((width - labelW - valueW) * value) / max;
    g.appendChild(svg('rect', { x: labelW, y: y + 5, width: Math.max(2, w), height: rowH - 10, rx: 3, fill: color }));
    g.appendChild(svg('text', { x: labelW + w + 6, y: y + 17 }, String(value)));
    const title = svg('title', {}, `${label}: ${value}`);
    g.appendChild(title);
    if (onClick) {
      g.style.cursor = 'pointer';
      g.addEventListener('click', () => onClick(label));
    }
    root.appendChild(g);
  });
  return root;
}

/** A donut of [label, value, color] with the total in the middle. */
export function donut(items, centerLabel) {
  const size = 180, r = 70, stroke = 26, cx = size / 2, cy = size / 2;
  const total = items.reduce((s, [, v]) => s + v, 0);
  const root = svg('svg', { viewBox: `0 0 ${size} ${size}`, role: 'img', width: size, height: size });
  const circumference = 2 * Math.PI * r;
  let offset = 0;
  root.appendChild(svg('circle', { cx, cy, r, fill: 'none', stroke: '#eef2f6', 'stroke-width': stroke }));
  for (const [label, value, color] of items) {
    if (!value) continue;
    const len = (value / Math.max(1, total)) * circumference;
    const arc = svg('circle', {
      cx, cy, r, fill: 'none', stroke: color, 'stroke-width': stroke,
      'stroke-dasharray': `${len} ${circumference - len}`, 'stroke-dashoffset': -offset, transform: `rotate(-90 ${cx} ${cy})`,
    });
    arc.appendChild(svg('title', {}, `${label}: ${value}`));
    root.appendChild(arc);
    offset += len;
  }
  root.appendChild(svg('text', { x: cx, y: cy + 2, 'text-anchor': 'middle', class: 'donut-total' }, String(total)));
  root.appendChild(svg('text', { x: cx, y: cy + 18, 'text-anchor': 'middle' }, centerLabel));
  return root;
}

/** Stacked columns: buckets [{label, values: {series: n}}], series [[name, color]]. */
export function stackedColumns(buckets, series) {
  const width = 560, height = 200, left = 34, bottom = 22, top = 8;
  const totals = buckets.map((b) => series.reduce((s, [name]) => s + (b.values[name] || 0), 0));
  const max = Math.max(1, ...totals);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const plotH = height - bottom - top;
  for (const frac of [0, 0.5, 1]) {
    const y = top + plotH - plotH * frac;
    root.appendChild(svg('line', { x1: left, x2: width, y1: y, y2: y, stroke: '#eef2f6' }));
    root.appendChild(svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, String(Math.round(max * frac))));
  }
  const slot = (width - left) / Math.max(1, buckets.length);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  buckets.forEach((b, i) => {
    let y = top + plotH;
    const x = left + i * slot + (slot - barW) / 2;
    for (const [name, color] of series) {
      const v = b.values[name] || 0;
      if (!v) continue;
      const h = (v / max) * plotH;
      y -= h;
      const rect = svg('rect', { x, y, width: barW, height: h, fill: color });
      rect.appendChild(svg('title', {}, `${b.label} ${name}: ${v}`));
      root.appendChild(rect);
    }
    const every = Math.ceil(buckets.length / 8);
    if (i % every === 0) root.appendChild(svg('text', { x: x + barW / 2, y: height - 6, 'text-anchor': 'middle' }, b.label));
  });
  return root;
}

/** A legend row for [label, color] pairs. */
export function legend(items) {
  const div = document.createElement('div');
  div.className = 'legend';
  for (const [label, color] of items) {
    const span = document.createElement('span');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = color;
    span.append(sw, label);
    div.appendChild(span);
  }
  return div;
}
