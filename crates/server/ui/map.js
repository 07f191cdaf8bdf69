// The network map on a canvas: devices grouped in bands by Purdue level
// (enterprise at the top, process at the bottom) and in boxes by subnet,
// links coloured by protocol. Wheel zooms, drag pans, a click opens the
// device. Drawing is batched per colour so thousands of devices stay fluid.

const TYPE_COLORS = {
  plc: '#0f766e', rtu: '#0d9488', ied: '#14b8a6', 'io-adapter': '#5eead4', hmi: '#2563eb', 'engineering-workstation': '#7c3aed',
  'scada-server': '#4f46e5', historian: '#0891b2', router: '#ea580c', switch: '#f97316', 'wireless-ap': '#fb923c',
  workstation: '#64748b', server: '#475569', printer: '#a16207', phone: '#ca8a04', camera: '#db2777', iot: '#be185d',
  'building-controller': '#16a34a', unknown: '#94a3b8',
};
const PROTOCOL_COLORS = ['#0f766e', '#2563eb', '#7c3aed', '#db2777', '#ea580c', '#ca8a04', '#16a34a', '#0891b2', '#be123c', '#4f46e5'];
const LEVEL_ORDER = [5, 4, 3, 2, 1, 0, null];
const LEVEL_LABEL = { 5: 'L5 internet / DMZ', 4: 'L4 enterprise', 3: 'L3 site operations', 2: 'L2 supervision', 1: 'L1 control', 0: 'L0 process', null: 'Level unknown' };
const SPACING = 22;
const PAD = 18;

/** Lays out nodes; returns {rows, clusters, positions: Map(id -> {x, y, node})}. */
function layout(nodes) {
  const rows = [];
  const positions = new Map();
  let y = 0;
  for (const level of LEVEL_ORDER) {
    const members = nodes.filter((n) => (n.purdue_level ?? null) === level);
    if (!members.length) continue;
    const bySubnet = new Map();
    for (const n of members) {
      const key = n.subnet || 'no IP';
      if (!bySubnet.has(key)) bySubnet.set(key, []);
      bySubnet.get(key).push(n);
    }
    let x = 0;
    let rowH = 0;
    const clusters = [];
    for (const [subnet, list] of [...bySubnet.entries()].sort((a, b) => b[1].length - a[1].length)) {
      const cols = Math.max(1, Math.ceil(Math.sqrt(list.length * 3)));
      const rowsN = Math.ceil(list.length / cols);
      const w = cols * SPACING + PAD * 2;
      const h = rowsN * SPACING + PAD * 2 + 14;
      list.sort((a, b) => a.id - b.id).forEach((n, i) => {
        positions.set(n.id, { x: x + PAD + (i % cols) * SPACING + SPACING / 2, y: y + PAD + 14 + Math.floor(i / cols) * SPACING + SPACING / 2, node: n });
      });
      clusters.push({ x, y, w, h, label: `${subnet} (${list.length})` });
      x += w + 24;
      rowH = Math.max(rowH, h);
    }
    rows.push({ level, y, h: rowH, w: x, clusters });
    y += rowH + 40;
  }
  return { rows, positions, height: y, width: Math.max(1, ...rows.map((r) => r.w)) };
}

