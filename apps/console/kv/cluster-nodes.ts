/**
 * Redis's own answers, read (pure): CLUSTER NODES lines, INFO sections. Everything the console
 * shows or decides about a live cluster starts from these texts, so they are parsed in one
 * place and tested on real output.
 */

export interface ClusterNode {
  id: string;
  ip: string;
  port: number;
  flags: string[];
  /** The master's node id for a replica ("" for a master). */
  masterId: string;
  linkState: string;
  slots: number[];
  /** Open migrations seen from this node (only in its own line): slot → target node id. */
  migrating: Map<number, string>;
  /** Open imports seen from this node: slot → source node id. */
  importing: Map<number, string>;
}

export const isMaster = (n: ClusterNode) => n.flags.includes('master');
/** Marked failing by the cluster (fail), or not answering this node (fail?), or gone from its view (noaddr). */
export const isFailing = (n: ClusterNode) => n.flags.includes('fail') || n.flags.includes('fail?') || n.flags.includes('noaddr');
export const nodeAddress = (n: { ip: string; port: number }) => `${n.ip}:${n.port}`;

export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id, address, flagText, master, , , , linkState, ...slotParts] = parts as [string, string, string, string, string, string, string, string, ...string[]];
    const m = /^([^:]*):(\d+)@/.exec(address);
    const node: ClusterNode = {
      id, ip: m?.[1] ?? '', port: Number(m?.[2] ?? 0), flags: flagText.split(','), masterId: master === '-' ? '' : master, linkState,
      slots: [], migrating: new Map(), importing: new Map(),
    };
    for (const s of slotParts) {
      const open = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(s);
      if (open) {
        (open[2] === '>' ? node.migrating : node.importing).set(Number(open[1]), open[3]!);
        continue;
      }
      const [a, b] = s.split('-').map(Number) as [number, number | undefined];
      if (!Number.isInteger(a)) continue;
      for (let x = a; x <= (b ?? a); x++) node.slots.push(x);
    }
    nodes.push(node);
  }
  return nodes;
}

/** INFO's `key:value` lines (every section) as a map; `# Section` headers and blank lines skipped. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** Keys of db0 from INFO keyspace (`db0:keys=12,expires=0,avg_ttl=0`); 0 when empty. */
export function keysOf(info: Map<string, string>): number {
  const m = /keys=(\d+)/.exec(info.get('db0') ?? '');
  return m ? Number(m[1]) : 0;
}
