/**
 * Publishes the routing projection's tables to the name service (design.md, Name service).
 *
 * `sync(state)` records the desired tables and writes what changed since the last sync: each
 * service whose routing version moved, and the removal of services that disappeared. The first
 * pass after start reconciles in full, as MSEC rewrote /nameservice at startup: it lists the
 * registry, removes stale services and rewrites any node whose content differs from the state
 * at the same version.
 *
 * Replay-safe: tables only move to higher versions (the registry refuses older ones). When
 * `sync` is told the state's global position, more holds:
 *  - a state older than the last one published (kept in `checkpoints` across restarts) is
 *    skipped, so a replay does not bring back for a moment a service deleted later;
 *  - a service missing from the state is removed only if its stored table is older than that
 *    position, so an early state never deletes a service that exists later.
 * Failures (ZooKeeper down) keep the desired state and retry with a growing delay; `status()`
 * tells how far it got.
 */
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../adapters/bus/port.ts';
import type { RouteRegistry, RouteTable } from '../../adapters/registry/port.ts';
import { RouteTableError, sameRouteTable } from '../../adapters/registry/route-json.ts';
import type { RoutingState } from '../../projections/routing.ts';

export interface RegistryPublisherOptions {
  registry: RouteRegistry;
  logger: Logger;
  /** Delay before retrying a failed pass: from initialMs, doubling up to maxMs (default 200 ms → 10 s). */
  retryDelays?: { initialMs: number; maxMs: number };
  /** Registry calls in flight at once (default 8). */
  concurrency?: number;
  /** Remembers the position of the last state published, across restarts. */
  checkpoints?: CheckpointStore;
  /** Its name in `checkpoints` (default `registry-publisher`). */
  checkpointName?: string;
}

export interface RegistryPublisherStatus {
  /** Services the registry holds at the desired version (or newer). */
  published: number;
  /** Services still to write or remove. */
  pending: number;
  /** Whether the full start-up reconciliation is done. */
  reconciled: boolean;
  /** Failed passes in a row; 0 when the last pass succeeded. */
  failures: number;
  /** What went wrong, while it is being retried. */
  lastError?: string;
  /** Position of the last state fully published, when sync is given positions. */
  position?: number;
}

