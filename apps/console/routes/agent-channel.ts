/**
 * The agents' side of the console: enrolment (with a one-time token), the key chain, commands
 * waiting for the agent (long-poll, the embedded deployment's hand-over), reports (published on
 * the bus for the projector; output chunks kept here for `msec exec`), and files by digest.
 * Every route but enrolment and the key chain needs an agent's signed request
 * (agents/agent-auth.ts), and an agent only ever gets what concerns its own host. Nothing the
 * agent receives here is trusted by it either: it checks every command's signature.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostAgentDecider } from '../../../domain/agents/index.ts';
import { parseIpv4 } from '../../../domain/services/names.ts';
import { streams } from '../../../domain/streams.ts';
import { uuidv7 } from '../../../domain/event-ids.ts';
import { isSmallOrderKey, keyIdOf, sha256Hex } from '../../../adapters/signing/ed25519.ts';
import { keyChainOf } from '../../../adapters/signing/key-chain.ts';
import { BlobStore } from '../../../adapters/blobs/filesystem.ts';
import { decodeCommandBody, decodeSignedCommand } from '../../../schemas/agent.ts';
import { decodeReport, reportTopics } from '../../../schemas/reports.ts';
import { hostMetricsService } from '../../agent/host-metrics.ts';
import { clockSkewMs } from '../../agent/verify-command.ts';
import { agentsProjection, findAgent, type AgentsState } from '../../../projections/agents.ts';
import { topicOfKind, verifyAgentReport } from '../../projector/agent-reports.ts';
import { ReportRefused } from '../../projector/report-ingest.ts';
import type { ConsoleContext } from '../context.ts';
import { waitUntil, abortOnClose } from '../long-poll.ts';
import { HttpProblem } from '../problems.ts';
import { checkBodyDigest } from '../agents/agent-auth.ts';
import type { ConsoleAgentPlane } from '../agents/plane.ts';
import { maxPushBytes } from './agents.ts';

export const agentPublicPaths = ['/api/agents/enrol', '/api/agent/keychain'];
const tokenPattern = /^msec-agent\.([0-9a-f]{16})\.[A-Za-z0-9_-]{43}$/;
const maxReportBytes = 1024 * 1024;
const self = { permission: 'agent', serviceOf: () => undefined } as const;
const maxReleaseOutcomeBytes = 256 * 1024;

export function agentChannelRoutes(ctx: ConsoleContext, plane: ConsoleAgentPlane) {
  /** `ip\ncommandId` of the uploads taken (one per command). */
  const uploaded = new Set<string>();
  const agentsState = (): AgentsState => ctx.reads.agents();
  const callerIp = (request: FastifyRequest) => request.caller!.agentIp!;
  /** The calling agent's host and the bytes it sent, whose digest its signature covers. */
  const agentUpload = (request: FastifyRequest) => {
    const body = bodyOf(request);
    checkBodyDigest(request, body);
    return { ip: callerIp(request), body };
  };
  const publish = async (what: string, topic: string, key: string, value: Buffer) => {
    if (!ctx.bus) throw new HttpProblem(503, 'unavailable', `this console has no bus to hand the ${what} to`);
    await ctx.bus.publish(topic, [{ key, value }]);
  };

  return async (app: FastifyInstance) => {
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxPushBytes }, (_request, body, done) => done(null, body));

    app.post<{ Body: { ip: string; token: string; publicKey: string; hostname?: string; agentVersion?: string } }>('/api/agents/enrol', {
      schema: {
        tags: ['agent channel'], summary: 'An agent registers its public key with a one-time token',
        body: {
          type: 'object', required: ['ip', 'token', 'publicKey'], additionalProperties: false,
          properties: {
            ip: { type: 'string', maxLength: 15 }, token: { type: 'string', maxLength: 200 }, publicKey: { type: 'string', maxLength: 64 },
            hostname: { type: 'string', maxLength: 255 }, agentVersion: { type: 'string', maxLength: 64 },
          },
        },
      },
    }, async (request) => {
      const { token, publicKey } = request.body;
      const ip = parseIpv4(request.body.ip);
      if (isSmallOrderKey(Buffer.from(publicKey, 'base64'))) {
        throw new HttpProblem(400, 'invalid', 'that is not a usable Ed25519 public key (a point of small order, under which anyone can sign): let the agent make its own key');
      }
      // Guessing is hopeless (256 random bits), but a flood still costs: throttled like a login.
      const attempt = ctx.throttle.begin(`agent:${ip}`, request.ip);
      if (!tokenPattern.test(token)) {
        attempt.failed();
        throw new HttpProblem(403, 'forbidden', `the enrolment token for ${ip} is unknown, used or expired: make a new one (msec agent token --ip ${ip})`);
      }
      const now = ctx.clock();
      try {
        await ctx.commands.execute(streams.host(ip), hostAgentDecider, {
          type: 'EnrolAgent', ip, tokenHash: sha256Hex(token), publicKey, agentKeyId: keyIdOf(Buffer.from(publicKey, 'base64')),
          hostname: request.body.hostname ?? '', agentVersion: request.body.agentVersion ?? '', nowMs: now,
        }, { commandId: uuidv7(now), actor: `agent:${ip}`, reason: 'enrolment with a one-time token', at: now });
      } catch (err) {
        attempt.failed();
        throw err;
      }
      attempt.succeeded();
      // The answer reads the key chain from the agents projection.
      await ctx.projections.waitFor(await ctx.store.headPosition(), ctx.readYourWritesMs, { projections: [agentsProjection.name] });
      return { ip, chain: Buffer.from(keyChainOf(agentsState().keys)).toString('base64') };
    });

    app.get('/api/agent/keychain', {
      schema: { tags: ['agent channel'], summary: 'The chain of command keys (each statement signed by the key before it)' },
    }, async (_request, reply) => reply.header('cache-control', 'no-cache').send({ chain: Buffer.from(keyChainOf(agentsState().keys)).toString('base64') }));

    app.get<{ Querystring: { after?: number; wait?: number } }>('/api/agent/commands', {
      config: self,
      schema: {
        tags: ['agent channel'], summary: 'Signed commands for the calling agent after a sequence number; ?wait=<s> waits for one',
        querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'integer', minimum: 0, default: 0 }, wait: { type: 'integer', minimum: 0, maximum: 60, default: 0 } } },
      },
    }, async (request) => {
      const ip = callerIp(request);
      const after = request.query.after ?? 0;
      const waiting = () => {
        const agent = findAgent(agentsState(), ip);
        const pending = agent?.pending.filter((p) => p.sequence > after && p.expiresAtMs > ctx.clock()) ?? [];
        return pending.length ? pending : undefined;
      };
      const wakeups = (wake: () => void) => ctx.projections.onChange(agentsProjection.name, wake);
      const pending = (request.query.wait ? await waitUntil(waiting, request.query.wait * 1000, abortOnClose(request), wakeups) : waiting()) ?? [];
      return { commands: pending.map((p) => p.signed), lastSequence: findAgent(agentsState(), ip)?.lastSequence ?? 0 };
    });

    app.post<{ Body: Buffer }>('/api/agent/reports', {
      config: self,
      bodyLimit: maxReportBytes,
      schema: { tags: ['agent channel'], summary: 'A report signed by the agent (heartbeat, result, refusal, output), body: SignedReport bytes' },
    }, async (request) => {
      const { ip, body } = agentUpload(request);
      let report;
      try {
        report = verifyAgentReport(body, agentsState(), ctx.clock());
      } catch (err) {
        if (err instanceof ReportRefused) throw new HttpProblem(400, 'refused', `report refused: ${err.reason} (${err.message})`);
        throw err;
      }
      if (report.ip !== ip) throw new HttpProblem(403, 'forbidden', `an agent reports for its own host only (${ip}, not ${report.ip})`);
      if ('output' in report.body && report.body.kind === 'output') {
        const { commandId, offset, data } = report.body.output;
        // Kept only for an exec of this host still running: ids of an agent's choosing hold no memory.
        if (findAgent(agentsState(), ip)?.pending.some((p) => p.commandId === commandId && (p.action === 'exec' || p.action === 'release'))) plane.outputs.add(ip, commandId, offset, data);
        return { ok: true };
      }
      await publish('report', topicOfKind(report.body.kind), ip, body);
      if ('result' in report.body && report.body.kind === 'result') plane.outputs.wake(ip, report.body.result.commandId);
      return { ok: true };
    });

    // The host's sys.* metrics (issue 11): only this host's, only sys.* under RESERVED.monitor.
    app.post<{ Body: Buffer }>('/api/agent/metrics', {
      config: self,
      bodyLimit: 256 * 1024,
      schema: { tags: ['agent channel'], summary: 'The host\'s sys.* metrics (MetricsReport bytes), handed to msec.reports.metrics' },
    }, async (request) => {
      const { ip, body } = agentUpload(request);
      let report;
      try {
        report = decodeReport(reportTopics.metrics, body);
      } catch (err) {
        throw new HttpProblem(400, 'invalid', `not a MetricsReport: ${(err as Error).message}`);
      }
      const foreign = report.metrics.find((m) => m.service !== hostMetricsService || !m.attr.startsWith('sys.') || m.ip !== ip);
      if (foreign) throw new HttpProblem(403, 'forbidden', `an agent reports only sys.* of ${hostMetricsService} for its own host (${ip}), not ${foreign.attr.slice(0, 60)} of ${foreign.service.slice(0, 60)} for ${String(foreign.ip).slice(0, 40)}`);
      await publish('metrics', reportTopics.metrics, hostMetricsService, body);
      return { ok: true, metrics: report.metrics.length };
    });

    app.put<{ Body: Buffer }>('/api/agent/blobs', {
      config: self,
      bodyLimit: maxPushBytes,
      schema: { tags: ['agent channel'], summary: 'What a pull_file, ps or release command brings back (header X-Msec-Command-Id names the command)' },
    }, async (request) => {
      const { ip, body } = agentUpload(request);
      const commandId = request.headers['x-msec-command-id'];
      const open = findAgent(agentsState(), ip)?.pending.find((p) => p.commandId === commandId && (p.action === 'pull_file' || p.action === 'ps' || p.action === 'release'));
      if (!open || open.expiresAtMs + clockSkewMs < ctx.clock()) throw new HttpProblem(403, 'forbidden', 'uploads are taken only for an open pull_file, ps or release command of this agent, before it expires');
      // A release brings back its steps only: a few KiB, never a file.
      if (open.action === 'release' && body.length > maxReleaseOutcomeBytes) throw new HttpProblem(413, 'too-large', `a release's steps take at most ${maxReleaseOutcomeBytes} bytes`);
      // One upload per command: an agent cannot fill the console's disk under one open command.
      const key = `${ip}\n${open.commandId}`;
      if (uploaded.has(key)) throw new HttpProblem(409, 'conflict', `command ${open.commandId} has its upload already`);
      if (uploaded.size >= 100_000) uploaded.clear();
      uploaded.add(key);
      try {
        return await plane.blobs.put(body);
      } catch (err) {
        uploaded.delete(key);
        throw err;
      }
    });

    app.get<{ Params: { sha256: string } }>('/api/agent/blobs/:sha256', {
      config: self,
      schema: { tags: ['agent channel'], params: { type: 'object', required: ['sha256'], properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } },
    }, async (request, reply) => {
      const ip = callerIp(request);
      const { sha256 } = request.params;
      const agent = findAgent(agentsState(), ip);
      const wanted = agent?.pending.some((p) => (p.action === 'push_file' || p.action === 'release') && fileDigests(p.signed).includes(sha256));
      if (!wanted) throw new HttpProblem(403, 'forbidden', 'an agent fetches only the files of its own open push_file or release commands');
      const bytes = BlobStore.isDigest(sha256) ? plane.blobs.get(sha256) : undefined;
      if (!bytes) throw new HttpProblem(404, 'not_found', `the console does not hold ${sha256}`);
      return reply.type('application/octet-stream').send(bytes);
    });
  };
}

function bodyOf(request: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(request.body)) throw new HttpProblem(415, 'media-type', 'send the bytes as application/octet-stream');
  return request.body;
}

function fileDigests(signed: string): string[] {
  try {
    return decodeCommandBody(decodeSignedCommand(Buffer.from(signed, 'base64')).body).fileSha256;
  } catch {
    return [];
  }
}
