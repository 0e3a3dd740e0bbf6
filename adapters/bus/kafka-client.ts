/**
 * The kafkajs client for a KafkaBus: connection settings, and kafkajs' own log lines routed
 * into pino at debug level (they narrate every internal retry; the bus logs the outcomes).
 */
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaSettings } from './kafka-settings.ts';

export function kafkaClient(settings: KafkaSettings, logger: Logger): Kafka {
  const kafkajsLog = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.tls,
    ...(settings.sasl ? { sasl: saslOptions(settings.sasl) } : {}),
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
    logLevel: kafkajsLog.isLevelEnabled('debug') ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      // kafkajs puts broker addresses, request names and errors here; no credentials.
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log as unknown as Record<string, unknown>;
      kafkajsLog.debug({ namespace: entry.namespace, ...fields }, String(message));
    },
  });
}

function saslOptions(sasl: NonNullable<KafkaSettings['sasl']>): SASLOptions {
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
}

/** A kafkajs error's own words, e.g. "KafkaJSConnectionError: Connection error: connect ECONNREFUSED". */
export function describeKafkaError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error && cause.message !== err.message ? ` (${cause.message})` : '';
  return `${err.name}: ${err.message}${inner}`;
}
