/**
 * The call graph of one request (MSEC's callGraphReq, whose building code was never
 * published): from the call edges both sides reported on msec.reports.calls and the log
 * records sharing the request id. Nodes are the services (and the outside caller that
 * started it), with the instances that served, the methods, the latency and whether anything
 * failed; edges are the calls, numbered in the order they started. Pure.
 *
 * Each call is reported twice (client and server side). A server edge is paired with the
 * client attempt of the same caller, callee and method that ended nearest to it; an attempt
 * that reached no server (a refused connection, a timeout) stays a call of its own, as does
 * a server edge whose caller does not report (an HTTP client, a program without msec).
 */
import { levelNumber } from '../domain/logs/levels.ts';

export interface EdgeRow {
  side: 'client' | 'server';
  caller: string;
  callee: string;
  method: string;
  err: number;
  latencyMs: number;
  /** Epoch ms when the call ended. */
  atMs: number;
  /** `ip:port` that served ('' when none was reached). */
  instance: string;
}

/** What the log records of one service say about the request. */
export interface RecordSummary {
  service: string;
  records: number;
  /** Records at ERROR or FATAL. */
  errorRecords: number;
  serverIps: string[];
  firstMs: number;
  lastMs: number;
}

export interface CallGraphNode {
  id: string;
  /** `service` for a service of the tree; `caller` for where the request came from. */
  kind: 'service' | 'caller';
  instances: string[];
  /** Methods it served in this request. */
  methods: string[];
  /** The longest time it took to serve one of them (server side), or null. */
  latencyMs: number | null;
  /** A call to it failed, or it logged at ERROR or above. */
  error: boolean;
  records: number;
  errorRecords: number;
}

export interface CallGraphEdge {
  /** 1, 2, 3… in the order the calls started. */
  seq: number;
  from: string;
  to: string;
  method: string;
  /** As the caller saw it (the server's figure when the caller did not report). */
  latencyMs: number;
  /** As the server measured it, when it reported. */
  serverLatencyMs: number | null;
  err: number;
  instance: string;
  startMs: number;
}

export interface CallGraph {
  requestId: string;
  nodes: CallGraphNode[];
  edges: CallGraphEdge[];
  /** Earliest start and latest end seen (calls and records), or null with nothing. */
  startMs: number | null;
  endMs: number | null;
}

interface Call {
  from: string;
  to: string;
  method: string;
  client?: EdgeRow;
  server?: EdgeRow;
}

/** Pairs and orders the edges, adds the services that only logged. */
export function buildCallGraph(requestId: string, edges: readonly EdgeRow[], records: readonly RecordSummary[]): CallGraph {
  const calls = pairEdges(edges);
  const ordered = calls
    .map((call) => {
      const seen = call.client ?? call.server!;
      return { call, startMs: seen.atMs - seen.latencyMs, endMs: seen.atMs };
    })
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || a.call.from.localeCompare(b.call.from) || a.call.method.localeCompare(b.call.method));
  const graphEdges: CallGraphEdge[] = ordered.map(({ call, startMs }, i) => ({
    seq: i + 1,
    from: call.from,
    to: call.to,
    method: call.method,
    latencyMs: (call.client ?? call.server!).latencyMs,
    serverLatencyMs: call.server ? call.server.latencyMs : null,
    err: call.client ? call.client.err : call.server!.err,
    instance: call.client?.instance || call.server?.instance || '',
    startMs,
  }));

  const nodes = new Map<string, CallGraphNode>();
  const node = (id: string): CallGraphNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, kind: 'caller', instances: [], methods: [], latencyMs: null, error: false, records: 0, errorRecords: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  for (const e of graphEdges) {
    node(e.from);
    const to = node(e.to);
    to.kind = 'service';
    addOnce(to.methods, e.method);
    if (e.instance) addOnce(to.instances, e.instance);
    const served = e.serverLatencyMs ?? e.latencyMs;
    to.latencyMs = to.latencyMs === null ? served : Math.max(to.latencyMs, served);
    if (e.err !== 0) to.error = true;
  }
  for (const r of records) {
    const n = node(r.service);
    n.kind = 'service';
    n.records += r.records;
    n.errorRecords += r.errorRecords;
    if (r.errorRecords > 0) n.error = true;
    if (n.instances.length === 0) for (const ip of r.serverIps) if (ip) addOnce(n.instances, ip);
  }
  // In the order a reader follows: who started it, then each service as it was first called.
  const order: string[] = [];
  for (const e of graphEdges) {
    addOnce(order, e.from);
    addOnce(order, e.to);
  }
  for (const r of [...records].sort((a, b) => a.firstMs - b.firstMs || a.service.localeCompare(b.service))) addOnce(order, r.service);
  const times = [...ordered.flatMap((o) => [o.startMs, o.endMs]), ...records.flatMap((r) => [r.firstMs, r.lastMs])];
  return {
    requestId,
    nodes: order.map((id) => nodes.get(id)!),
    edges: graphEdges,
    startMs: times.length ? Math.min(...times) : null,
    endMs: times.length ? Math.max(...times) : null,
  };
}

function pairEdges(edges: readonly EdgeRow[]): Call[] {
  const clients = edges.filter((e) => e.side === 'client').sort((a, b) => a.atMs - b.atMs);
  const servers = edges.filter((e) => e.side === 'server').sort((a, b) => a.atMs - b.atMs);
  const calls: Call[] = clients.map((client) => ({ from: client.caller, to: client.callee, method: client.method, client }));
  for (const server of servers) {
    // The caller may have named the callee by address (`ip:port`): the server's instance then.
    const candidates = calls.filter((c) => c.server === undefined && c.client !== undefined && c.from === server.caller && c.method === server.method
      && (c.to === server.callee || c.to === server.instance));
    let best: Call | undefined;
    for (const c of candidates) {
      if (!best || Math.abs(c.client!.atMs - server.atMs) < Math.abs(best.client!.atMs - server.atMs)) best = c;
    }
    if (best) {
      best.server = server;
      best.to = server.callee;
    } else {
      calls.push({ from: server.caller, to: server.callee, method: server.method, server });
    }
  }
  return calls;
}

function addOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/** Records at or above this level count as errors in a node. */
export const errorLevel = levelNumber.ERROR;
