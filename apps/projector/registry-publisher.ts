/**
 * Publishes the routing projection's tables to the name service (design.md, Name service).
 *
 * The projection is the truth: `sync(state)` makes the registry hold exactly the state's
 * tables. A stored table that differs is overwritten whatever version it claims (a version
 * someone else wrote must not pin a route), a service the state lacks is removed. The first
 * pass after start reconciles in full, as MSEC rewrote /nameservice at startup: it checks the
 * nodes' protection (registry.checkAccess repairs ACLs), lists the registry, rewrites every
 * table that differs and removes the stale. Later passes write only what changed since (the
 * routing projection keeps an unchanged table as the same object, so a state is compared with
 * the last one by identity, not rebuilt: one change among 1 000 services costs one write), and
 * restore at once a table the registry reports changed behind the publisher's back
 * (watchStored); a full verification pass also runs every `verifyEveryMs`.
 *
 * One writer: the publisher takes itself to be the only one (one projector per deployment);
 * two would overwrite each other's tables. It alone orders time, by its checkpoint: a state
 * older than the last one published (kept in `checkpoints` across restarts) is skipped, so a
 * replay never brings back an older table or a service deleted later. While the checkpoint
 * cannot be loaded nothing is published. Without a checkpoint store, only the states this
 * process saw order them.
 * Failures (ZooKeeper down, a node msec may not repair) keep the desired state and retry with a
 * growing delay; `status()` tells how far it got and what the operator must do.
 */
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../adapters/bus/port.ts';
import type { Subscription } from '../../adapters/eventstore/port.ts';
import type { RouteRegistry } from '../../adapters/registry/port.ts';
import { RouteTableError, type RouteTable } from '../../schemas/route-table.ts';
import type { RoutingState, ServiceRoutes } from '../../projections/routing.ts';
import { PublishedPosition } from './published-position.ts';
import { eachBounded } from './bounded.ts';
import { StoredChanges } from './stored-changes.ts';

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
  /** A full verification pass (protection and every table) this long after the last (default 5 min; 0: never). */
  verifyEveryMs?: number;
}

export interface RegistryPublisherStatus {
  /** Services the registry holds as the state has them. */
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
  /** Nodes the control plane can neither repair nor delete, each with what to do. */
  problems?: string[];
}

export const defaultVerifyEveryMs = 5 * 60_000;

