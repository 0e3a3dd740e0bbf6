import { refuse } from '../decider.ts';

/**
 * Webhook URLs of alarm rules. A webhook is called by the console with the alarm's payload, so
 * its URL must be plain http(s), carry no credentials (events are readable by every viewer) and
 * never lead back to the console itself (an alarm would call the console's own API).
 */

export const maxWebhookUrlLength = 2048;

/** The URL as stored (normalised by the WHATWG parser: `http://0x7f.1:80/` → `http://127.0.0.1/`). */
export function checkWebhookUrl(text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '') return refuse('invalid', 'a webhook URL is required, e.g. https://alerts.example.com/msec');
  if (text.length > maxWebhookUrlLength) return refuse('invalid', `the webhook URL is ${text.length} characters long; at most ${maxWebhookUrlLength}`);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return refuse('invalid', `"${text.slice(0, 200)}" is not a URL; write it in full, e.g. https://alerts.example.com/msec`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('invalid', `a webhook must be http:// or https://, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    return refuse('invalid', 'the webhook URL holds a user name or password: every viewer reads rule events; check the signature instead (X-Msec-Signature)');
  }
  if (url.hash) return refuse('invalid', 'the webhook URL has a #fragment, which is never sent; remove it');
  if (!url.hostname) return refuse('invalid', 'the webhook URL has no host');
  return url.href;
}

/** The port a URL connects to. */
export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Whether an address (as a URL hostname or a resolved IP) is this machine's loopback or "any". */
export function isLocalAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(h) || h === '0.0.0.0') return true;
  if (h === '::1' || h === '::' || h === '0:0:0:0:0:0:0:1' || h === '0:0:0:0:0:0:0:0') return true;
  // IPv4-mapped IPv6 of a loopback or "any" address, in either notation.
  const mapped = /^::ffff:(.+)$/.exec(h);
  if (mapped) {
    const rest = mapped[1]!;
    if (/^\d+\.\d+\.\d+\.\d+$/.test(rest)) return isLocalAddress(rest);
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
    if (hex) {
      const high = parseInt(hex[1]!, 16);
      return high >> 8 === 127 || (high === 0 && parseInt(hex[2]!, 16) === 0);
    }
  }
  return false;
}

/**
 * Whether a webhook URL (or the address its host resolved to) would reach the console: the port
 * it listens on, and one of the addresses it answers on (`hosts`: its listen address, or every
 * address of the machine when it listens on all of them), a loopback name counting as any
 * loopback address the console answers on.
 */
export function webhookReachesConsole(urlText: string, console: { hosts: readonly string[]; port: number }, resolved?: string): boolean {
  const url = new URL(urlText);
  if (effectivePort(url) !== console.port) return false;
  const bare = (h: string) => h.replace(/^\[|\]$/g, '').toLowerCase();
  const hosts = console.hosts.map(bare);
  const answersLocally = hosts.some(isLocalAddress);
  return [url.hostname, ...(resolved ? [resolved] : [])].map(bare)
    .some((host) => hosts.includes(host) || (answersLocally && isLocalAddress(host)));
}
