import { uuidv7 } from '../../domain/event-ids.ts';
import { CliError, ProblemError, UnreachableError, oneLine } from './errors.ts';

/**
 * HTTP client of the console API (apps/console/API.md). It adds the auth header, maps
 * problem+json answers to ProblemError and network failures to UnreachableError, and retries
 * a request whose connection was reset; a mutating request keeps one Idempotency-Key across
 * its retries, so the console applies it at most once.
 */

export type Auth =
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'none' };

export interface ClientOptions {
  auth: Auth;
  /** Stops long polls (Ctrl-C in `--watch`/`--follow`). */
  signal?: AbortSignal;
  timeoutMs?: number;
  userAgent?: string;
  /** Delays before the retries after a connection reset. */
  retryDelaysMs?: readonly number[];
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: Record<string, unknown>;
  /** Bytes sent as application/octet-stream (a file to push). */
  rawBody?: Uint8Array;
  headers?: Record<string, string>;
  /** Adds Idempotency-Key and sends `reason`. */
  mutating?: boolean;
  reason?: string;
  timeoutMs?: number;
  /** Statuses answered without throwing (304 of a long poll). */
  accept?: readonly number[];
}

export interface ConsoleResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body as it came (a downloaded file). */
  bytes: Buffer;
}

/** Connection failures after which the request may or may not have reached the console. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);

export function authHeader(auth: Auth): string | undefined {
  switch (auth.kind) {
    case 'bearer':
      return `Bearer ${auth.token}`;
    case 'basic':
      return `Basic ${Buffer.from(`${auth.user}:${auth.password}`, 'utf8').toString('base64')}`;
    case 'none':
      return undefined;
  }
}

/** The error code behind undici's "fetch failed" (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…). */
export function networkCode(err: unknown): string | undefined {
  let e = err as { code?: string; cause?: unknown; errors?: unknown[] } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    if (Array.isArray(e.errors) && e.errors.length > 0) e = e.errors[0] as typeof e;
    else e = e.cause as typeof e;
  }
  return undefined;
}

/** undici wraps the reason ("bad port", "connect ECONNREFUSED …") in `cause`. */
function causeMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return e.cause?.message ?? e.message ?? String(err);
}

export class ConsoleClient {
  readonly baseUrl: string;
  readonly auth: Auth;
  private readonly o: ClientOptions;

  constructor(baseUrl: string, o: ClientOptions) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.auth = o.auth;
    this.o = o;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.href;
  }

  /** GET a JSON answer. */
  async get<T>(path: string, o: RequestOptions = {}): Promise<T> {
    return parseJson<T>(await this.request('GET', path, o));
  }

  /** A mutating request (POST/PUT/DELETE) answering JSON. */
  async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, o: RequestOptions = {}): Promise<T> {
    return parseJson<T>(await this.request(method, path, { ...o, mutating: true }));
  }

  async request(method: string, path: string, o: RequestOptions = {}): Promise<ConsoleResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json;q=0.9, */*;q=0.1',
      'user-agent': this.o.userAgent ?? 'msec-cli',
      ...o.headers,
    };
    const auth = authHeader(this.auth);
    if (auth) headers.authorization = auth;
    let body: string | Uint8Array | undefined;
    // The reason travels in the body: a header cannot carry every character a reason may hold.
    const payload = o.reason !== undefined ? { ...o.body, reason: o.reason } : o.body;
    if (o.rawBody !== undefined) {
      body = o.rawBody;
      headers['content-type'] = 'application/octet-stream';
    } else if (payload !== undefined) {
      body = JSON.stringify(payload);
      headers['content-type'] = 'application/json';
    }
    if (o.mutating) headers['idempotency-key'] = uuidv7();

    const url = this.url(path, o.query);
    const delays = this.o.retryDelaysMs ?? [100, 400];
    for (let attempt = 0; ; attempt++) {
      const timeoutMs = o.timeoutMs ?? this.o.timeoutMs ?? 30_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = this.o.signal ? AbortSignal.any([timeout, this.o.signal]) : timeout;
      let res: Response;
      let bytes: Buffer;
      try {
        res = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
        bytes = Buffer.from(await res.arrayBuffer());
      } catch (err) {
        if (this.o.signal?.aborted) throw err; // the user stopped us: not a failure
        if (timeout.aborted) throw new UnreachableError(this.baseUrl, `no answer within ${Math.round(timeoutMs / 1000)} s`);
        const code = networkCode(err);
        if (code && RESET_CODES.has(code) && attempt < delays.length) {
          await sleep(delays[attempt]!);
          continue; // same headers, so the same Idempotency-Key
        }
        throw new UnreachableError(this.baseUrl, code ?? causeMessage(err));
      }
      const text = bytes.toString('utf8');
      if ((res.status >= 200 && res.status < 300) || o.accept?.includes(res.status)) {
        return { status: res.status, headers: res.headers, text, bytes };
      }
      throw problemFrom(res, text);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function parseJson<T>(r: ConsoleResponse): T {
  if (r.text === '' || r.status === 204 || r.status === 304) return {} as T;
  try {
    return JSON.parse(r.text) as T;
  } catch {
    throw new CliError(`the console answered ${r.status} with something that is not JSON`);
  }
}

/** problem+json → its detail (or title); any other error body → status and first words. */
export function problemFrom(res: { status: number; statusText?: string; headers: Headers }, text: string): ProblemError {
  const type = res.headers.get('content-type') ?? '';
  if (/json/i.test(type)) {
    try {
      const p = JSON.parse(text) as { type?: unknown; title?: unknown; detail?: unknown; message?: unknown };
      const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
      const message = str(p.detail) ?? str(p.title) ?? str(p.message);
      if (message) return new ProblemError(res.status, message, str(p.type), str(p.title));
    } catch {
      // fall through to the generic message
    }
  }
  if (res.status >= 300 && res.status < 400) {
    return new ProblemError(res.status, `the console answered ${res.status} (redirect to ${res.headers.get('location') ?? '?'}): check --console / MSEC_CONSOLE`);
  }
  const snippet = oneLine(text).slice(0, 120);
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  return new ProblemError(res.status, snippet && !/^</.test(snippet) ? `the console answered ${status}: ${snippet}` : `the console answered ${status}`);
}

/** Path segment: names, tags and `ip:port` addresses go through encodeURIComponent. */
export const seg = (s: string): string => encodeURIComponent(s);
