import type { Logger } from 'pino';
import type { BatchHandler, EventStore, Subscription } from '../../adapters/eventstore/port.ts';
import { projectionKey, type RowFilter, type ViewRow, type ViewStore } from '../../adapters/views/port.ts';
import type { Projection } from '../../projections/projection.ts';
import { catchUpTogether } from './catch-up-together.ts';
import { LiveProjection } from './live-projection.ts';
import { PositionWaiters } from './position-waiters.ts';
import { digestOf, RebuildCopy } from './rebuild.ts';

/** Where a live projection takes its events from: the store's global log or the bus. */
export interface EventFeed {
  subscribeAll(after: number, handler: BatchHandler): Subscription;
  /**
   * Subscribing again after a stored checkpoint brings back every later event, whatever was
   * acknowledged before (the store does; the bus feed does when it catches up from the store).
   * Row projections then store rows behind the feed, several batches per write.
   */
  readonly resumesFromCheckpoint?: boolean;
}

export interface ProjectionRunnerOptions {
  /** The source of truth: replays read it, and it is the default feed. */
  store: EventStore;
  /** Where every projection's output goes, or one store per projection (audit rows in ClickHouse, states in SQLite). */
  views: ViewStore | ((projection: Projection) => ViewStore);
  /** The live feed of each projection (default: the event store; distributed mode: a consumer group on msec.events). */
  feed?: (projection: Projection) => EventFeed;
  /** Called after each batch a projection folded (outside the batch: it never fails one). */
  afterBatch?: (projection: string, state: unknown, checkpoint: number) => void;
  projections: readonly Projection[];
  logger: Logger;
  /** Events per page while replaying (default 500). */
  pageSize?: number;
  /** Events per page while the projections catch up together at start (default 1 000). */
  catchUpPageSize?: number;
  /** See LiveProjectionOptions.persistEvery (default 1000). */
  persistEvery?: number;
  /** Least time between two stored snapshots of a state projection (default 1000 ms; 0: after every batch). */
  snapshotIntervalMs?: number;
  /** How long a replay waits for the live projection to reach the head it rebuilt to (default 60 s). */
  replayCatchUpMs?: number;
}

export interface ProjectionStatus {
  name: string;
  version: number;
  kind: Projection['kind'];
  checkpoint: number;
  /** Present while the last batch or snapshot failed (it is being retried). */
  error?: string;
}

export interface ReplayResult {
  projection: string;
  /** Events read by the rebuild (all types, from position 1 to the switch). */
  events: number;
  /** Whether the rebuilt read model equals the live one at the same position. */
  identical: boolean;
  /** Digests (sha256 of canonical JSON) of the live read model and of the rebuilt one. */
  before: string;
  after: string;
}

/** Which projections a wait is for (default: every one the runner runs). */
export interface WaitScope {
  /** Names of projections this runner runs; 'state' stands for every state projection (held in memory, never the audit's rows). */
  projections?: readonly string[] | 'state';
}

/** Key suffix of the copy a replay builds beside the live projection. */
export const rebuildSuffix = '_rebuild';

/**
 * Runs projections against the event store: each follows the global log from its stored
 * checkpoint and writes its output through the ViewStore (design.md, Projections).
 * Readers (the console) take state projections from memory (`state`) and row projections
 * from the view store (`queryRows`); `waitFor` gives read-your-writes after a command.
 */
