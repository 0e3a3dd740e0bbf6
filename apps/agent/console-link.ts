/**
 * The agent's requests to the console, each signed with the agent's key
 * (apps/console/agents/agent-auth.ts). The console is not trusted for what it answers:
 * commands and key statements are checked by their own signatures, files by their digests.
 */
import type { SigningKey } from '../../adapters/signing/ed25519.ts';
import { agentRequestHeaders } from '../console/agents/agent-auth.ts';

export class ConsoleError extends Error {
  constructor(readonly status: number, detail: string) {
    super(detail);
    this.name = 'ConsoleError';
  }
}

export class ConsoleLink {
  constructor(readonly baseUrl: string, private readonly ip: string, private readonly key: SigningKey | undefined, private readonly clock: () => number = Date.now) {}

  /** A signed request; `body` is sent as application/octet-stream (or JSON when an object). */
  async request(method: string, path: string, options: { body?: Uint8Array | object; signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<Response> {
    const isBytes = options.body instanceof Uint8Array;
    const body = options.body === undefined ? undefined : isBytes ? (options.body as Uint8Array) : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = {
      ...(body ? { 'content-type': isBytes ? 'application/octet-stream' : 'application/json' } : {}),
      ...(this.key ? agentRequestHeaders(this.key, this.ip, method, path, body, this.clock()) : {}),
      ...options.headers,
    };
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body, signal });
    if (!res.ok) {
      const text = await res.text();
      let detail = text.slice(0, 500);
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
      } catch {
        // not a problem document
      }
      throw new ConsoleError(res.status, `${method} ${path}: ${res.status} ${detail}`);
    }
    return res;
  }

  async json<T>(method: string, path: string, options?: Parameters<ConsoleLink['request']>[2]): Promise<T> {
    return (await (await this.request(method, path, options)).json()) as T;
  }
}
