/**
 * `msec agent`: the long-running process on each host (design.md, "Agent and signed
 * commands"). It enrols once with a one-time token (its own Ed25519 key, made here, never
 * sent), then takes signed commands — from the console's long-poll, or from msec.commands on
 * Kafka — and runs one only after checking it (verify-command.ts); every refusal is reported.
 * It reports a heartbeat with the host's load (and the services it runs) every interval, the
 * results of commands, serves MSEC's local route lookup over UDP (route-agent.ts), installs
 * and supervises services for release plans (releases/release-host.ts), and starts and
 * supervises the Redis instances of the KV (kv/kv-host.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { topics, type BusSubscription, type MessageBus } from '../../adapters/bus/port.ts';
import { SigningKey, sha256Hex } from '../../adapters/signing/ed25519.ts';
import { followKeyChain, pinnedKey } from '../../adapters/signing/key-chain.ts';
import { decodeKeyChain, decodePayload, encodeProcessList, type CommandAction, type CommandBody, type PayloadOf } from '../../schemas/agent.ts';
import { ConsoleError, ConsoleLink } from './console-link.ts';
import { failed, readPulledFile, runExec, writePushedFile, type Outcome } from './executors.ts';
import { HostLoadMeter } from './host-load.ts';
import { HostMetrics, hostMetricsService } from './host-metrics.ts';
import { KvHost } from './kv/kv-host.ts';
import { encodeReport, reportTopics, type MetricsReport } from '../../schemas/reports.ts';
import { listProcesses } from './processes.ts';
import { RefusalLimiter } from './refusal-limiter.ts';
import { ReleaseHost } from './releases/release-host.ts';
import { releaseCommandProblem } from './releases/release-payload.ts';
import { AgentReporter } from './reporter.ts';
import { RouteAgent } from './route-agent.ts';
import { AgentStateFile, keptDigests, keptIds, type AgentStateData } from './state-file.ts';
import { takenDigest, verifyCommand, type RefusalReason } from './verify-command.ts';

export const agentVersion: string = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

export interface AgentOptions {
  ip: string;
  root: string;
  consoleUrl: string;
  /** The one-time enrolment token (first start only). */
  token?: string;
  /** Kafka: commands from msec.commands, reports to msec.reports.* (else through the console). */
  bus?: MessageBus;
  heartbeatMs?: number;
  /** UDP port of the local route lookup on `ip` (MSEC's 2841); 0 = off. */
  routePort?: number;
  logger: Logger;
  clock?: () => number;
  /** Refusals reported one by one per reason and minute (default 10); the rest are counted into the next. */
  refusalsPerMinute?: number;
  /** How often the host's sys.* metrics are reported (default 60 000 ms, MSEC's minute; 0: never). */
  metricsEveryMs?: number;
}

export class Agent {
  private readonly clock: () => number;
  private stopping = new AbortController();
  private commandSub: BusSubscription | undefined;
  private loops: Promise<void>[] = [];
  private running = 0;
  private readonly refusals: RefusalLimiter;
  private routeAgent: RouteAgent | undefined;
  private lastForcedRefresh = -Infinity;
  private readonly releases: ReleaseHost;
  private readonly kv: KvHost;

