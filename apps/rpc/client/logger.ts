/** The RPC client's and reporter's fallback logger: warnings and errors on stderr. */
import pino, { type Logger } from 'pino';

let fallback: Logger | undefined;

export function rpcLogger(): Logger {
  fallback ??= pino({ name: 'msec-rpc', level: 'warn' }, pino.destination(2));
  return fallback;
}
