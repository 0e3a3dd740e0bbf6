/**
 * Routing tables from the console API (apps/console/routes/routing.ts), as a RouteSource (the
 * registry's reader port): one long poll per watched service, `GET /api/routes/<service>?wait=<s>`
 * with `If-None-Match: <version>`, a bearer token. The console answers the RouteTable itself
 * (schemas/route-table.ts), checked here. While the console is unreachable (or answers errors)
 * the last table stays in use and the poll backs off, doubling from `backoff.initialMs` to
 * `backoff.maxMs`.
 */
import type { Logger } from 'pino';
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import type { RouteListener, RouteSource } from '../../../adapters/registry/port.ts';
import { routeListener } from '../../../adapters/registry/route-source.ts';
import { frozenRouteTable, routeTableFromJson, sameRouteTable, type RouteTable } from '../../../schemas/route-table.ts';
import { rpcLogger } from './logger.ts';

export interface ConsoleRoutesOptions {
  /** Console base URL, e.g. http://console:8080 */
  url: string;
  /** API token (`msec login` / `msec user token`), sent as `Authorization: Bearer`. */
  token: string;
  /** How long one poll waits for a change (default 30 s; the console allows up to 120). */
  waitSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** How soon to ask again about a service that has no table (default 5 s). */
  missingRetryMs?: number;
  fetch?: typeof fetch;
  /** Waits between polls (tests record the back-off here). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  logger?: Logger;
}

interface Poller {
  service: string;
  table: RouteTable | null | undefined;
  etag: string | undefined;
  listeners: Set<RouteListener>;
  stop: AbortController;
}

export function consoleRoutes(options: ConsoleRoutesOptions): RouteSource {
  return new ConsoleRouteSource(options);
}

class ConsoleRouteSource implements RouteSource {
  private readonly pollers = new Map<string, Poller>();
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly o: ConsoleRoutesOptions) {
    this.base = o.url.replace(/\/+$/, '');
    this.fetch = o.fetch ?? globalThis.fetch;
    this.logger = o.logger ?? rpcLogger();
  }

  current(service: string): RouteTable | null | undefined {
    return this.pollers.get(service)?.table;
  }

  watch(service: string, onChange: RouteListener): Subscription {
    if (this.closed) throw new Error('the console route source is closed');
    let poller = this.pollers.get(service);
    if (!poller) {
      poller = { service, table: undefined, etag: undefined, listeners: new Set(), stop: new AbortController() };
      this.pollers.set(service, poller);
      void this.poll(poller);
    }
    const p = poller;
    const listener = routeListener(service, onChange, this.logger);
    p.listeners.add(listener);
    if (p.table !== undefined) queueMicrotask(() => p.listeners.has(listener) && listener(p.table!));
    return {
      close: async () => {
        p.listeners.delete(listener);
        if (p.listeners.size === 0 && this.pollers.get(service) === p) {
          this.pollers.delete(service);
          p.stop.abort();
        }
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pollers.values()) p.stop.abort();
    this.pollers.clear();
  }

  private async poll(p: Poller): Promise<void> {
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const waitSeconds = this.o.waitSeconds ?? 30;
    let failures = 0;
    while (!p.stop.signal.aborted) {
      let delayMs = 0;
      try {
        const outcome = await this.ask(p, p.table !== undefined && p.etag ? waitSeconds : 0);
        if (failures > 0) this.logger.warn({ service: p.service, url: this.base }, 'console routes reachable again');
        failures = 0;
        if (outcome === 'missing') delayMs = this.o.missingRetryMs ?? 5000;
      } catch (error) {
        if (p.stop.signal.aborted) return;
        failures++;
        delayMs = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
        if (failures === 1) {
          this.logger.warn({ service: p.service, url: this.base, err: (error as Error).message, retryInMs: delayMs },
            'cannot read routes from the console; keeping the last table and retrying with back-off');
        }
      }
      if (delayMs > 0) await (this.o.sleep ?? sleep)(delayMs, p.stop.signal);
    }
  }

  /** One request: 200 → new table, 304 → unchanged, 404 → no table; anything else throws. */
  private async ask(p: Poller, waitSeconds: number): Promise<'changed' | 'unchanged' | 'missing'> {
    const url = `${this.base}/api/routes/${encodeURIComponent(p.service)}${waitSeconds ? `?wait=${waitSeconds}` : ''}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.token}`, accept: 'application/json' };
    if (p.etag && waitSeconds) headers['if-none-match'] = p.etag;
    const signal = AbortSignal.any([p.stop.signal, AbortSignal.timeout((waitSeconds + 15) * 1000)]);
    const res = await this.fetch(url, { headers, signal });
    const text = await res.text();
    if (res.status === 304) return 'unchanged';
    if (res.status === 404) {
      p.etag = undefined;
      this.deliver(p, null);
      return 'missing';
    }
    if (res.status !== 200) throw new Error(`the console answered ${res.status}: ${text.slice(0, 200)}`);
    const table = routeTableFromJson(JSON.parse(text));
    if (table.service !== p.service) throw new Error(`the console answered the table of ${table.service} for ${p.service}`);
    p.etag = res.headers.get('etag') ?? `"${table.version}"`;
    this.deliver(p, table);
    return 'changed';
  }

  private deliver(p: Poller, table: RouteTable | null): void {
    if (p.table !== undefined && sameRouteTable(p.table, table)) return;
    p.table = table && frozenRouteTable(table);
    for (const l of [...p.listeners]) if (p.listeners.has(l)) l(p.table);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
