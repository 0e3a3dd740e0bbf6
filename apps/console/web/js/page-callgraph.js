/**
 * #/callgraph/<requestId>: the services one request went through (GET /api/callgraph/:id),
 * laid out with dagre (bundled: /vendor/dagre.esm.js) and drawn as SVG elements (no HTML
 * strings). A node opens that service's records of the request; "Download SVG" saves the
 * drawing as it is shown.
 */
import dagre from '/vendor/dagre.esm.js';
import { api, seg } from './api.js';
import { h, formatTime } from './dom.js';
import { logsHref } from './page-logs.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHAR = 7;
const LINE = 16;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  return el;
}

const ms = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);

function nodeLines(n) {
  if (n.kind === 'caller') return [n.id, '(caller)'];
  const lines = [n.id];
  if (n.instances.length) lines.push(n.instances.join(', '));
  if (n.methods.length) lines.push(n.methods.join(', '));
  const facts = [n.latencyMs !== null ? ms(n.latencyMs) : '', n.records ? `${n.records} record${n.records === 1 ? '' : 's'}` : '', n.error ? 'ERROR' : ''].filter(Boolean);
  if (facts.length) lines.push(facts.join(' · '));
  return lines;
}

const edgeLabel = (e) => `${e.seq}. ${e.method} ${ms(e.latencyMs)}${e.err ? ` err ${e.err}` : ''}`;

/** The graph as an <svg> element; `open(node)` is called when a node is clicked. */
export function drawCallGraph(graph, open) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 80, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const lines = nodeLines(n);
    g.setNode(n.id, { width: Math.max(...lines.map((l) => l.length)) * CHAR + 24, height: lines.length * LINE + 16 });
  }
  for (const e of graph.edges) g.setEdge(e.from, e.to, { width: edgeLabel(e).length * CHAR, height: LINE, labelpos: 'c' }, String(e.seq));
  dagre.layout(g);
  const { width, height } = g.graph();
  const svg = s('svg', { xmlns: SVG, id: 'callgraph-svg', width: Math.ceil(width), height: Math.ceil(height), viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, 'font-family': 'sans-serif', 'font-size': 12 },
    s('title', {}, `call graph of request ${graph.requestId}`),
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555' }))));
  for (const e of graph.edges) {
    const layout = g.edge({ v: e.from, w: e.to, name: String(e.seq) });
    const d = layout.points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const color = e.err ? '#c0392b' : '#555';
    svg.append(s('g', { class: 'edge', 'data-testid': 'callgraph-edge', 'data-seq': e.seq, 'data-from': e.from, 'data-to': e.to },
      s('path', { d, fill: 'none', stroke: color, 'stroke-width': 1.5, 'marker-end': 'url(#arrow)' }),
      s('text', { x: layout.x.toFixed(1), y: (layout.y - 5).toFixed(1), 'text-anchor': 'middle', fill: color }, edgeLabel(e))));
  }
  for (const n of graph.nodes) {
    const box = g.node(n.id);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    const text = s('text', { 'text-anchor': 'middle' }, ...nodeLines(n).map((l, i) => s('tspan', { x: box.x.toFixed(1), y: (y + 20 + i * LINE).toFixed(1), 'font-weight': i === 0 ? 'bold' : null }, l)));
    const node = s('g', { class: `node${n.kind === 'service' ? ' clickable' : ''}`, 'data-testid': 'callgraph-node', 'data-id': n.id, 'data-kind': n.kind, tabindex: n.kind === 'service' ? 0 : null, role: n.kind === 'service' ? 'link' : null },
      s('title', {}, n.kind === 'service' ? `records of ${n.id} for this request` : `${n.id} started the request`),
      s('rect', { x: x.toFixed(1), y: y.toFixed(1), width: box.width.toFixed(1), height: box.height.toFixed(1), rx: 6, fill: n.kind === 'caller' ? '#f4f4f4' : '#eef3fb', stroke: n.error ? '#c0392b' : '#336', 'stroke-dasharray': n.kind === 'caller' ? '4 3' : null }),
      text);
    if (n.kind === 'service') {
      node.addEventListener('click', () => open(n));
      node.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') open(n);
      });
    }
    svg.append(node);
  }
  return svg;
}

export async function renderCallGraph(root, { match }) {
  const requestId = decodeURIComponent(match[1]);
  document.title = `Call graph ${requestId} · msec console`;
  const graph = await api.get(`/api/callgraph/${seg(requestId)}`);
  const open = (n) => (location.hash = logsHref({ requestId, service: n.id }));
  const svg = drawCallGraph(graph, open);
  const download = h('a', { id: 'callgraph-download', class: 'button', href: '#', download: `callgraph-${requestId}.svg` }, 'Download SVG');
  download.addEventListener('click', () => {
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new window.XMLSerializer().serializeToString(svg)}\n`;
    const url = URL.createObjectURL(new window.Blob([text], { type: 'image/svg+xml' }));
    download.href = url;
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  const took = graph.startMs !== null && graph.endMs !== null ? ` · ${ms(graph.endMs - graph.startMs)} from first to last` : '';
  root.append(
    h('h1', {}, `Call graph of request ${requestId}`),
    h('p', { class: 'muted', id: 'callgraph-summary' }, `${graph.nodes.filter((n) => n.kind === 'service').length} services, ${graph.edges.length} calls${took}`,
      graph.startMs !== null ? ` · started ${formatTime(new Date(graph.startMs).toISOString())}` : ''),
    h('p', { class: 'links' }, h('a', { id: 'callgraph-logs', href: logsHref({ requestId }) }, 'Every record of this request'), ' · ', download),
    h('section', { class: 'card callgraph' }, h('div', { class: 'callgraph-scroll' }, svg)),
    h('section', { class: 'card' }, h('h2', {}, 'Calls in order'),
      h('table', { class: 'grid', id: 'callgraph-calls' },
        h('thead', {}, h('tr', {}, ['#', 'From', 'To', 'Method', 'Latency', 'Served in', 'Result', 'Instance'].map((t) => h('th', {}, t)))),
        h('tbody', {}, graph.edges.map((e) => h('tr', { 'data-testid': 'callgraph-call', 'data-seq': e.seq },
          h('td', { class: 'num' }, e.seq), h('td', {}, e.from), h('td', {}, e.to), h('td', { class: 'mono' }, e.method),
          h('td', { class: 'num' }, ms(e.latencyMs)), h('td', { class: 'num' }, ms(e.serverLatencyMs)),
          h('td', {}, e.err ? `error ${e.err}` : 'ok'), h('td', { class: 'mono' }, e.instance || '—')))))));
}
