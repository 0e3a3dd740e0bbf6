/**
 * The reporter a service or client uses when its code gives none: call records go to the
 * bus msec runs on, found the way the control plane finds it —
 *   MSEC_BUS=kafka://…  the Kafka cluster,
 *   MSEC_HOME=DIR       the embedded bus in DIR/msec.db (a service on the `msec up` machine),
 *   neither, or MSEC_REPORTS=off: no reports.
 * One reporter per process, shared by the server runtime and the client SDK. The bus adapter is
 * loaded on the first flush, so a process that never calls pays nothing.
 */
import { join, resolve } from 'node:path';
import type { BusMessage, MessageBus } from '../../../adapters/bus/port.ts';
import type { Subscription } from '../../../adapters/eventstore/port.ts';
import type { CallReporter } from '../contracts.ts';
import { BusCallReporter } from './bus-reporter.ts';
import { nullReporter } from './simple-reporters.ts';

let shared: CallReporter | undefined;

/**
 * Flushes what is buffered, but waits at most `ms`: a stopping service must not hang on a bus
 * that is away (what is left is lost, as MSEC's agents lost reports of a dying process).
 */
export async function flushWithin(reporter: CallReporter, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([reporter.flush().catch(() => undefined), limit]);
  clearTimeout(timer);
}

export function reporterFromEnvironment(env: NodeJS.ProcessEnv = process.env): CallReporter {
  shared ??= makeReporter(env);
  return shared;
}

function makeReporter(env: NodeJS.ProcessEnv): CallReporter {
  if (env.MSEC_REPORTS === 'off') return nullReporter;
  const busUrl = env.MSEC_BUS && env.MSEC_BUS !== 'embedded' ? env.MSEC_BUS : undefined;
  if (!busUrl && !env.MSEC_HOME) return nullReporter;
  const flushEveryMs = Number(env.MSEC_REPORT_FLUSH_MS) || undefined;
  const bus = new LazyBus(async () => {
    if (busUrl) {
      const { KafkaBus } = await import('../../../adapters/bus/kafka.ts');
      return KafkaBus.fromUrl(busUrl, {}, env);
    }
    const { SqliteMessageBus } = await import('../../../adapters/bus/sqlite.ts');
    return SqliteMessageBus.open(join(resolve(env.MSEC_HOME!), 'msec.db'));
  });
  return new BusCallReporter({ bus, ...(flushEveryMs ? { flushEveryMs } : {}) });
}

/** Publishes through a bus opened on first use; the reporter only publishes. */
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
    throw new Error('the reporter bus only publishes');
  }

  async lag(topic: string, group: string) {
    return (await this.bus()).lag(topic, group);
  }

  async close(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }
}