  private constructor(
    readonly options: AgentOptions,
    private readonly stateFile: AgentStateFile,
    private state: AgentStateData,
    private readonly key: SigningKey,
    readonly link: ConsoleLink,
    private readonly reporter: AgentReporter,
  ) {
    this.clock = options.clock ?? Date.now;
    this.refusals = new RefusalLimiter(options.refusalsPerMinute ?? 10, keptDigests);
    this.releases = new ReleaseHost({
      root: options.root, ip: options.ip, logger: options.logger, fetchBlob: (sha256, size) => this.fetchBlob(sha256, size),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.kv = new KvHost({ root: options.root, ip: options.ip, logger: options.logger, ...(options.clock ? { clock: options.clock } : {}) });
  }

  /** Enrols when needed, then runs until stop(). */
  static async start(options: AgentOptions): Promise<Agent> {
    const log = options.logger;
    const stateFile = new AgentStateFile(options.root);
    let state = stateFile.load();
    if (state && state.ip !== options.ip) {
      throw new Error(`the agent in ${options.root} is enrolled as ${state.ip}, not ${options.ip}: use its own --ip, or another --root`);
    }
    const { key, created } = SigningKey.inFile(stateFile.keyFile);
    if (!state) {
      if (!options.token) throw new Error(`the agent of ${options.ip} is not enrolled yet: start it once with --token (an admin makes one: msec agent token --ip ${options.ip})`);
      state = await enrol(options, key);
      stateFile.save(state);
      log.info({ ip: options.ip, key: key.keyId, trusts: state.current.keyId }, `enrolled as ${options.ip} with key ${key.keyId}`);
    } else {
      if (created) throw new Error(`the agent key in ${stateFile.keyFile} was lost: enrol again with a new token (move ${stateFile.dir} away first)`);
      if (options.token) log.info('already enrolled: the token is not needed (and was not used)');
    }
    const link = new ConsoleLink(options.consoleUrl, options.ip, key, options.clock);
    const current = state;
    const reporter = new AgentReporter({
      ip: options.ip, key, link, logger: log, reserved: state.reportSequence,
      reserve: (upTo) => {
        current.reportSequence = upTo;
        stateFile.save(current);
      },
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const agent = new Agent(options, stateFile, state, key, link, reporter);
    await agent.run();
    return agent;
  }

  get ip(): string {
    return this.options.ip;
  }

  get trustedKeyId(): string {
    return this.state.current.keyId;
  }

  get keyId(): string {
    return this.key.keyId;
  }

  get routePort(): number | undefined {
    return this.routeAgent?.port;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.commandSub?.close();
    await this.routeAgent?.close();
    await Promise.allSettled(this.loops);
    // Released services stop with the agent and start with the next one; the Redis instances keep
    // serving (a cache must not fail over because its agent restarts) and the next agent adopts them.
    await Promise.all([this.releases.stop(), this.kv.stop()]);
    await this.reporter.flush();
  }

  private async run(): Promise<void> {
    // Before any command: services still running are adopted, and a release cut short by the
    // previous agent's end is repaired and its command reported failed (it is not run again).
    const interrupted = await this.releases.start();
    if (interrupted) await this.reporter.send({ result: interrupted }, true);
    await this.kv.start();
    await this.refreshKeys().catch((err) => this.options.logger.warn({ err }, 'cannot read the key chain from the console yet; trying again at the next heartbeat'));
    if (this.options.bus) {
      // Every agent reads the topic; the key (the target ip) says whose a command is.
      this.commandSub = this.options.bus.subscribe({ topic: topics.commands, group: `msec.agent.${this.ip}`, fromBeginning: true }, async (batch) => {
        for (const m of batch) if (m.key === this.ip) await this.take(m.value);
      });
      await this.commandSub.ready?.();
    } else {
      this.loops.push(this.pollCommands());
    }
    if ((this.options.routePort ?? 0) > 0 || this.options.routePort === undefined) {
      this.routeAgent = await RouteAgent.start({ ip: this.ip, port: this.options.routePort ?? 2841, link: this.link, logger: this.options.logger });
    }
    this.loops.push(this.beat());
  }

  /** The embedded hand-over: long-polls the console for commands after the last sequence seen. */
  private async pollCommands(): Promise<void> {
    let delay = 500;
    while (!this.stopping.signal.aborted) {
      try {
        const page = await this.link.json<{ commands: string[] }>('GET', `/api/agent/commands?after=${this.state.lastSequence}&wait=25`, { signal: this.stopping.signal, timeoutMs: 40_000 });
        for (const signed of page.commands) await this.take(Buffer.from(signed, 'base64'));
        delay = 500;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        if (err instanceof ConsoleError && err.status === 403) this.options.logger.error({ err }, 'the console refuses this agent (revoked?)');
        else this.options.logger.warn({ err: (err as Error).message }, 'cannot reach the console for commands; trying again');
        await sleep(delay, this.stopping.signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Checks a command; runs it only if every check passes, else reports why not. */
  async take(bytes: Uint8Array): Promise<void> {
    let verdict = verifyCommand(bytes, this.state, this.clock());
    if (!verdict.ok && verdict.reason === 'unknown-key' && this.clock() - this.lastForcedRefresh > 5000) {
      // A key rotation this agent has not followed yet: read the chain and check again. At most
      // every 5 s, so forgeries naming made-up keys cannot make it hammer the console.
      this.lastForcedRefresh = this.clock();
      await this.refreshKeys().catch(() => undefined);
      verdict = verifyCommand(bytes, this.state, this.clock());
    }
    if (!verdict.ok) {
      this.options.logger.warn({ reason: verdict.reason, detail: verdict.detail, commandId: verdict.commandId, sequence: verdict.sequence }, `refused a command: ${verdict.reason}`);
      await this.reportRefusal(verdict.reason, verdict.detail, verdict.commandId, verdict.sequence, sha256Hex(bytes));
      return;
    }
    const { body, payload } = verdict;
    // Remembered before it runs: a replay, also after a crash or restart, is refused.
    this.state.lastSequence = body.sequence;
    this.state.seenIds = [...this.state.seenIds, body.commandId].slice(-keptIds);
    this.state.seenDigests = [...(this.state.seenDigests ?? []), takenDigest(bytes)].slice(-keptDigests);
    this.stateFile.save(this.state);
    this.options.logger.info({ commandId: body.commandId, sequence: body.sequence, action: body.action, actor: body.actor }, `running ${body.action} #${body.sequence} for ${body.actor}`);
    this.running++;
    void this.execute(body, payload).finally(() => this.running--);
  }

  private async execute(body: CommandBody, payloadBytes: Uint8Array): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.perform(body.action as CommandAction, decodePayload(body.action as CommandAction, payloadBytes), body);
    } catch (err) {
      outcome = failed((err as Error).message);
    }
    let dataSha256 = '';
    if (outcome.data) {
      try {
        dataSha256 = (await this.link.json<{ sha256: string }>('PUT', '/api/agent/blobs', { body: outcome.data, headers: { 'x-msec-command-id': body.commandId }, timeoutMs: 120_000 })).sha256;
      } catch (err) {
        outcome = failed(`the ${body.action} data could not be handed to the console: ${(err as Error).message}`);
      }
    }
    await this.reporter.send({ result: {
      commandId: body.commandId, sequence: body.sequence, action: body.action, exitCode: outcome.exitCode, error: outcome.error,
      output: outcome.output, outputBytes: Math.max(outcome.outputBytes, outcome.output.length), durationMs: outcome.durationMs,
      timedOut: outcome.timedOut, data: new Uint8Array(0), dataSha256,
    } }, true);
  }

  private async perform<A extends CommandAction>(action: A, payload: PayloadOf[A], body: CommandBody): Promise<Outcome> {
    const root = this.options.root;
    switch (action) {
      case 'exec': {
        const p = payload as PayloadOf['exec'];
        if (!p.argv.length) return failed('no program to run');
        const output = this.outputOf(body.commandId);
        const outcome = await runExec(root, p, output.send);
        await output.sent();
        return outcome;
      }
      case 'push_file': {
        const p = payload as PayloadOf['push_file'];
        if (!body.fileSha256.includes(p.sha256) || !body.paths.includes(p.path)) return failed('the file or path is not the one the signature binds');
        return writePushedFile(root, p, await this.fetchBlob(p.sha256, p.size));
      }
      case 'pull_file': {
        const p = payload as PayloadOf['pull_file'];
        if (!body.paths.includes(p.path)) return failed('the path is not the one the signature binds');
        return readPulledFile(root, p);
      }
      case 'release': {
        const p = payload as PayloadOf['release'];
        const problem = releaseCommandProblem(body, p);
        if (problem) return failed(problem);
        const output = this.outputOf(body.commandId);
        const outcome = await this.releases.run({ commandId: body.commandId, sequence: body.sequence, action: body.action }, p, output.send);
        await output.sent();
        return outcome;
      }
      case 'kv':
        // Refused (touching nothing) unless the signature binds exactly the instance's folder.
        return this.kv.run(body, payload as PayloadOf['kv']);
      case 'ps': {
        const started = performance.now();
        const processes = listProcesses();
        return { exitCode: 0, error: '', output: Buffer.from(`${processes.length} processes\n`), outputBytes: 0, durationMs: Math.round(performance.now() - started), timedOut: false, data: Buffer.from(encodeProcessList(processes)) };
      }
      default:
        return failed(`unknown action ${String(action)}`);
    }
  }

  /** Output of a running command, streamed to the console as it comes (best effort), so it shows live. */
  private outputOf(commandId: string): { send: (offset: number, data: Buffer) => void; sent: () => Promise<unknown> } {
    const pending: Promise<void>[] = [];
    return {
      send: (offset, data) => pending.push(this.reporter.send({ output: { commandId, offset, data } }, false)),
      sent: () => Promise.allSettled(pending),
    };
  }

  /** A file from the console by digest, read up to the size the signature binds, never more (whoever answers cannot fill memory). */
  private async fetchBlob(sha256: string, size: number): Promise<Buffer> {
    const res = await this.link.request('GET', `/api/agent/blobs/${sha256}`, { timeoutMs: 120_000 });
    const content = await readAtMost(res, size);
    if (content === undefined) throw new Error(`the file served is larger than the ${size} bytes signed for`);
    return content;
  }

  /** `signedSha256`: of the refused bytes, so the control plane can tell a forgery naming a real command from that command. */
  private async reportRefusal(reason: RefusalReason, detail: string, commandId: string, sequence: number, signedSha256: string): Promise<void> {
    const decision = this.refusals.take(reason, signedSha256, this.clock());
    if (!decision.report) return;
    await this.reporter.send({ refused: { commandId, sequence, reason, detail: detail.slice(0, 500), similar: decision.similar, signedSha256 } }, true);
  }

  /** Refusals held back by the rate limit, reported as one per reason (at each heartbeat). */
  private async flushHeldRefusals(): Promise<void> {
    for (const { reason, similar } of this.refusals.due(this.clock())) {
      await this.reporter.send({ refused: { commandId: '', sequence: 0, reason, detail: 'refusals of this kind not reported one by one', similar, signedSha256: '' } }, true);
    }
  }

  private async beat(): Promise<void> {
    const meter = new HostLoadMeter(this.options.root);
    meter.read();
    const interval = this.options.heartbeatMs ?? 20_000;
    const metricsEvery = this.options.metricsEveryMs ?? 60_000;
    const hostMetrics = new HostMetrics(this.ip, this.clock);
    let metricsDue = this.clock();
    while (!this.stopping.signal.aborted) {
      const load = meter.read();
      if (metricsEvery > 0 && this.clock() >= metricsDue) {
        metricsDue = this.clock() + metricsEvery;
        await this.sendHostMetrics(hostMetrics.report(load)).catch((err) => this.options.logger.debug({ err }, 'host metrics were not delivered'));
      }
      await this.reporter.send({ heartbeat: { agentVersion, intervalMs: interval, trustedKeyId: this.state.current.keyId, ...load, services: this.releases.installed(), kvInstances: this.kv.instances() } }, false);
      await this.reporter.flush();
      await this.refreshKeys().catch(() => undefined);
      await this.flushHeldRefusals().catch(() => undefined);
      await sleep(interval, this.stopping.signal);
    }
  }

  /** sys.* to msec.reports.metrics: on Kafka directly, else through the console (which checks they are this host's). */
  private async sendHostMetrics(report: MetricsReport): Promise<void> {
    const bytes = encodeReport(reportTopics.metrics, report);
    if (this.options.bus) await this.options.bus.publish(reportTopics.metrics, [{ key: hostMetricsService, value: bytes }]);
    else await this.link.request('POST', '/api/agent/metrics', { body: bytes, timeoutMs: 10_000 });
  }

  /** Follows the console's key chain from the key this agent trusts; a newer key retires the older ones. */
  async refreshKeys(): Promise<void> {
    const { chain } = await this.link.json<{ chain: string }>('GET', '/api/agent/keychain', { timeoutMs: 10_000 });
    const reached = followKeyChain(decodeKeyChain(Buffer.from(chain, 'base64')),
      { keyId: this.state.current.keyId, publicKey: Buffer.from(this.state.current.publicKey, 'base64') }, this.state.retired);
    const newest = reached[reached.length - 1]!;
    if (newest.keyId === this.state.current.keyId) return;
    this.state.retired = [...new Set([...this.state.retired, ...reached.slice(0, -1).map((k) => k.keyId)])];
    this.state.current = { keyId: newest.keyId, publicKey: Buffer.from(newest.publicKey).toString('base64') };
    this.stateFile.save(this.state);
    this.options.logger.info({ key: newest.keyId, retired: this.state.retired }, `now trusting command key ${newest.keyId}; older keys are refused`);
    await this.reporter.send({ key: { keyId: newest.keyId } }, true);
  }
}

/** First start: registers the agent's public key with the token and pins the console's key from it. */
async function enrol(options: AgentOptions, key: SigningKey): Promise<AgentStateData> {
  const m = /^msec-agent\.([0-9a-f]{16})\./.exec(options.token ?? '');
  if (!m) throw new Error('that is not an msec agent token (msec-agent.<key id>.<secret>): ask an admin for one (msec agent token --ip IP)');
  const pinned = m[1]!;
  const link = new ConsoleLink(options.consoleUrl, options.ip, undefined);
  const answer = await link.json<{ chain: string }>('POST', '/api/agents/enrol', {
    body: { ip: options.ip, token: options.token, publicKey: key.publicKeyRaw.toString('base64'), hostname: (await import('node:os')).hostname(), agentVersion },
  });
  const chain = decodeKeyChain(Buffer.from(answer.chain, 'base64'));
  const first = pinnedKey(chain, pinned);
  if (!first) throw new Error(`the console at ${options.consoleUrl} does not hold the command key ${pinned} named in the token: is it the console that made the token?`);
  const reached = followKeyChain(chain, first);
  const current = reached[reached.length - 1]!;
  return {
    ip: options.ip, consoleUrl: options.consoleUrl, enrolledAt: new Date(options.clock?.() ?? Date.now()).toISOString(),
    current: { keyId: current.keyId, publicKey: Buffer.from(current.publicKey).toString('base64') },
    retired: reached.slice(0, -1).map((k) => k.keyId), lastSequence: 0, seenIds: [], reportSequence: 0,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A response's body, or undefined once it passes `max` bytes (it is cancelled there). */
async function readAtMost(res: Response, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) {
      await res.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
