/**
 * The routing table (msec-reference §1.2): per second-level service, the ENABLED instances with
 * their static weights, and the routing projection's version of it. One shape from end to end:
 * the routing projection emits it, the registry adapters (embedded, ZooKeeper) store it, the
 * console's route API answers it, the client SDK and the agent's route lookup route with it.
 *
 * Two encodings, both here:
 *  - JSON of the type itself: the console's `GET /api/routes/:name` and the SDK's disk copy.
 *    `routeTableFromJson` checks what comes in and gives the canonical table;
 *  - MSEC's name-service JSON, the content of /nameservice/<First>/<Second> on ZooKeeper:
 *      {"Policy":"standard","IPInfo":[{"w":100,"t":"tcp","IP":"10.0.0.1","ports":[7963,7964]}],
 *       "shaping_request_min":10, …tuning keys, "version":42}
 *    one IPInfo entry per (IP, type, weight, down), with its ports; type `all` is our `both`.
 *    `version` is our addition (MSEC's agent watched mtime); a node without it (written by
 *    MSEC's own console) reads as version 0, so any publish replaces it.
 * The canonical table has its instances sorted by IP (IPv4 numerically) then port, `down` only
 * when true, and no `tuning` when there is none; every adapter hands out canonical tables, so
 * they compare equal whatever path they took.
 */

/** MSEC's route policy: `standard` services get heartbeat checks, `odd` ones do not. */
export type RoutePolicy = 'standard' | 'odd';

export type RouteProtocol = 'udp' | 'tcp' | 'both';

export interface RouteInstance {
  ip: string;
  port: number;
  protocol: RouteProtocol;
  /** Static weight (the console's, 1–10000). */
  weight: number;
  /** The host's agent stopped beating (3 missed heartbeats): picked only when every instance is down. */
  down?: true;
}

export interface RouteTable {
  /** `First.Second` */
  service: string;
  policy: RoutePolicy;
  /**
   * The global position of the last event that changed what a client routes to: the same after
   * any replay, so it is the table's ETag.
   */
  version: number;
  /** Enabled instances, canonical order. */
  instances: RouteInstance[];
  /** MSEC's NLB tuning keys (shaping_request_min, success_ratio_base, …), when set. */
  tuning?: Record<string, number>;
}

export class RouteTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteTableError';
  }
}

const policies: ReadonlySet<string> = new Set<RoutePolicy>(['standard', 'odd']);
const protocols: ReadonlySet<string> = new Set<RouteProtocol>(['udp', 'tcp', 'both']);
/** Keys of MSEC's JSON that are not tuning keys. */
const reservedKeys = new Set(['Policy', 'IPInfo', 'version', 'sharded']);

/** `First.Second` → [First, Second] (the first "." separates them, as in MSEC's agent). */
export function splitServiceName(service: string): [string, string] {
  const dot = typeof service === 'string' ? service.indexOf('.') : -1;
  const first = dot < 1 ? '' : service.slice(0, dot);
  const second = dot < 1 ? '' : service.slice(dot + 1);
  const part = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
  if (dot < 1 || !part.test(first) || !part.test(second) || first.includes('.')) {
    throw new RouteTableError(`service name "${String(service)}" must be First.Second (letters, digits, _ . -; no "/")`);
  }
  return [first, second];
}

