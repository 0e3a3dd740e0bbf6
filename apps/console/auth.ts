/**
 * Who is asking. Three ways in: a browser session cookie (HttpOnly, signed, with a CSRF token
 * for every mutating request), a bearer API token (CLI, scripts), or HTTP Basic (CLI with
 * MSEC_USER/MSEC_PASSWORD). Everything under /api but login needs one of them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashPassword, hashToken, verifyPasswordAsync } from '../../domain/users/password-hash.ts';
import type { Grant } from '../../domain/access/roles.ts';
import type { TokenScope } from '../../domain/users/events.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { agentAuthScheme, type AgentRequestVerifier } from './agents/agent-auth.ts';
import { HttpProblem } from './problems.ts';

export interface UserDirectory {
  findUser(name: string): { name: string; passwordHash: string } | undefined;
  findByTokenHash(tokenHash: string): { name: string; tokenId: string; scope: TokenScope } | undefined;
  grantsOf(name: string): Grant[];
  /** Whether the browser session with this nonce was logged out (by any console). */
  isSessionEnded(nonce: string): boolean;
}

export interface Caller {
  /** A user name, or `agent:<ip>` for a host's agent. */
  user: string;
  via: 'session' | 'token' | 'basic' | 'agent';
  /** The host an agent speaks for (via 'agent'). */
  agentIp?: string;
  tokenId?: string;
  /** 'routes' for a route-read token: it may read routing tables and nothing else. */
  tokenScope?: TokenScope;
  /** The user's roles when the request arrived. */
  grants: Grant[];
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

export const sessionCookie = 'msec_session';
const unknownUserHash = hashPassword(randomBytes(16).toString('hex'), randomBytes(16));
const sessionTtlMs = 12 * 3600 * 1000;
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Signs and checks session cookies. A session names its user and a tag of the user's password
 * hash, so changing or resetting the password (or removing and re-creating the user) ends
 * every session of the old credentials. Logout ends one session: its nonce is refused until
 * the session would have expired anyway. The logout is an event (SessionEnded), so every
 * console refuses the session, also after a restart; `end()` refuses it here at once, before
 * the event has reached this console's read model.
 */
export class SessionKeys {
  private readonly ended = new Map<string, number>();

  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('the session key must be at least 32 bytes: delete the damaged session.key in the home folder so a new one is made (everyone logs in again)');
  }

  private mac(text: string): string {
    return createHmac('sha256', this.secret).update(text).digest('base64url');
  }

  private credentialTag(passwordHash: string): string {
    return this.mac(`credentials:${passwordHash}`).slice(0, 22);
  }

  issue(user: { name: string; passwordHash: string }, now = Date.now()): { cookie: string; csrfToken: string } {
    const session = { u: user.name, e: now + sessionTtlMs, n: randomBytes(12).toString('base64url'), p: this.credentialTag(user.passwordHash) };
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return { cookie: `${payload}.${this.mac(payload)}`, csrfToken: this.csrfFor(payload) };
  }

  /** The session's user and CSRF token, or undefined when forged, expired, ended or of old credentials. */
  open(cookie: string, users: UserDirectory, now = Date.now()): { user: string; csrfToken: string; nonce: string; expires: number } | undefined {
    const [payload, mac] = cookie.split('.');
    if (!payload || !mac || !equal(mac, this.mac(payload))) return undefined;
    let s: { u?: unknown; e?: unknown; n?: unknown; p?: unknown };
    try {
      s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof s;
    } catch {
      return undefined;
    }
    if (typeof s.u !== 'string' || typeof s.e !== 'number' || typeof s.n !== 'string' || typeof s.p !== 'string' || s.e < now) return undefined;
    if (this.ended.has(s.n) || users.isSessionEnded(s.n)) return undefined;
    const user = users.findUser(s.u);
    if (!user || !equal(s.p, this.credentialTag(user.passwordHash))) return undefined;
    return { user: s.u, csrfToken: this.csrfFor(payload), nonce: s.n, expires: s.e };
  }