export class ProjectionRunner {
  private readonly live = new Map<string, LiveProjection>();
  private readonly waiters = new PositionWaiters();
  /** Listeners of each projection's progress (long polls that wake on a change instead of looking on a timer). */
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly replays = new Map<string, Promise<ReplayResult>>();
  /** The one subscription the state projections following the event store share. */
  private together: Subscription | null = null;
  private readonly pageSize: number;
  private readonly replayCatchUpMs: number;
  private started = false;
  private stopping = false;
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.pageSize = options.pageSize ?? 500;
    this.replayCatchUpMs = options.replayCatchUpMs ?? 60_000;
    for (const projection of options.projections) {
      if (this.live.has(projection.name)) throw new Error(`two projections are named ${projection.name}; give each a unique name`);
      const live: LiveProjection = new LiveProjection(projection, this.viewsOf(projection), options.logger, {
        persistEvery: options.persistEvery ?? 1000,
        snapshotIntervalMs: options.snapshotIntervalMs ?? 1000,
        onProgress: () => {
          this.waiters.check();
          options.afterBatch?.(projection.name, live.state, live.checkpoint);
          const listening = this.listeners.get(projection.name);
          if (listening) for (const listener of [...listening]) listener();
        },
      });
      this.live.set(projection.name, live);
    }
  }

  /**
   * Loads every projection's stored state and checkpoint, then follows the event store. The
   * state projections (in memory) read the store through one subscription, each batch read
   * and handed to all of them once; a row projection (the audit, a round trip to its view
   * store per batch) follows on its own, so it never holds them back. With a feed per
   * projection (consumer groups on the bus) each follows its own.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('the projection runner is already started');
    this.started = true;
    for (const live of this.live.values()) await this.loadRetrying(live);
    const { feed, store, logger } = this.options;
    if (feed) {
      for (const live of this.live.values()) {
        const source = feed(live.projection);
        if (source.resumesFromCheckpoint) live.enableGroupCommit();
        live.follow(source);
      }
      return;
    }
    for (const live of this.live.values()) live.enableGroupCommit();
    // Up to the head with one read of the log for all; then the row projections (the audit)
    // follow on their own, so they never hold the others back, and the state projections share
    // one subscription (each batch read once and handed to all).
    const together: LiveProjection[] = [];
    this.catchingUp = catchUpTogether({
      store, logger, projections: [...this.live.values()], pageSize: this.options.catchUpPageSize ?? 1000,
      stopping: () => this.stopping,
      release: (live) => {
        if (this.stopping) return;
        if (live.projection.kind === 'state') together.push(live);
        else live.follow(store);
      },
    }).catch((err: unknown) => logger.warn({ err }, 'the joint catch-up stopped; each projection catches up on its own'))
      .then(() => {
        if (!this.stopping && together.length) this.together = followTogether(store, together, logger);
      });
  }

  /**
   * Stops following and stores the last snapshots; waiting callers get false. The event and
   * view stores stay open (their owner closes them).
   */
  async stop(): Promise<void> {
    this.stopping = true; // a replay still reading checks this before it starts to wait
    this.waiters.cancelAll(); // also ends a replay already waiting for its live projection
    await Promise.allSettled(this.replays.values());
    await this.catchingUp;
    const together = this.together;
    this.together = null;
    await together?.close();
    await Promise.all([...this.live.values()].map((live) => live.stop()));
    this.started = false;
    this.stopping = false;
  }

  /** The current in-memory state of a state projection. */
  state<S>(name: string): S {
    const live = this.projection(name);
    if (live.projection.kind !== 'state') throw new Error(`projection ${name} writes rows: read it with queryRows`);
    return live.state as S;
  }

  /** Rows of a row projection (e.g. audit), newest first. */
  queryRows(name: string, filter: RowFilter = {}): Promise<ViewRow[]> {
    const live = this.projection(name);
    if (live.projection.kind !== 'rows') throw new Error(`projection ${name} keeps a state: read it with state`);
    return this.viewsOf(live.projection).queryRows(live.key, filter);
  }

  status(): ProjectionStatus[] {
    return [...this.live.values()].map((live) => ({
      name: live.name,
      version: live.projection.version,
      kind: live.projection.kind,
      checkpoint: live.checkpoint,
      ...(live.lastError ? { error: live.lastError } : {}),
    }));
  }

  /**
   * True once the checkpoint of every projection in scope is at least `position`; false after
   * `timeoutMs`. A command's answer waits for the read models its readers use, not for the
   * audit rows stored in the analytic views (a round trip to ClickHouse per batch).
   */
  waitFor(position: number, timeoutMs: number, scope: WaitScope = {}): Promise<boolean> {
    const lives = this.inScope(scope);
    return this.waiters.wait(position, timeoutMs, () => lowestCheckpoint(lives));
  }

  /**
   * Calls `listener` after every batch `projection` folded (and after a replay's switch), until
   * the returned function is called. A long poll re-reads the read model then, instead of on a timer.
   */
  onChange(projection: string, listener: () => void): () => void {
    this.projection(projection);
    let listening = this.listeners.get(projection);
    if (!listening) this.listeners.set(projection, (listening = new Set()));
    listening.add(listener);
    return () => {
      listening.delete(listener);
    };
  }

  /**
   * Rebuilds a projection from position 0 into a fresh copy while the live one keeps serving,
   * compares the two at the same position, then switches readers to the copy and drops the
   * old output. A second call while one runs gets the running one's result.
   */
  replay(name: string): Promise<ReplayResult> {
    const live = this.projection(name);
    // The switch needs the live projection following the log, to meet it at one position.
    if (!this.started) return Promise.reject(new Error(`start the projection runner before replaying ${name}`));
    let running = this.replays.get(name);
    if (!running) {
      running = this.rebuild(live).finally(() => this.replays.delete(name));
      this.replays.set(name, running);
    }
    return running;
  }

  private async rebuild(live: LiveProjection): Promise<ReplayResult> {
    const { projection } = live;
    const { store, logger } = this.options;
    const views = this.viewsOf(projection);
    const copy = new RebuildCopy(projection, views, projectionKey(projection.name, projection.version, rebuildSuffix), this.pageSize);
    await copy.reset();
    const head = await store.headPosition();
    logger.info({ projection: live.key, head }, `replaying ${live.key} from position 0 to ${head} into ${copy.key}`);
    await copy.readUpTo(store, head);
    if (this.stopping) {
      await copy.reset();
      throw new Error(`the projection runner is stopping: the replay of ${live.key} was abandoned, nothing was switched`);
    }

    const caughtUp = await this.waiters.wait(head, this.replayCatchUpMs, () => live.checkpoint);
    if (!caughtUp) {
      await copy.reset();
      throw new Error(`projection ${live.key} did not reach position ${head} within ${this.replayCatchUpMs} ms`
        + `${live.lastError ? ` (it fails with: ${live.lastError})` : ''}; nothing was switched, try the replay again`);
    }

    // Between two live batches: bring the copy to the live position, compare, switch.
    return live.exclusive(async () => {
      const at = live.checkpoint;
      await copy.readUpTo(store, at);
      const before = await digestOf(projection, views, live.key, live.state, this.pageSize);
      const after = await copy.digest();
      await copy.store(at);
      await views.promote(copy.key, live.key);
      live.adopt(copy.builtState, at);
      const result = { projection: projection.name, events: copy.eventsRead, identical: before === after, before, after };
      if (result.identical) logger.info({ ...result, position: at }, `replayed ${live.key}: identical at position ${at}`);
      else logger.warn({ ...result, position: at }, `replayed ${live.key}: the rebuilt read model differs from the live one at position ${at}; readers now use the rebuilt one`);
      return result;
    });
  }

  /** A view store that is down at start-up (ClickHouse still starting) is waited for, not fatal. */
  private async loadRetrying(live: LiveProjection): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await live.load();
      } catch (err) {
        if (this.stopping || (err as { retriable?: unknown }).retriable !== true) throw err;
        live.lastError = (err as Error).message;
        if (attempt === 0) this.options.logger.warn({ err, projection: live.key }, `cannot load ${live.key} yet; retrying until its view store answers`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  private viewsOf(projection: Projection): ViewStore {
    const { views } = this.options;
    return typeof views === 'function' ? views(projection) : views;
  }

  private projection(name: string): LiveProjection {
    const live = this.live.get(name);
    if (!live) throw new UnknownProjection(name, [...this.live.keys()]);
    return live;
  }

  private inScope(scope: WaitScope): LiveProjection[] {
    const { projections } = scope;
    if (projections === undefined) return [...this.live.values()];
    if (projections === 'state') return [...this.live.values()].filter((live) => live.projection.kind === 'state');
    return projections.map((name) => this.projection(name));
  }
}

/**
 * One subscription for several projections, from the lowest checkpoint (each skips what it
 * holds). A batch one of them fails to fold is delivered to all again after the follower's
 * delay; the others skip it then, having it already.
 */
function followTogether(store: EventStore, lives: readonly LiveProjection[], logger: Logger): Subscription {
  const from = Math.min(...lives.map((live) => live.checkpoint));
  logger.info({ projections: lives.map((live) => live.key), checkpoint: from }, `projections ${lives.map((live) => live.key).join(', ')} follow the event store after position ${from}`);
  return store.subscribeAll(from, async (batch) => {
    const folded = await Promise.allSettled(lives.map((live) => live.take(batch)));
    const failed = folded.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  });
}

/** Infinity for no projection: a wait for nothing is over at once. */
function lowestCheckpoint(lives: readonly LiveProjection[]): number {
  let lowest = Infinity;
  for (const live of lives) lowest = Math.min(lowest, live.checkpoint);
  return lowest;
}

export class UnknownProjection extends Error {
  constructor(readonly projection: string, known: string[]) {
    super(`there is no projection named ${projection}; known: ${known.join(', ')}`);
    this.name = 'UnknownProjection';
  }
}