/** Throws RouteTableError naming what is wrong. */
export function checkRouteTable(table: RouteTable): void {
  splitServiceName(table.service);
  const where = `route table of ${table.service}`;
  if (!Number.isSafeInteger(table.version) || table.version < 0) {
    throw new RouteTableError(`${where}: version ${table.version} must be an integer >= 0`);
  }
  if (!policies.has(table.policy)) throw new RouteTableError(`${where}: policy must be "standard" or "odd", not "${String(table.policy)}"`);
  if (!Array.isArray(table.instances)) throw new RouteTableError(`${where}: instances must be a list`);
  const seen = new Set<string>();
  for (const i of table.instances) {
    const at = `${where}: instance ${i?.ip}:${i?.port}`;
    if (!i || typeof i.ip !== 'string' || !/^[0-9A-Za-z.:_-]+$/.test(i.ip)) throw new RouteTableError(`${at}: bad IP`);
    if (!Number.isInteger(i.port) || i.port < 1 || i.port > 65_535) throw new RouteTableError(`${at}: port must be 1-65535`);
    if (!protocols.has(i.protocol)) throw new RouteTableError(`${at}: protocol must be udp, tcp or both`);
    if (!Number.isInteger(i.weight) || i.weight < 0) throw new RouteTableError(`${at}: weight must be an integer >= 0`);
    if (i.down !== undefined && typeof i.down !== 'boolean') throw new RouteTableError(`${at}: down must be true or absent`);
    if (seen.has(`${i.ip}:${i.port}`)) throw new RouteTableError(`${at}: listed twice`);
    seen.add(`${i.ip}:${i.port}`);
  }
  if (table.tuning !== undefined && (typeof table.tuning !== 'object' || table.tuning === null || Array.isArray(table.tuning))) {
    throw new RouteTableError(`${where}: tuning must be an object of numbers`);
  }
  for (const [key, value] of Object.entries(table.tuning ?? {})) {
    if (reservedKeys.has(key)) throw new RouteTableError(`${where}: tuning key "${key}" is reserved`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RouteTableError(`${where}: tuning ${key} must be a number`);
  }
}

/** The canonical copy of a (checked) table: see the top of this file. */
export function canonicalRouteTable(table: RouteTable): RouteTable {
  checkRouteTable(table);
  const instances = sortInstances(table.instances.map(({ ip, port, protocol, weight, down }) => (down ? { ip, port, protocol, weight, down } : { ip, port, protocol, weight })));
  const canonical: RouteTable = { service: table.service, policy: table.policy, version: table.version, instances };
  const tuning = Object.entries(table.tuning ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (tuning.length) canonical.tuning = Object.fromEntries(tuning);
  return canonical;
}

/** A table from JSON (the console's answer, a saved copy): checked, canonical. */
export function routeTableFromJson(json: unknown): RouteTable {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new RouteTableError('a route table must be a JSON object');
  // Fields this reader does not know are left out: a newer console may add some.
  return canonicalRouteTable(json as RouteTable);
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

/** Whether two canonical tables (or nulls) are the same table. */
export function sameRouteTable(a: RouteTable | null | undefined, b: RouteTable | null | undefined): boolean {
  if (!a || !b) return a === b;
  if (a === b) return true;
  if (a.service !== b.service || a.version !== b.version || a.policy !== b.policy || a.instances.length !== b.instances.length) return false;
  for (let k = 0; k < a.instances.length; k++) {
    const x = a.instances[k]!;
    const y = b.instances[k]!;
    if (x.ip !== y.ip || x.port !== y.port || x.protocol !== y.protocol || x.weight !== y.weight || (x.down === true) !== (y.down === true)) return false;
  }
  const ta = Object.entries(a.tuning ?? {});
  const tb = b.tuning ?? {};
  return ta.length === Object.keys(tb).length && ta.every(([key, value]) => tb[key] === value);
}

interface IpInfo {
  w: number;
  t: 'udp' | 'tcp' | 'all';
  IP: string;
  ports: number[];
  /** The host's agent missed its heartbeats (msec's addition; absent when up). */
  down?: true;
}

const wireType = { udp: 'udp', tcp: 'tcp', both: 'all' } as const;
const protocolOf = { udp: 'udp', tcp: 'tcp', all: 'both' } as const;

/** MSEC's name-service JSON of a table (checked). */
export function encodeRouteTable(table: RouteTable): string {
  const canonical = canonicalRouteTable(table);
  const groups = new Map<string, IpInfo>();
  for (const i of canonical.instances) {
    const t = wireType[i.protocol];
    const key = `${i.ip}|${t}|${i.weight}|${i.down === true}`;
    const group = groups.get(key);
    if (group) group.ports.push(i.port);
    else groups.set(key, { w: i.weight, t, IP: i.ip, ports: [i.port], ...(i.down ? { down: true as const } : {}) });
  }
  return JSON.stringify({ Policy: canonical.policy, IPInfo: [...groups.values()], ...canonical.tuning, version: canonical.version });
}

/** The canonical table of MSEC's name-service JSON. */
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
  const instances: RouteInstance[] = [];
  for (const entry of o.IPInfo as unknown[]) {
    const e = entry as Partial<IpInfo> | null;
    if (!e || typeof e.IP !== 'string' || typeof e.w !== 'number' || !Array.isArray(e.ports) || !Object.hasOwn(protocolOf, String(e.t))) {
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

type Address = { ip: string; port: number };

/** The order instances are served in: by IP (IPv4 numerically: 10.0.0.9 before 10.0.0.10; then anything else in code-unit order), then port. */
export function compareRouteInstances(a: Address, b: Address): number {
  return compareWith(ipv4Number, a, b);
}

function compareWith(numberOf: (ip: string) => number | null, a: Address, b: Address): number {
  if (a.ip === b.ip) return a.port - b.port;
  const na = numberOf(a.ip);
  const nb = numberOf(b.ip);
  if (na !== null && nb !== null && na !== nb) return na - nb;
  if ((na === null) !== (nb === null)) return na !== null ? -1 : 1;
  return a.ip < b.ip ? -1 : 1;
}

function sortInstances(instances: readonly RouteInstance[]): RouteInstance[] {
  // Tables of 10 000 instances are sorted on every read: parse each IP once.
  const numbers = new Map<string, number | null>();
  const numberOf = (ip: string) => {
    let n = numbers.get(ip);
    if (n === undefined) numbers.set(ip, (n = ipv4Number(ip)));
    return n;
  };
  return [...instances].sort((a, b) => compareWith(numberOf, a, b));
}

function ipv4Number(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}
