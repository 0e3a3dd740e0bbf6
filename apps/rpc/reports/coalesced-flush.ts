/**
 * One flush at a time for a buffer that fills while it is flushed: a flush asked for during
 * another shares it, and one more pass follows when more came in the meantime (and `more()`
 * says there is something to send).
 */
export class CoalescedFlush {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly pass: () => Promise<void>, private readonly more: () => boolean) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && this.more());
      } finally {
        this.running = undefined;
      }
    })();
    this.running = running;
    return running;
  }
}
