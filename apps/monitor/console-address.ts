/** The addresses a console listening on `host:port` answers on (for refusing webhooks that point back at it). */
import { networkInterfaces } from 'node:os';
import type { ConsoleAddress } from './console-monitor.ts';

export function consoleAddress(host: string, port: number): ConsoleAddress {
  const bare = host.replace(/^\[|\]$/g, '');
  const any = bare === '0.0.0.0' || bare === '::' || bare === '';
  const hosts = any
    ? ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))]
    : [bare];
  return { hosts: [...new Set(hosts)], port };
}