/** The interactive map inside `container`. */
export class NetworkMap {
  constructor(container, data, onOpen) {
    this.container = container;
    this.onOpen = onOpen;
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', `Network map of ${data.nodes.length} devices`);
    this.tip = document.createElement('div');
    this.tip.className = 'map-tip';
    this.tip.hidden = true;
    const controls = document.createElement('div');
    controls.className = 'map-controls';
    for (const [label, action] of [['+', () => this.zoomBy(1.4)], ['−', () => this.zoomBy(1 / 1.4)], ['Fit', () => this.fit()]]) {
      const b = document.createElement('button');
      b.textContent = label;
      b.addEventListener('click', action);
      controls.appendChild(b);
    }
    this.legend = document.createElement('div');
    this.legend.className = 'legend map-legend';
    container.append(this.canvas, this.tip, controls, this.legend);
    this.layout = layout(data.nodes);
    this.protocolColor = new Map();
    const protocols = [...new Set(data.edges.map((e) => e.protocol))].sort();
    protocols.forEach((p, i) => this.protocolColor.set(p, PROTOCOL_COLORS[i % PROTOCOL_COLORS.length]));
    this.edges = data.edges.filter((e) => this.layout.positions.has(e.source) && this.layout.positions.has(e.target));
    for (const p of protocols.slice(0, 10)) {
      const span = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = this.protocolColor.get(p);
      span.append(sw, p);
      this.legend.appendChild(span);
    }
    this.legend.style.position = 'absolute';
    this.legend.style.left = '12px';
    this.legend.style.bottom = '8px';
    this.view = { scale: 1, x: 0, y: 0 };
    this.hover = null;
    this.bind();
    this.resize();
    this.fit();
    // For tests and tools: where a device is drawn, in page coordinates.
    this.canvas.nodePosition = (id) => {
      const p = this.layout.positions.get(id);
      if (!p) return null;
      const r = this.canvas.getBoundingClientRect();
      return { x: r.left + p.x * this.view.scale + this.view.x, y: r.top + p.y * this.view.scale + this.view.y };
    };
    this.canvas.dataset.ready = 'true';
  }

