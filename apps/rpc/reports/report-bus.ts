/**
 * The bus a service's reports (calls, metrics, logs) go to when its code names none, found the
 * way the control plane finds it:
 *   MSEC_BUS=kafka://…  the Kafka cluster,
 *   MSEC_HOME=DIR       the embedded bus in DIR/msec.db (a service on the `msec up` machine),
 *   neither: none (reports stay in the process).
 * The bus adapter is loaded on the first publish, so a process that never reports pays nothing.
 */
import { join, resolve } from 'node:path';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import type { Subscription } from '../../../adapters/eventstore/port.ts';

export function reportBusFromEnvironment(env: NodeJS.ProcessEnv): MessageBus | undefined {
  const busUrl = env.MSEC_BUS && env.MSEC_BUS !== 'embedded' ? env.MSEC_BUS : undefined;
  if (!busUrl && !env.MSEC_HOME) return undefined;
  return new LazyBus(async () => {
    if (busUrl) {
      const { KafkaBus } = await import('../../../adapters/bus/kafka.ts');
      return KafkaBus.fromUrl(busUrl, {}, env);
    }
    const { SqliteMessageBus } = await import('../../../adapters/bus/sqlite.ts');
    return SqliteMessageBus.open(join(resolve(env.MSEC_HOME!), 'msec.db'));
  });
}

/**
 * Runs `flush` but waits at most `ms`: a stopping process must not hang on a bus that is away
 * (what is left is lost, as MSEC's agents lost the reports of a dying process).
 */
export async function flushWithin(flush: () => Promise<unknown>, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((done) => {
    timer = setTimeout(done, ms);
    timer.unref();
  });
  await Promise.race([flush().catch(() => undefined), limit]);
  clearTimeout(timer);
}

/** Publishes through a bus opened on first use; a reporting bus only publishes. */
class LazyBus implements MessageBus {
  private opened: Promise<MessageBus> | undefined;
  constructor(private readonly open: () => Promise<MessageBus>) {}

  private bus(): Promise<MessageBus> {
    this.opened ??= this.open().catch((err: unknown) => {
      this.opened = undefined; // try again at the next flush
      throw err;
    });
    return this.opened;
  }

  async publish(topic: string, messages: BusMessage[]): Promise<void> {
    await (await this.bus()).publish(topic, messages);
  }

  subscribe(): Subscription {
    throw new Error('a reporting bus only publishes');
  }

  async lag(topic: string, group: string) {
    return (await this.bus()).lag(topic, group);
  }

  async close(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }
}
