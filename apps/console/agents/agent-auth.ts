/**
 * How an agent proves who it is to the console: every request carries
 *   Authorization: MsecAgent ip="<ip>", ts="<epoch ms>", nonce="<16+ hex>", sig="<base64>"
 *   X-Msec-Body-Sha256: <hex sha256 of the body>   (absent = empty body)
 * where sig is the agent's Ed25519 signature (domain "msec-agent-request-v1") of
 *   ip \n METHOD \n URL (path and query, as sent) \n ts \n nonce \n body sha256
 * (the ip is signed too: a request cannot be re-addressed to another host that has the same key,
 * as a cloned machine image would).
 * The console checks the agent is enrolled and not revoked, the time is within a minute of its
 * own, the nonce was not used in that window, and the signature. The body is checked against
 * its digest once read (a forged body with a replayed header is refused).
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { verifySignature, type SigningKey } from '../../../adapters/signing/ed25519.ts';
import { HttpProblem } from '../problems.ts';

export const agentAuthScheme = 'MsecAgent';
export const bodyDigestHeader = 'x-msec-body-sha256';
const skewMs = 60_000;
const emptyDigest = createHash('sha256').update('').digest('hex');

export interface AgentDirectory {
  /** The enrolled agent of `ip` with its raw public key (base64), or undefined. */
  agent(ip: string): { publicKey: string; revoked: boolean } | undefined;
}

/** Builds the headers of a request an agent sends (used by the agent, and by tests as an attacker would). */
export function agentRequestHeaders(key: SigningKey, ip: string, method: string, url: string, body: Uint8Array | undefined, now = Date.now(), nonce = randomNonce()): Record<string, string> {
  const digest = body && body.length ? createHash('sha256').update(body).digest('hex') : emptyDigest;
  const signature = key.sign('agentRequest', Buffer.from(requestText(ip, method, url, String(now), nonce, digest)));
  return {
    authorization: `${agentAuthScheme} ip="${ip}", ts="${now}", nonce="${nonce}", sig="${signature.toString('base64')}"`,
    [bodyDigestHeader]: digest,
  };
}

function requestText(ip: string, method: string, url: string, ts: string, nonce: string, digest: string): string {
  return `${ip}\n${method.toUpperCase()}\n${url}\n${ts}\n${nonce}\n${digest}`;
}

function randomNonce(): string {
  return createHash('sha256').update(`${process.pid}:${performance.now()}:${Math.random()}`).digest('hex').slice(0, 32);
}

/** Checks agent requests; remembers nonces for the time window. */
export class AgentRequestVerifier {
  private readonly nonces = new Map<string, number>();

  constructor(private readonly agents: AgentDirectory, private readonly clock: () => number = Date.now) {}

  /** The agent's ip, or a 401/403 problem saying why not. */
  verify(request: FastifyRequest, credentials: string): string {
    const fields = Object.fromEntries([...credentials.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const { ip, ts, nonce, sig } = fields;
    if (!ip || !ts || !nonce || !sig || !/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{16,64}$/.test(nonce)) {
      throw new HttpProblem(401, 'unauthenticated', 'malformed MsecAgent credentials: ip, ts, nonce and sig are required');
    }
    const agent = this.agents.agent(ip);
    if (!agent) throw new HttpProblem(401, 'unauthenticated', `no agent is enrolled for ${ip}: enrol it with a token (msec agent token --ip ${ip})`);
    if (agent.revoked) throw new HttpProblem(403, 'revoked', `the agent of ${ip} is revoked: an admin must make a new token for it`);
    const now = this.clock();
    if (Math.abs(now - Number(ts)) > skewMs) {
      throw new HttpProblem(401, 'unauthenticated', `the request time is ${Math.round((Number(ts) - now) / 1000)} s off the console's clock: sync the host's clock (NTP)`);
    }
    const digest = headerText(request.headers[bodyDigestHeader]) ?? emptyDigest;
    const signed = requestText(ip, request.method, request.url, ts, nonce, digest);
    if (!verifySignature('agentRequest', Buffer.from(signed), Buffer.from(sig, 'base64'), Buffer.from(agent.publicKey, 'base64'))) {
      throw new HttpProblem(401, 'unauthenticated', `the request is not signed by the agent key enrolled for ${ip}`);
    }
    const seen = `${ip}\n${nonce}`;
    if (this.nonces.has(seen)) throw new HttpProblem(401, 'unauthenticated', 'this request was seen before (replayed nonce)');
    this.nonces.set(seen, now);
    this.forget(now);
    return ip;
  }

  /** Nonces past the skew window cannot come back (their time is refused): dropped from the oldest, stopping at the first fresh one. */
  private forget(now: number): void {
    for (const [k, at] of this.nonces) {
      if (now - at <= 2 * skewMs) break;
      this.nonces.delete(k);
    }
  }
}

/** Refuses a body that is not the one the agent signed. */
export function checkBodyDigest(request: FastifyRequest, body: Buffer | undefined): void {
  const expected = headerText(request.headers[bodyDigestHeader]) ?? emptyDigest;
  const actual = body && body.length ? createHash('sha256').update(body).digest('hex') : emptyDigest;
  if (actual !== expected) throw new HttpProblem(401, 'unauthenticated', 'the body is not the one the agent signed');
}

function headerText(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

