/**
 * The steps of one release operation: each is timed, streamed as a progress line while it runs
 * (`[backed-up] copied …`) and kept for the result (ReleaseOutcome). The first failed step ends
 * the operation: it throws StepFailed, which the operation turns into its failed outcome.
 */
import { encodeReleaseOutcome, type ReleaseStep, type ReleaseStepName } from '../../../schemas/agent.ts';
import type { Outcome } from '../executors.ts';

export class StepFailed extends Error {
  constructor(readonly step: ReleaseStepName, readonly detail: string) {
    super(`${step} failed: ${detail.split('\n')[0]}`);
    this.name = 'StepFailed';
  }
}

/** The agent is going away mid-operation (a stop, or a test standing in for kill -9): nothing more is done, the journal stays. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted: the agent is stopping');
    this.name = 'Interrupted';
  }
}

export type OnOutput = (offset: number, data: Buffer) => void;

export class StepLog {
  readonly steps: ReleaseStep[] = [];
  private readonly output: Buffer[] = [];
  private outputBytes = 0;
  private readonly started = performance.now();
  private lastStart = { at: 0, t0: 0 };

  constructor(
    private readonly clock: () => number,
    private readonly onStep: (step: ReleaseStepName) => void,
    private readonly signal: AbortSignal,
    private readonly onOutput?: OnOutput,
  ) {}

  /** Runs a step; `work` returns its detail. Any error fails the step (and the operation). */
  async run(step: ReleaseStepName, work: () => string | Promise<string>): Promise<void> {
    const detail = await this.attempt(step, work);
    this.record(step, true, detail, this.lastStart);
  }

  /**
   * Runs work that belongs to a step but is not the step yet (preparing a new bin/ while the old
   * one still runs): only a failure is recorded, as the step's.
   */
  async attempt<T>(step: ReleaseStepName, work: () => T | Promise<T>): Promise<T> {
    if (this.signal.aborted) throw new Interrupted();
    this.onStep(step);
    const at = this.clock();
    this.lastStart = { at, t0: performance.now() };
    try {
      return await work();
    } catch (err) {
      if (this.signal.aborted) throw new Interrupted();
      const detail = (err as Error).message;
      this.record(step, false, detail, { at, t0: this.lastStart.t0 });
      throw new StepFailed(step, detail);
    }
  }

  /** A line of progress that is not a step's result. */
  note(line: string): void {
    this.emit(`${line}\n`);
  }

  /** The operation's result: failed with `failure` (a StepFailed, or anything unexpected) when given. */
  outcome(failure?: Error): Outcome {
    return {
      exitCode: failure ? -1 : 0, error: failure?.message ?? '', output: Buffer.concat(this.output), outputBytes: this.outputBytes,
      durationMs: Math.round(performance.now() - this.started), timedOut: false, data: Buffer.from(encodeReleaseOutcome(this.steps)),
    };
  }

  private record(step: ReleaseStepName, ok: boolean, detail: string, start: { at: number; t0: number }): void {
    this.steps.push({ step, ok, detail, atMs: start.at, durationMs: Math.round(performance.now() - start.t0) });
    this.emit(`[${step}] ${ok ? '' : 'FAILED: '}${detail}\n`);
  }

  private emit(text: string): void {
    const data = Buffer.from(text);
    const offset = this.outputBytes;
    this.output.push(data);
    this.outputBytes += data.length;
    this.onOutput?.(offset, data);
  }
}