export class RegistryPublisher {
  private readonly registry: RouteRegistry;
  private readonly logger: Logger;
  private readonly retryDelays: { initialMs: number; maxMs: number };
  private readonly concurrency: number;
  private readonly published: PublishedPosition;
  private readonly verifyEveryMs: number;
  private readonly storedWatch: Subscription;
  /** The tables of the last state synced (the state's own objects, never changed here). */
  private readonly desired = new Map<string, RouteTable>();
  /** That state's list of services: a later state with the same list changes nothing. */
  private syncedServices: readonly ServiceRoutes[] | undefined;
  /** Services whose table (or its absence) the registry may not hold yet: the next pass looks at these. */
  private readonly pending = new Set<string>();
  private synced = false;
  private position: number | undefined;
  /** service → version the registry was confirmed to hold as desired. */
  private readonly confirmed = new Map<string, number>();
  /** Services the registry may hold: removing is only tried for these. */
  private readonly present = new Set<string>();
  /** What the registry reported changed: compared (and restored) by the next pass. */
  private readonly changes: StoredChanges;
  private reconciled = false;
  private problems: string[] = [];
  private failures = 0;
  private lastError: string | undefined;
  private dirty = false;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private verifyTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: RegistryPublisherOptions) {
    this.registry = options.registry;
    this.logger = options.logger;
    this.retryDelays = options.retryDelays ?? { initialMs: 200, maxMs: 10_000 };
    this.concurrency = options.concurrency ?? 8;
    this.published = new PublishedPosition(options.checkpoints, options.checkpointName ?? 'registry-publisher', options.logger);
    this.verifyEveryMs = options.verifyEveryMs ?? defaultVerifyEveryMs;
    this.changes = new StoredChanges(options.logger);
    this.storedWatch = this.registry.watchStored((service) => this.storedChanged(service));
  }

  /**
   * Publishes `state`. `position`: the global position the state reflects (a state older than
   * one published is skipped, see above). Resolves when a pass that saw this state ended;
   * failures do not reject, they are retried (see status()).
   */
  async sync(state: RoutingState, position?: number): Promise<void> {
    if (this.closed) return;
    if (position !== undefined && (await this.published.load()) && this.published.isBehind(position)) return;
    this.take(state.services);
    this.position = position;
    this.synced = true;
    this.dirty = true;
    return this.kick();
  }

  /** Moves `desired` to the state's tables, noting as pending only the services whose table is another object. */
  private take(services: readonly ServiceRoutes[]): void {
    if (services === this.syncedServices) return;
    this.syncedServices = services;
    for (const { table } of services) {
      if (this.desired.get(table.service) === table) continue;
      this.desired.set(table.service, table);
      this.pending.add(table.service);
    }
    if (this.desired.size === services.length) return;
    // Some services are gone: only now is a set of the names worth making.
    const names = new Set(services.map((s) => s.table.service));
    for (const service of this.desired.keys()) {
      if (names.has(service)) continue;
      this.desired.delete(service);
      this.pending.add(service);
    }
  }

  status(): RegistryPublisherStatus {
    let published = 0;
    for (const [service, table] of this.desired) if (this.confirmed.get(service) === table.version) published++;
    const removals = [...this.present].filter((s) => !this.desired.has(s)).length;
    return {
      published,
      pending: this.desired.size - published + removals,
      reconciled: this.reconciled,
      failures: this.failures,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.published.position === undefined ? {} : { position: this.published.position }),
      ...(this.problems.length ? { problems: [...this.problems] } : {}),
    };
  }

  /** Stops retrying and waits for a running pass. The registry is not closed (not ours). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.verifyTimer);
    this.changes.close();
    await this.storedWatch.close();
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
      if (position !== undefined) {
        if (!(await this.published.load())) {
          this.failed([new Error('could not load the registry publisher checkpoint: nothing is published until it loads (a replay could go back in time); check the projector home')]);
          continue;
        }
        if (this.published.isBehind(position)) {
          this.clearFailures(); // nothing to publish for an older state
          continue;
        }
      }
      const verify = this.changes.takeEverything();
      const full = !this.reconciled || verify;
      const errors = full ? await this.reconcile() : await this.publishChanges();
      if (errors.length === 0) {
        await this.succeeded(position);
        if (full) this.scheduleVerification();
      } else {
        if (verify) this.changes.verifyAgain();
        this.failed(errors);
      }
    }
  }

  /** The registry saw a stored table change (null: any may have). */
  private storedChanged(service: string | null): void {
    if (this.closed) return;
    this.changes.report(service, () => {
      if (!this.synced) return;
      this.dirty = true;
      void this.kick();
    });
  }

  private async publishChanges(): Promise<unknown[]> {
    const suspects = this.changes.take();
    const looked = [...this.pending];
    this.pending.clear();
    for (const service of suspects) if (!looked.includes(service)) looked.push(service);
    const changed: RouteTable[] = [];
    const gone: string[] = [];
    const strays: string[] = [];
    for (const service of looked) {
      const table = this.desired.get(service);
      if (table) {
        if (this.confirmed.get(service) !== table.version || suspects.has(service)) changed.push(table);
      } else if (this.present.has(service)) {
        gone.push(service);
      } else if (suspects.has(service)) {
        // A reported change of a service the state lacks: one someone else made, or our own removal.
        strays.push(service);
      }
    }
    const restored: string[] = [];
    const errors = [
      ...await this.each(changed, async (table) => {
        if ((await this.publish(table, suspects.has(table.service))) === 'written' && suspects.has(table.service)) restored.push(table.service);
      }),
      ...await this.each(gone, (service) => this.removeStale(service)),
      ...await this.each(strays, async (service) => {
        if (await this.removeStray(service)) restored.push(service);
      }),
    ];
    if (errors.length) this.changes.putBack(suspects);
    else this.changes.restored(restored);
    for (const service of looked) if (!this.settled(service)) this.pending.add(service);
    return errors;
  }

  /** Whether the registry was confirmed to hold the service as desired (absent included). */
  private settled(service: string): boolean {
    const table = this.desired.get(service);
    return table ? this.confirmed.get(service) === table.version : !this.present.has(service);
  }

  /** The full comparison: protection, then list, rewrite what differs, remove the stale. */
  private async reconcile(): Promise<unknown[]> {
    this.changes.take(); // everything is compared now
    let listed: string[];
    try {
      this.noteProblems((await this.registry.checkAccess()).problems);
      listed = await this.registry.list();
    } catch (error) {
      return [error];
    }
    this.present.clear(); // the listing is what the registry holds now
    for (const service of listed) this.present.add(service);
    const stale = listed.filter((s) => !this.desired.has(s));
    const errors = [
      ...this.problems.map((problem) => new Error(problem)),
      ...await this.each([...this.desired.values()], (table) => this.rewrite(table)),
      ...await this.each(stale, (service) => this.removeStale(service)),
    ];
    for (const service of [...this.pending]) if (this.settled(service)) this.pending.delete(service);
    if (errors.length === 0 && !this.reconciled) {
      this.reconciled = true;
      this.logger.info({ services: this.desired.size, stale: stale.length }, 'name service reconciled with the routing state');
    }
    return errors;
  }

  private noteProblems(problems: string[]): void {
    const fresh = problems.filter((p) => !this.problems.includes(p));
    for (const problem of fresh) this.logger.error({ action: 'a ZooKeeper superuser must delete the node' }, problem);
    this.problems = problems;
  }

  private async rewrite(table: RouteTable): Promise<void> {
    const stored = await this.readStored(table.service);
    if (stored === 'unreadable') {
      this.logger.warn({ service: table.service }, 'the name-service node is unreadable: rewriting it');
      await this.registry.remove(table.service);
      this.present.delete(table.service);
    }
    const result = await this.publish(table);
    if (result === 'written' && stored && stored !== 'unreadable' && stored.version >= table.version) {
      this.logger.warn({ service: table.service, stored: stored.version, routing: table.version },
        'the name-service node differed from the routing state at the same or a higher version (written by someone else?): overwritten');
    }
  }

  private readStored(service: string): Promise<RouteTable | null | 'unreadable'> {
    return this.registry.read(service).catch((error: unknown) => {
      if (!(error instanceof RouteTableError)) throw error;
      return 'unreadable' as const;
    });
  }

  private async publish(table: RouteTable, suspect = false): Promise<'written' | 'unchanged'> {
    const result = await this.registry.publish(table);
    if (suspect && result === 'written') {
      this.logger.warn({ service: table.service, version: table.version }, 'the name-service node was changed behind the publisher\'s back: restored from the routing state');
    }
    this.confirmed.set(table.service, table.version);
    this.present.add(table.service);
    return result;
  }

  private async removeStale(service: string): Promise<void> {
    await this.registry.remove(service);
    this.present.delete(service);
    this.confirmed.delete(service);
  }

  /** Whether there was something to remove. */
  private async removeStray(service: string): Promise<boolean> {
    if ((await this.readStored(service)) === null) return false;
    this.logger.warn({ service }, 'a name-service node the routing state does not have appeared: removing it');
    await this.removeStale(service);
    return true;
  }

  private each<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<unknown[]> {
    return eachBounded(items, this.concurrency, work, () => this.closed);
  }

  private async succeeded(position: number | undefined): Promise<void> {
    this.clearFailures();
    if (position !== undefined) await this.published.advance(position);
  }

  private clearFailures(): void {
    if (this.failures > 0) this.logger.info({ failedPasses: this.failures }, 'name service in sync again');
    this.failures = 0;
    this.lastError = undefined;
  }

  private scheduleVerification(): void {
    clearTimeout(this.verifyTimer);
    if (this.verifyEveryMs <= 0 || this.closed) return;
    this.verifyTimer = setTimeout(() => this.storedChanged(null), this.verifyEveryMs);
    this.verifyTimer.unref();
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
