/**
 * A request's call graph (projections/call-graph.ts) as text for `msec callgraph`: lines for
 * a terminal, Graphviz DOT (what MSEC's log server answered), and a standalone SVG laid out
 * with dagre, the layout library the console's browser page uses too.
 */
import dagre from '@dagrejs/dagre';
import type { CallGraph, CallGraphEdge, CallGraphNode } from '../../projections/call-graph.ts';

const ms = (n: number | null) => (n === null ? '-' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`);
const outcome = (err: number) => (err === 0 ? 'ok' : `err ${err}`);

export function nodeLines(n: CallGraphNode): string[] {
  if (n.kind === 'caller') return [n.id, '(caller)'];
  const lines = [n.id];
  if (n.instances.length) lines.push(n.instances.join(', '));
  if (n.methods.length) lines.push(n.methods.join(', '));
  const facts = [n.latencyMs !== null ? ms(n.latencyMs) : '', n.records ? `${n.records} record${n.records === 1 ? '' : 's'}` : '', n.error ? 'ERROR' : ''].filter(Boolean);
  if (facts.length) lines.push(facts.join(' · '));
  return lines;
}

export function edgeLabel(e: CallGraphEdge): string {
  return `${e.seq}. ${e.method} ${ms(e.latencyMs)}${e.err ? ` err ${e.err}` : ''}`;
}

/** For a terminal: the calls in order, then the services. */
export function callGraphText(g: CallGraph): string {
  const took = g.startMs !== null && g.endMs !== null ? `, ${ms(g.endMs - g.startMs)} from first to last` : '';
  const services = g.nodes.filter((n) => n.kind === 'service').length;
  const lines = [`request ${g.requestId}: ${services} service${services === 1 ? '' : 's'}, ${g.edges.length} call${g.edges.length === 1 ? '' : 's'}${took}`];
  if (g.edges.length) lines.push('calls:');
  for (const e of g.edges) {
    lines.push(`  ${String(e.seq).padStart(2)}. ${e.from} -> ${e.to}  ${e.method}  ${ms(e.latencyMs)}${e.serverLatencyMs !== null ? ` (served in ${ms(e.serverLatencyMs)})` : ''}  ${outcome(e.err)}  ${e.instance || '-'}`);
  }
  lines.push('services:');
  for (const n of g.nodes) {
    if (n.kind === 'caller') {
      lines.push(`  ${n.id}  (caller)`);
      continue;
    }
    lines.push(`  ${n.id}  ${n.instances.join(', ') || '-'}  ${n.methods.join(', ') || '-'}  ${ms(n.latencyMs)}  ${n.records} record${n.records === 1 ? '' : 's'}${n.errorRecords ? ` (${n.errorRecords} at ERROR+)` : ''}${n.error ? '  ERROR' : ''}`);
  }
  return lines.join('\n') + '\n';
}

const dotString = (s: string) => `"${s.replace(/[\\"]/g, '\\$&').replace(/\r?\n/g, '\\n')}"`;

/** Graphviz DOT: `dot -Tpng` draws it. */
export function callGraphDot(g: CallGraph): string {
  const out = [`digraph ${dotString(`request ${g.requestId}`)} {`, '  rankdir=LR;', '  node [shape=box, fontname="sans-serif"];', '  edge [fontname="sans-serif"];'];
  for (const n of g.nodes) {
    out.push(`  ${dotString(n.id)} [label=${dotString(nodeLines(n).join('\n'))}${n.kind === 'caller' ? ', style=dashed' : ''}${n.error ? ', color=red' : ''}];`);
  }
  for (const e of g.edges) out.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotString(edgeLabel(e))}${e.err ? ', color=red' : ''}];`);
  out.push('}');
  return out.join('\n') + '\n';
}

const xml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
// eslint-disable-next-line no-control-regex
const printable = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g, '\uFFFD');

const charWidth = 7;
const lineHeight = 16;

/** A standalone SVG document of the graph. */
export function callGraphSvg(g: CallGraph): string {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 80, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    const lines = nodeLines(n);
    graph.setNode(n.id, { width: Math.max(...lines.map((l) => l.length)) * charWidth + 24, height: lines.length * lineHeight + 16 });
  }
  for (const e of g.edges) {
    graph.setEdge(e.from, e.to, { width: edgeLabel(e).length * charWidth, height: lineHeight, labelpos: 'c' }, String(e.seq));
  }
  dagre.layout(graph);
  const { width = 0, height = 0 } = graph.graph();
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="sans-serif" font-size="12">`,
    `<title>${xml(printable(`call graph of request ${g.requestId}`))}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
  ];
  for (const e of g.edges) {
    const layout = graph.edge({ v: e.from, w: e.to, name: String(e.seq) });
    const points: { x: number; y: number }[] = layout.points ?? [];
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const color = e.err ? '#c0392b' : '#555';
    parts.push(`<g class="edge" data-seq="${e.seq}" data-from="${xml(printable(e.from))}" data-to="${xml(printable(e.to))}">`
      + `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5" marker-end="url(#arrow)"/>`
      + `<text x="${(layout.x ?? 0).toFixed(1)}" y="${((layout.y ?? 0) - 5).toFixed(1)}" text-anchor="middle" fill="${color}">${xml(printable(edgeLabel(e)))}</text></g>`);
  }
  for (const n of g.nodes) {
    const box = graph.node(n.id);
    const lines = nodeLines(n);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    const stroke = n.error ? '#c0392b' : '#336';
    const spans = lines.map((l, i) => `<tspan x="${box.x.toFixed(1)}" y="${(y + 20 + i * lineHeight).toFixed(1)}"${i === 0 ? ' font-weight="bold"' : ''}>${xml(printable(l))}</tspan>`).join('');
    parts.push(`<g class="node" data-id="${xml(printable(n.id))}" data-kind="${n.kind}">`
      + `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${box.width.toFixed(1)}" height="${box.height.toFixed(1)}" rx="6" fill="${n.kind === 'caller' ? '#f4f4f4' : '#eef3fb'}" stroke="${stroke}"${n.kind === 'caller' ? ' stroke-dasharray="4 3"' : ''}/>`
      + `<text text-anchor="middle">${spans}</text></g>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
