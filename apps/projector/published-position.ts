/**
 * How the registry publisher keeps time: the position of the last routing state it fully
 * published, loaded from and saved to a checkpoint store across restarts. The registry does not
 * order tables by version (the projection is the truth, adapters/registry/port.ts), so this is
 * what keeps a replay from publishing older states: a state behind it is skipped, and nothing
 * is published while the checkpoint cannot be loaded.
 */
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../adapters/bus/port.ts';

export class PublishedPosition {
  private loaded = false;
  /** Undefined until a state was published (or a saved position loaded). */
  private upTo: number | undefined;

  constructor(private readonly checkpoints: CheckpointStore | undefined, private readonly name: string, private readonly logger: Logger) {}

  get position(): number | undefined {
    return this.upTo;
  }

  /** Whether the saved position is known (or there is no store); a failed load is tried again next time. */
  async load(): Promise<boolean> {
    if (this.loaded || !this.checkpoints) return true;
    try {
      const saved = await this.checkpoints.load(this.name);
      this.loaded = true;
      if (saved !== null) this.upTo = Math.max(saved, this.upTo ?? saved);
      return true;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not load the registry publisher checkpoint: publishing waits for it');
      return false;
    }
  }

  /** A state at `position` is older than one already published. */
  isBehind(position: number): boolean {
    return this.upTo !== undefined && position < this.upTo;
  }

  /** The state at `position` is published: remember it (and save it). */
  async advance(position: number): Promise<void> {
    if ((this.upTo ?? -1) >= position) return;
    this.upTo = position;
    await this.checkpoints?.save(this.name, position).catch((error: unknown) => {
      this.logger.warn({ err: (error as Error).message }, 'could not save the registry publisher checkpoint: after a restart older states may be published again until it catches up');
    });
  }
}
