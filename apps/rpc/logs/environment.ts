/**
 * The log shipper a service or program uses when its code gives none: records go to the bus
 * msec runs on, found the way the call reporter finds it (apps/rpc/reports/from-environment.ts)
 *   MSEC_BUS=kafka://…  the Kafka cluster,
 *   MSEC_HOME=DIR       the embedded bus in DIR/msec.db (a service on the `msec up` machine),
 *   neither, or MSEC_LOGS=off / MSEC_REPORTS=off: records stay local (pino only).
 * One shipper per process. The bus adapter is loaded on the first flush.
 * MSEC_LOG_FLUSH_MS changes the flush period (default 1000).
 */
import { join, resolve } from 'node:path';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import { LogShipper } from './log-shipper.ts';

let shared: LogShipper | null | undefined;

export function logShipperFromEnvironment(reporter?: string, env: NodeJS.ProcessEnv = process.env): LogShipper | null {
  if (shared === undefined) shared = makeShipper(reporter, env);
  return shared;
}

/** Ships what the process's shared shipper holds, waiting at most `ms` (a stopping process). */
export async function flushLogs(ms = 2000): Promise<void> {
  if (!shared) return;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((done) => {
    timer = setTimeout(done, ms);
    timer.unref();
  });
  await Promise.race([shared.flush(), limit]);
  clearTimeout(timer);
}

function makeShipper(reporter: string | undefined, env: NodeJS.ProcessEnv): LogShipper | null {
  if (env.MSEC_LOGS === 'off' || env.MSEC_REPORTS === 'off') return null;
  const busUrl = env.MSEC_BUS && env.MSEC_BUS !== 'embedded' ? env.MSEC_BUS : undefined;
  if (!busUrl && !env.MSEC_HOME) return null;
  const flushEveryMs = Number(env.MSEC_LOG_FLUSH_MS) || undefined;
  const bus = new LazyBus(async () => {
    if (busUrl) {
      const { KafkaBus } = await import('../../../adapters/bus/kafka.ts');
      return KafkaBus.fromUrl(busUrl, {}, env);
    }
    const { SqliteMessageBus } = await import('../../../adapters/bus/sqlite.ts');
    return SqliteMessageBus.open(join(resolve(env.MSEC_HOME!), 'msec.db'));
  });
  return new LogShipper({ bus, reporter: env.MSEC_SERVICE ?? reporter, ...(flushEveryMs ? { flushEveryMs } : {}) });
}

/** Publishes through a bus opened on first use; the shipper only publishes. */
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
    throw new Error('the log shipper bus only publishes');
  }

  async lag(topic: string, group: string) {
    return (await this.bus()).lag(topic, group);
  }

  async close(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }
}