export class RegistryPublisher {
  private readonly registry: RouteRegistry;
  private readonly logger: Logger;
  private readonly retryDelays: { initialMs: number; maxMs: number };
  private readonly concurrency: number;
  private readonly checkpoints: CheckpointStore | undefined;
  private readonly checkpointName: string;
  private desired = new Map<string, RouteTable>();
  private position: number | undefined;
  /** Position of the last state fully published; undefined until known. */
  private publishedUpTo: number | undefined;
  private checkpointLoaded = false;
  /** service → version the registry was confirmed to hold (written, or newer already there). */
  private readonly confirmed = new Map<string, number>();
  /** Services the registry may hold: removing is only tried for these. */
  private readonly present = new Set<string>();
  private reconciled = false;
  private failures = 0;
  private lastError: string | undefined;
  private dirty = false;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: RegistryPublisherOptions) {
    this.registry = options.registry;
    this.logger = options.logger;
    this.retryDelays = options.retryDelays ?? { initialMs: 200, maxMs: 10_000 };
    this.concurrency = options.concurrency ?? 8;
    this.checkpoints = options.checkpoints;
    this.checkpointName = options.checkpointName ?? 'registry-publisher';
  }

  /**
   * Publishes `state`. `position`: the global position the state reflects (makes replays
   * write nothing, see above). Resolves when a pass that saw this state ended; failures do not
   * reject, they are retried (see status()).
   */
  async sync(state: RoutingState, position?: number): Promise<void> {
    if (this.closed) return;
    if (position !== undefined) {
      await this.loadCheckpoint();
      if (this.publishedUpTo !== undefined && position < this.publishedUpTo) return;
    }
    this.desired = new Map(state.services.map((s) => [s.service, {
      service: s.service, policy: s.kind, version: s.version,
      instances: s.instances.map(({ ip, port, protocol, weight }) => ({ ip, port, protocol, weight })),
    }]));
    this.position = position;
    this.dirty = true;
    return this.kick();
  }

  status(): RegistryPublisherStatus {
    let published = 0;
    for (const [service, table] of this.desired) if ((this.confirmed.get(service) ?? -1) >= table.version) published++;
    const removals = [...this.present].filter((s) => !this.desired.has(s)).length;
    return {
      published,
      pending: this.desired.size - published + removals,
      reconciled: this.reconciled,
      failures: this.failures,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.publishedUpTo === undefined ? {} : { position: this.publishedUpTo }),
    };
  }

  /** Stops retrying and waits for a running pass. The registry is not closed (not ours). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.running;
  }

  private kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      clearTimeout(this.retryTimer);
      const position = this.position;
      const errors = this.reconciled ? await this.publishChanges() : await this.reconcile();
      if (errors.length === 0) await this.succeeded(position);
      else this.failed(errors);
    }
  }

  private async loadCheckpoint(): Promise<void> {
    if (this.checkpointLoaded || !this.checkpoints) return;
    try {
      const saved = await this.checkpoints.load(this.checkpointName);
      this.checkpointLoaded = true;
      if (saved !== null) this.publishedUpTo = Math.max(saved, this.publishedUpTo ?? saved);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not load the registry publisher checkpoint: publishing every state (versions keep it safe)');
    }
  }

  private async publishChanges(): Promise<unknown[]> {
    const changed = [...this.desired.values()].filter((t) => this.confirmed.get(t.service) !== t.version);
    const gone = [...this.present].filter((s) => !this.desired.has(s));
    return [
      ...await this.each(changed, (table) => this.publish(table)),
      ...await this.each(gone, (service) => this.removeStale(service)),
    ];
  }

  /** The full comparison of the first pass: list, remove the stale, rewrite what differs. */
  private async reconcile(): Promise<unknown[]> {
    let listed: string[];
    try {
      listed = await this.registry.list();
    } catch (error) {
      return [error];
    }
    for (const service of listed) this.present.add(service);
    const errors = [
      ...await this.each([...this.desired.values()], (table) => this.rewrite(table)),
      ...await this.each(listed.filter((s) => !this.desired.has(s)), (service) => this.removeStale(service)),
    ];
    if (errors.length === 0) {
      this.reconciled = true;
      this.logger.info({ services: this.desired.size, stale: listed.filter((s) => !this.desired.has(s)).length }, 'name service reconciled with the routing state');
    }
    return errors;
  }

  private async rewrite(table: RouteTable): Promise<void> {
    const stored = await this.registry.read(table.service).catch((error: unknown) => {
      if (!(error instanceof RouteTableError)) throw error;
      return 'unreadable' as const;
    });
    if (stored === 'unreadable') {
      this.logger.warn({ service: table.service }, 'the name-service node is unreadable: rewriting it');
      await this.registry.remove(table.service);
      return this.publish(table);
    }
    if (stored && stored.version === table.version && !sameRouteTable(stored, table)) {
      this.logger.warn({ service: table.service, version: table.version }, 'the name-service node differs from the routing state at the same version: rewriting it');
      await this.registry.remove(table.service);
      this.present.delete(table.service);
    }
    if (stored && stored.version > table.version) {
      this.confirmed.set(table.service, table.version);
      this.present.add(table.service);
      return;
    }
    await this.publish(table);
  }

  private async publish(table: RouteTable): Promise<void> {
    await this.registry.publish(table);
    this.confirmed.set(table.service, table.version);
    this.present.add(table.service);
  }

  private async removeStale(service: string): Promise<void> {
    if (this.position !== undefined) {
      const stored = await this.registry.read(service);
      // Newer than the state: the state will catch up with it (a replay in progress).
      if (stored && stored.version >= this.position) return;
    }
    await this.registry.remove(service);
    this.present.delete(service);
    this.confirmed.delete(service);
  }

  /** Runs `work` over `items`, a few at a time; returns the errors. */
  private async each<T>(items: T[], work: (item: T) => Promise<void>): Promise<unknown[]> {
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < items.length && !this.closed) {
        const item = items[next++]!;
        await work(item).catch((error: unknown) => errors.push(error));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
    return errors;
  }

  private async succeeded(position: number | undefined): Promise<void> {
    if (this.failures > 0) this.logger.info({ failedPasses: this.failures }, 'name service in sync again');
    this.failures = 0;
    this.lastError = undefined;
    if (position === undefined || (this.publishedUpTo ?? -1) >= position) return;
    this.publishedUpTo = position;
    await this.checkpoints?.save(this.checkpointName, position).catch((error: unknown) => {
      this.logger.warn({ err: (error as Error).message }, 'could not save the registry publisher checkpoint: a restart publishes again (versions keep it safe)');
    });
  }

  private failed(errors: unknown[]): void {
    this.failures++;
    this.lastError = `${errors.length} name-service update(s) failed; first: ${(errors[0] as Error)?.message ?? String(errors[0])}`;
    const delay = Math.min(this.retryDelays.maxMs, this.retryDelays.initialMs * 2 ** (this.failures - 1));
    const log = { err: this.lastError, retryInMs: delay, pending: this.status().pending };
    if (this.failures === 1) this.logger.warn(log, 'publishing routes failed: keeping the desired state and retrying');
    else this.logger.debug(log, 'publishing routes failed again');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.dirty = true;
      void this.kick();
    }, delay);
  }
}
