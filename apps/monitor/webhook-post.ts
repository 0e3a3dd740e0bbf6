/**
 * One POST of a webhook delivery: plain node http(s), no redirects followed, one time limit for
 * the whole exchange, the answer's body read and dropped (at most 64 KiB), and every address
 * the host resolves to checked (the console itself, private networks: webhook-targets.ts) at
 * connect time, so DNS cannot point a checked name elsewhere.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostOutcome {
  status: number;
}

export class WebhookRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRefused';
  }
}

export function postJson(urlText: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; refuseAddress: (resolved: string) => string | undefined }): Promise<PostOutcome> {
  const url = new URL(urlText);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // An address written in the URL is never looked up: checked here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  const refused = isIP(literal) ? options.refuseAddress(literal) : undefined;
  if (refused) return Promise.reject(new WebhookRefused(refused));
  return new Promise((resolve, reject) => {
    // One deadline for the whole exchange: a receiver answering a byte at a time cannot hold a slot.
    const deadline = setTimeout(() => req.destroy(new Error(`no whole answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const settle = <T>(f: (v: T) => void) => (v: T) => {
      clearTimeout(deadline);
      f(v);
    };
    resolve = settle(resolve);
    reject = settle(reject);
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'msec-alarms/1', ...headers },
      timeout: options.timeoutMs,
      // Checked after resolution: the URL was checked when it was saved, its name may resolve elsewhere now.
      lookup: (hostname, opts, callback) => {
        dnsLookup(hostname, opts, (err, address: string | LookupAddress[], family?: number) => {
          if (err) return callback(err, address as string, family as number);
          const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
          for (const a of addresses) {
            const why = options.refuseAddress(a);
            if (why) return callback(new WebhookRefused(`${hostname} resolves to ${a}: ${why}`), '', 4);
          }
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          (callback as any)(null, address, family);
        });
      },
    }, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > 64 * 1024) res.destroy();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
