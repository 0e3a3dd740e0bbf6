/** The call graph of a request, from the edges both sides reported and the records it left. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildCallGraph, type EdgeRow, type RecordSummary } from '../../../projections/call-graph.ts';
import { callGraphDot, callGraphSvg, callGraphText } from '../../../apps/cli/callgraph-render.ts';

const edge = (o: Partial<EdgeRow> & Pick<EdgeRow, 'side' | 'caller' | 'callee' | 'method' | 'atMs' | 'latencyMs'>): EdgeRow => ({ err: 0, instance: '', ...o });
const summary = (service: string, o: Partial<RecordSummary> = {}): RecordSummary => ({ service, records: 2, errorRecords: 0, serverIps: ['10.0.0.1'], firstMs: 1000, lastMs: 1010, ...o });

describe('call graph', () => {
  test('front -> back: both sides paired into one call each, in the order they started', () => {
    const g = buildCallGraph('42', [
      // The outside client reports no edge; the front's server side does.
      edge({ side: 'server', caller: 'shop-client', callee: 'Shop.front', method: 'shop.Front.Order', atMs: 1100, latencyMs: 50, instance: '10.0.0.1:7000' }),
      edge({ side: 'client', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', atMs: 1080, latencyMs: 20, instance: '10.0.0.2:7001' }),
      edge({ side: 'server', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Stock', atMs: 1079, latencyMs: 15, instance: '10.0.0.2:7001' }),
      edge({ side: 'client', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Reserve', atMs: 1095, latencyMs: 5, instance: '10.0.0.2:7001', err: 1005 }),
      edge({ side: 'server', caller: 'Shop.front', callee: 'Shop.back', method: 'shop.Back.Reserve', atMs: 1094, latencyMs: 3, instance: '10.0.0.2:7001', err: 1005 }),
    ], [summary('Shop.front'), summary('Shop.back', { serverIps: ['10.0.0.2'], errorRecords: 1 })]);
    assert.deepEqual(g.edges.map((e) => [e.seq, e.from, e.to, e.method, e.latencyMs, e.serverLatencyMs, e.err]), [
      [1, 'shop-client', 'Shop.front', 'shop.Front.Order', 50, 50, 0],
      [2, 'Shop.front', 'Shop.back', 'shop.Back.Stock', 20, 15, 0],
      [3, 'Shop.front', 'Shop.back', 'shop.Back.Reserve', 5, 3, 1005],
    ]);
    assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.instances, n.methods, n.latencyMs, n.error, n.records]), [
      ['shop-client', 'caller', [], [], null, false, 0],
      ['Shop.front', 'service', ['10.0.0.1:7000'], ['shop.Front.Order'], 50, false, 2],
      ['Shop.back', 'service', ['10.0.0.2:7001'], ['shop.Back.Stock', 'shop.Back.Reserve'], 15, true, 2],
    ]);
    assert.deepEqual([g.startMs, g.endMs], [1000, 1100]);
  });

  test('a retry on another instance is two calls; an attempt that reached nobody stays a call with its error', () => {
    const g = buildCallGraph('7', [
      edge({ side: 'client', caller: 'A.a', callee: 'B.b', method: 'p.B.M', atMs: 100, latencyMs: 1, instance: '10.0.0.5:1', err: 2002 }),
      edge({ side: 'client', caller: 'A.a', callee: 'B.b', method: 'p.B.M', atMs: 120, latencyMs: 10, instance: '10.0.0.6:1' }),
      edge({ side: 'server', caller: 'A.a', callee: 'B.b', method: 'p.B.M', atMs: 119, latencyMs: 8, instance: '10.0.0.6:1' }),
    ], []);
    assert.deepEqual(g.edges.map((e) => [e.seq, e.err, e.instance, e.serverLatencyMs]), [[1, 2002, '10.0.0.5:1', null], [2, 0, '10.0.0.6:1', 8]]);
    const b = g.nodes.find((n) => n.id === 'B.b')!;
    assert.deepEqual(b.instances, ['10.0.0.5:1', '10.0.0.6:1']);
    assert.equal(b.error, true);
  });

  test('a caller that named the callee by address is paired with the service that answered', () => {
    const g = buildCallGraph('8', [
      edge({ side: 'client', caller: 'A.a', callee: '127.0.0.1:9000', method: 'p.B.M', atMs: 50, latencyMs: 4, instance: '127.0.0.1:9000' }),
      edge({ side: 'server', caller: 'A.a', callee: 'B.b', method: 'p.B.M', atMs: 50, latencyMs: 3, instance: '127.0.0.1:9000' }),
    ], []);
    assert.deepEqual(g.edges.map((e) => [e.from, e.to, e.latencyMs, e.serverLatencyMs]), [['A.a', 'B.b', 4, 3]]);
  });

  test('a request that only logged has its services as nodes and no edges', () => {
    const g = buildCallGraph('9', [], [summary('Solo.svc')]);
    assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.instances]), [['Solo.svc', 'service', ['10.0.0.1']]]);
    assert.equal(g.edges.length, 0);
  });

  test('text, DOT and SVG name every node and call, and escape what they show', () => {
    const g = buildCallGraph('42', [
      edge({ side: 'client', caller: 'evil"<x>\\', callee: 'Shop.front', method: 'shop.Front.Order', atMs: 10, latencyMs: 3 }),
    ], []);
    assert.match(callGraphText(g), /1\. evil"<x>\\ -> Shop\.front {2}shop\.Front\.Order {2}3\.0 ms/);
    const dot = callGraphDot(g);
    assert.match(dot, /"evil\\"<x>\\\\" -> "Shop.front" \[label="1. shop.Front.Order 3.0 ms"\]/);
    const svg = callGraphSvg(g);
    assert.equal((svg.match(/<g class="node"/g) ?? []).length, 2);
    assert.equal((svg.match(/<g class="edge"/g) ?? []).length, 1);
    assert.ok(svg.includes('evil&quot;&lt;x&gt;\\'));
    assert.ok(!svg.includes('<x>'));
  });
});
