/**
 * MSEC's name-service JSON (msec-reference §1.2), the content of /nameservice/<First>/<Second>:
 *   {"Policy":"standard","IPInfo":[{"w":100,"t":"tcp","IP":"10.0.0.1","ports":[7963,7964]}],
 *    "shaping_request_min":10, …tuning keys, "version":42}
 * One IPInfo entry per (IP, type, weight), with its ports; type `all` is our `both`.
 * `version` is our addition (MSEC's agent watched mtime); a node without it (written by MSEC's
 * own console) reads as version 0, so any publish replaces it.
 * Decoding gives the canonical table: instances sorted by IP (IPv4 numerically) then port, and
 * no `tuning` when there is none. Every adapter stores canonical tables, so they compare equal.
 */
import type { RouteTable, RouteTableInstance } from './port.ts';

export class RouteTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteTableError';
  }
}

interface IpInfo {
  w: number;
  t: 'udp' | 'tcp' | 'all';
  IP: string;
  ports: number[];
  /** The host's agent missed its heartbeats (msec's addition; absent when up). */
  down?: true;
}

/** Keys of the JSON that are not tuning keys. */
const reservedKeys = new Set(['Policy', 'IPInfo', 'version', 'sharded']);
const wireType = { udp: 'udp', tcp: 'tcp', both: 'all' } as const;
const protocolOf = { udp: 'udp', tcp: 'tcp', all: 'both' } as const;

/** `First.Second` → [First, Second] (the first "." separates them, as in MSEC's agent). */
export function splitServiceName(service: string): [string, string] {
  const dot = service.indexOf('.');
  const first = service.slice(0, dot);
  const second = service.slice(dot + 1);
  const part = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
  if (dot < 1 || !part.test(first) || !part.test(second) || first.includes('.')) {
    throw new RouteTableError(`service name "${service}" must be First.Second (letters, digits, _ . -; no "/")`);
  }
  return [first, second];
}

export function checkRouteTable(table: RouteTable): void {
  splitServiceName(table.service);
  const where = `route table of ${table.service}`;
  if (!Number.isSafeInteger(table.version) || table.version < 0) {
    throw new RouteTableError(`${where}: version ${table.version} must be an integer >= 0`);
  }
  if (table.policy !== 'standard' && table.policy !== 'odd') {
    throw new RouteTableError(`${where}: policy must be "standard" or "odd", not "${String(table.policy)}"`);
  }
  const seen = new Set<string>();
  for (const i of table.instances) {
    const at = `${where}: instance ${i.ip}:${i.port}`;
    if (typeof i.ip !== 'string' || !/^[0-9A-Za-z.:_-]+$/.test(i.ip)) throw new RouteTableError(`${at}: bad IP`);
    if (!Number.isInteger(i.port) || i.port < 1 || i.port > 65_535) throw new RouteTableError(`${at}: port must be 1-65535`);
    if (!(i.protocol in wireType)) throw new RouteTableError(`${at}: protocol must be udp, tcp or both`);
    if (!Number.isInteger(i.weight) || i.weight < 0) throw new RouteTableError(`${at}: weight must be an integer >= 0`);
    if (seen.has(`${i.ip}:${i.port}`)) throw new RouteTableError(`${at}: listed twice`);
    seen.add(`${i.ip}:${i.port}`);
  }
  for (const [key, value] of Object.entries(table.tuning ?? {})) {
    if (reservedKeys.has(key)) throw new RouteTableError(`${where}: tuning key "${key}" is reserved`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RouteTableError(`${where}: tuning ${key} must be a number`);
  }
}

export function encodeRouteTable(table: RouteTable): string {
  checkRouteTable(table);
  const groups = new Map<string, IpInfo>();
  for (const i of sortInstances(table.instances)) {
    const t = wireType[i.protocol];
    const key = `${i.ip}|${t}|${i.weight}|${i.down === true}`;
    const group = groups.get(key);
    if (group) group.ports.push(i.port);
    else groups.set(key, { w: i.weight, t, IP: i.ip, ports: [i.port], ...(i.down ? { down: true as const } : {}) });
  }
  const tuning = Object.fromEntries(Object.entries(table.tuning ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ Policy: table.policy, IPInfo: [...groups.values()], ...tuning, version: table.version });
}

export function decodeRouteTable(service: string, text: string): RouteTable {
  const bad = (why: string) => new RouteTableError(`name-service node of ${service} is not MSEC route JSON (${why}): republish it from the control plane`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('not an object');
  const o = json as Record<string, unknown>;
  if (o.Policy !== 'standard' && o.Policy !== 'odd') throw bad('Policy must be standard or odd');
  if (!Array.isArray(o.IPInfo)) throw bad('IPInfo missing');
  const version = o.version === undefined ? 0 : o.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw bad('version');
  const instances: RouteTableInstance[] = [];
  for (const entry of o.IPInfo as unknown[]) {
    const e = entry as Partial<IpInfo> | null;
    if (!e || typeof e.IP !== 'string' || typeof e.w !== 'number' || !Array.isArray(e.ports) || !(String(e.t) in protocolOf)) {
      throw bad('IPInfo entry');
    }
    for (const port of e.ports) {
      if (typeof port !== 'number') throw bad('port');
      instances.push({ ip: e.IP, port, protocol: protocolOf[e.t!], weight: e.w, ...(e.down === true ? { down: true as const } : {}) });
    }
  }
  const tuning: Record<string, number> = {};
  for (const [key, value] of Object.entries(o)) {
    if (!reservedKeys.has(key) && typeof value === 'number') tuning[key] = value;
  }
  const table: RouteTable = { service, policy: o.Policy, version, instances: sortInstances(instances) };
  if (Object.keys(tuning).length) table.tuning = tuning;
  return table;
}

/** The table as every adapter stores and returns it. */
export function canonicalRouteTable(table: RouteTable): RouteTable {
  return decodeRouteTable(table.service, encodeRouteTable(table));
}

/**
 * Freezes a table (and its instances and tuning) so one copy can be handed to every caller:
 * RPC clients read the local copy on every call, where cloning 10 000 instances would cost.
 */
export function frozenRouteTable(table: RouteTable): RouteTable {
  for (const instance of table.instances) Object.freeze(instance);
  Object.freeze(table.instances);
  if (table.tuning) Object.freeze(table.tuning);
  return Object.freeze(table);
}

export function sameRouteTable(a: RouteTable | null | undefined, b: RouteTable | null | undefined): boolean {
  if (!a || !b) return a === b;
  if (a === b) return true;
  if (a.service !== b.service || a.version !== b.version || a.policy !== b.policy || a.instances.length !== b.instances.length) return false;
  return encodeRouteTable(a) === encodeRouteTable(b);
}

/** By IP (IPv4 numerically: 10.0.0.9 before 10.0.0.10; then anything else in code-unit order), then port. */
function sortInstances(instances: readonly RouteTableInstance[]): RouteTableInstance[] {
  const numbers = new Map<string, number | null>();
  const numberOf = (ip: string) => {
    let n = numbers.get(ip);
    if (n === undefined) numbers.set(ip, (n = ipv4Number(ip)));
    return n;
  };
  return [...instances].sort((a, b) => {
    if (a.ip === b.ip) return a.port - b.port;
    const na = numberOf(a.ip);
    const nb = numberOf(b.ip);
    if (na !== null && nb !== null && na !== nb) return na - nb;
    if ((na === null) !== (nb === null)) return na !== null ? -1 : 1;
    return a.ip < b.ip ? -1 : 1;
  });
}

function ipv4Number(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}
