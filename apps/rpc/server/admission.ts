/**
 * At most `maxConcurrent` handlers run at once; the others wait in arrival order, but never
 * longer than `queueTimeoutMs` (MSEC's msg_timeout): a request that waited that long is
 * refused unrun with OVERLOADED, so its caller can try another instance while its own
 * deadline still allows it. Waiting requests are refused when their time is up, not only
 * when a slot frees, so a server stuck on slow handlers still answers promptly.
 */

export interface Admissible {
  /** Epoch ms when the request arrived. */
  readonly arrivedAt: number;
  /** Runs the request; false when it was refused instead (its deadline passed while it waited). */
  start(): boolean;
  refuse(waitedMs: number): void;
}

export class Admission {
  private running = 0;
  private readonly waiting: Admissible[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly maxConcurrent: number, private readonly queueTimeoutMs: number) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  admit(request: Admissible): void {
    if (this.running < this.maxConcurrent && this.queued === 0) {
      this.running++;
      if (!request.start()) this.running--;
      return;
    }
    this.waiting.push(request);
    if (this.timer === null) this.armTimer();
  }

  /** A running request answered: its slot goes to the oldest waiting one still in time. */
  leave(): void {
    this.running--;
    const now = Date.now();
    while (this.running < this.maxConcurrent && this.queued > 0) {
      const next = this.shift();
      const waited = now - next.arrivedAt;
      if (waited > this.queueTimeoutMs) {
        next.refuse(waited);
      } else {
        // A request refused by start() frees its slot at once, without coming back here
        // (a long run of expired requests must not grow the stack).
        this.running++;
        if (!next.start()) this.running--;
      }
    }
  }

  /** Refuses everything still waiting (the server is shutting down). */
  drain(refuse: (request: Admissible) => void): void {
    while (this.queued > 0) refuse(this.shift());
    this.clearTimer();
  }

  private shift(): Admissible {
    const next = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as unknown as Admissible;
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
      this.clearTimer();
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return next;
  }

  private armTimer(): void {
    const oldest = this.waiting[this.head]!;
    const due = Math.max(0, oldest.arrivedAt + this.queueTimeoutMs + 1 - Date.now());
    this.timer = setTimeout(() => this.expire(), due);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    while (this.queued > 0) {
      const oldest = this.waiting[this.head]!;
      const waited = now - oldest.arrivedAt;
      if (waited <= this.queueTimeoutMs) break;
      this.shift();
      oldest.refuse(waited);
    }
    if (this.queued > 0 && this.timer === null) this.armTimer();
  }
}
