import type { Subscription } from './port.ts';

/** The live subscriptions of an adapter, so its close() can stop them all before letting go. */
export class OpenSubscriptions {
  private readonly open = new Set<Subscription>();

  add(inner: Subscription): Subscription {
    const tracked: Subscription = {
      close: async () => {
        this.open.delete(tracked);
        await inner.close();
      },
    };
    this.open.add(tracked);
    return tracked;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((s) => s.close()));
  }
}