  /** Logout: this session is refused from now on. */
  end(session: { nonce: string; expires: number }, now = Date.now()): void {
    this.ended.set(session.nonce, session.expires);
    for (const [nonce, expires] of this.ended) if (expires < now) this.ended.delete(nonce);
  }

  /** A new API token and its id, derived from the issuing command (user + command id). */
  apiToken(user: string, commandId: string): { token: string; tokenId: string } {
    const mac = createHmac('sha256', this.secret).update(`api-token:${user}:${commandId}`).digest();
    const h = mac.subarray(0, 16).toString('hex');
    return {
      token: `msec_${createHmac('sha256', this.secret).update(`api-token-secret:${user}:${commandId}`).digest('base64url')}`,
      tokenId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`,
    };
  }

  private csrfFor(payload: string): string {
    return this.mac(`csrf:${payload}`);
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined; // a mangled cookie is no session
      }
    }
  }
  return undefined;
}

export function setSessionCookie(reply: FastifyReply, value: string, secure: boolean): void {
  const maxAge = value ? Math.floor(sessionTtlMs / 1000) : 0;
  reply.header('set-cookie', `${sessionCookie}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`);
}

/** Checks a user's password, counting the attempt against guessing from its start; throws 401 or 429. */
export async function checkPassword(users: UserDirectory, throttle: LoginThrottle, name: string, password: string, address: string): Promise<{ name: string; passwordHash: string }> {
  const attempt = throttle.begin(name, address);
  let matches = false;
  const user = users.findUser(name);
  try {
    // An unknown name costs the same scrypt as a known one, so timing does not tell which names exist.
    matches = await verifyPasswordAsync(password, user?.passwordHash ?? unknownUserHash);
  } finally {
    if (user && matches) attempt.succeeded();
    else attempt.failed();
  }
  if (!user || !matches) throw new HttpProblem(401, 'unauthenticated', 'wrong user name or password');
  return user;
}

/** Resolves the caller of a request or throws 401/403/429 with what to do about it. */
export async function authenticate(request: FastifyRequest, users: UserDirectory, keys: SessionKeys, throttle: LoginThrottle, agents?: AgentRequestVerifier): Promise<Caller> {
  const authorization = request.headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    const scheme = space < 0 ? authorization : authorization.slice(0, space);
    const value = space < 0 ? '' : authorization.slice(space + 1);
    if (scheme === agentAuthScheme && agents) {
      const ip = agents.verify(request, value);
      return { user: `agent:${ip}`, via: 'agent', agentIp: ip, grants: [] };
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const found = users.findByTokenHash(hashToken(value.trim()));
      if (!found) throw new HttpProblem(401, 'unauthenticated', 'the API token is unknown or revoked: run `msec login` for a new one');
      return { user: found.name, via: 'token', tokenId: found.tokenId, tokenScope: found.scope, grants: users.grantsOf(found.name) };
    }
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new HttpProblem(401, 'unauthenticated', 'Basic credentials must be user:password');
      const user = await checkPassword(users, throttle, decoded.slice(0, i), decoded.slice(i + 1), request.ip);
      return { user: user.name, via: 'basic', grants: users.grantsOf(user.name) };
    }
    throw new HttpProblem(401, 'unauthenticated', `unsupported Authorization scheme "${scheme}": use Bearer <token> or Basic`);
  }
  const cookie = readCookie(request, sessionCookie);
  const session = cookie ? keys.open(cookie, users) : undefined;
  if (!session) {
    throw new HttpProblem(401, 'unauthenticated', 'log in first (POST /api/login), or send a bearer token');
  }
  if (!safeMethods.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !equal(sent, session.csrfToken)) {
      throw new HttpProblem(403, 'csrf', 'missing or wrong X-CSRF-Token header: reload the page (GET /api/session gives the token)');
    }
  }
  return { user: session.user, via: 'session', grants: users.grantsOf(session.user) };
}