  bind() {
    this.onResize = () => { this.resize(); this.draw(); };
    window.addEventListener('resize', this.onResize);
    let drag = null;
    this.canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      const r = this.canvas.getBoundingClientRect();
      this.zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    this.canvas.addEventListener('mousedown', (e) => { drag = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y, moved: false }; });
    window.addEventListener('mouseup', this.onUp = (e) => {
      if (drag && !drag.moved && e.target === this.canvas) {
        const hit = this.hit(e);
        if (hit) this.onOpen(hit.node.id);
      }
      drag = null;
      this.canvas.classList.remove('dragging');
    });
    this.canvas.addEventListener('mousemove', (e) => {
      if (drag) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; this.canvas.classList.add('dragging'); }
        this.view.x = drag.vx + dx;
        this.view.y = drag.vy + dy;
        this.draw();
        return;
      }
      const hit = this.hit(e);
      if (hit !== this.hover) { this.hover = hit; this.draw(); }
      if (hit) {
        const r = this.container.getBoundingClientRect();
        const n = hit.node;
        this.tip.textContent = [n.name || n.ip || n.mac, n.ip, n.type, n.vendor].filter(Boolean).join('\n');
        this.tip.style.left = `${e.clientX - r.left + 14}px`;
        this.tip.style.top = `${e.clientY - r.top + 14}px`;
        this.tip.hidden = false;
        this.canvas.style.cursor = 'pointer';
      } else {
        this.tip.hidden = true;
        this.canvas.style.cursor = '';
      }
    });
    this.canvas.addEventListener('mouseleave', () => { this.tip.hidden = true; });
  }

  destroy() {
    window.removeEventListener('resize', this.onResize);
    window.removeEventListener('mouseup', this.onUp);
  }

  resize() {
    const r = this.container.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.width = Math.max(1, r.width);
    this.height = Math.max(1, r.height);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.ratio = ratio;
  }

  fit() {
    const { width, height } = this.layout;
    const scale = Math.min(this.width / (width + 80), this.height / (height + 80), 2.5);
    this.view = { scale, x: (this.width - width * scale) / 2, y: (this.height - height * scale) / 2 + 10 };
    this.draw();
  }

  zoomBy(factor, cx = this.width / 2, cy = this.height / 2) {
    const scale = Math.min(20, Math.max(0.02, this.view.scale * factor));
    const f = scale / this.view.scale;
    this.view = { scale, x: cx - (cx - this.view.x) * f, y: cy - (cy - this.view.y) * f };
    this.draw();
  }

  hit(e) {
    const r = this.canvas.getBoundingClientRect();
    const wx = (e.clientX - r.left - this.view.x) / this.view.scale;
    const wy = (e.clientY - r.top - this.view.y) / this.view.scale;
    const radius = Math.max(7, 6 / this.view.scale);
    let best = null, bestD = radius * radius;
    for (const p of this.layout.positions.values()) {
      const d = (p.x - wx) ** 2 + (p.y - wy) ** 2;
      if (d < bestD) { best = p; bestD = d; }
    }
    return best;
  }

  draw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = null; this.paint(); });
  }

  paint() {
    const ctx = this.canvas.getContext('2d');
    const { scale, x, y } = this.view;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    ctx.setTransform(this.ratio * scale, 0, 0, this.ratio * scale, this.ratio * x, this.ratio * y);
    ctx.font = '11px system-ui, sans-serif';
    for (const row of this.layout.rows) {
      ctx.fillStyle = '#f8fafc';
      ctx.fillRect(-30, row.y - 14, this.layout.width + 60, row.h + 28);
      ctx.fillStyle = '#475569';
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(LEVEL_LABEL[row.level], -24, row.y - 2);
      ctx.font = '11px system-ui, sans-serif';
      for (const c of row.clusters) {
        ctx.strokeStyle = '#cbd5e1';
        ctx.lineWidth = 1 / scale;
        ctx.strokeRect(c.x, c.y + 4, c.w, c.h - 4);
        ctx.fillStyle = '#64748b';
        ctx.fillText(c.label, c.x + 6, c.y + 16);
      }
    }
    // Links, one path per protocol colour.
    const byColor = new Map();
    for (const e of this.edges) {
      const color = this.protocolColor.get(e.protocol) || '#94a3b8';
      if (!byColor.has(color)) byColor.set(color, []);
      byColor.get(color).push(e);
    }
    ctx.globalAlpha = this.hover ? 0.15 : 0.45;
    ctx.lineWidth = Math.max(0.6, 1 / scale);
    for (const [color, edges] of byColor) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (const e of edges) {
        const a = this.layout.positions.get(e.source), b = this.layout.positions.get(e.target);
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    if (this.hover) {
      ctx.lineWidth = Math.max(1.5, 2 / scale);
      for (const e of this.edges) {
        if (e.source !== this.hover.node.id && e.target !== this.hover.node.id) continue;
        const a = this.layout.positions.get(e.source), b = this.layout.positions.get(e.target);
        ctx.strokeStyle = this.protocolColor.get(e.protocol) || '#94a3b8';
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      }
    }
    // Nodes, one path per type colour.
    const byType = new Map();
    for (const p of this.layout.positions.values()) {
      const color = TYPE_COLORS[p.node.type] || TYPE_COLORS.unknown;
      if (!byType.has(color)) byType.set(color, []);
      byType.get(color).push(p);
    }
    for (const [color, points] of byType) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const p of points) {
        ctx.moveTo(p.x + 6, p.y);
        ctx.arc(p.x, p.y, 6, 0, Math.PI * 2);
      }
      ctx.fill();
    }
    if (this.hover) {
      ctx.strokeStyle = '#111a24';
      ctx.lineWidth = 2 / scale;
      ctx.beginPath();
      ctx.arc(this.hover.x, this.hover.y, 8, 0, Math.PI * 2);
      ctx.stroke();
    }
    if (scale > 1.6) {
      ctx.fillStyle = '#1b2430';
      ctx.font = '5px system-ui, sans-serif';
      for (const p of this.layout.positions.values()) {
        const label = p.node.name || p.node.ip || p.node.mac;
        if (label) ctx.fillText(label.length > 16 ? label.slice(0, 15) + '…' : label, p.x - 9, p.y + 11);
      }
    }
  }
}
