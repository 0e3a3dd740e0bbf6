/**
 * What a service's logger keeps, from (first wins for the level; rules and fields add up):
 *   1. the console's settings of the service (`msec log level|color|field`, the settings
 *      page), polled with ETag from GET /api/services/<name>/log-settings when MSEC_CONSOLE_URL
 *      and MSEC_TOKEN are set (a route-read token reads them): changes apply within seconds;
 *   2. its config file (the released config version): `[LOG] Level`, `[COLOR] FieldNameN /
 *      FieldValueN` (MSEC's template);
 *   3. the code: serve({ log }) / createLogger({ … });
 *   4. INFO, no rules, no fields.
 * While the console cannot be reached, the last settings stay in use.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { IniDocument } from '../../../domain/services/ini.ts';
import { compileRules, type CompiledRules } from '../../../domain/logs/coloring.ts';
import { checkFieldName, headerNamed, intValue, type ColorRule, type FieldType } from '../../../domain/logs/fields.ts';
import { defaultLogLevel, levelNumber, parseLevel, type LogLevel } from '../../../domain/logs/levels.ts';
import { configLogSettings } from '../../../domain/logs/config.ts';
import { rpcLogger } from '../client/logger.ts';

/** What the code says (serve({ log }), createLogger). */
export interface LogOptions {
  level?: LogLevel | Lowercase<LogLevel>;
  colorRules?: readonly ColorRule[];
  /** Custom fields: name → type. */
  fields?: Readonly<Record<string, FieldType>>;
}

export interface ConsoleLogSettings {
  level: LogLevel | null;
  colorRules: ColorRule[];
  fields: { name: string; type: FieldType }[];
  revision: number;
}

export interface EffectiveLogSettings {
  /** Records at or above (1..5) are kept. */
  level: number;
  levelName: LogLevel;
  rules: CompiledRules;
  /** Rules on custom fields exist: every record must be looked at. */
  fieldRules: boolean;
  fields: ReadonlyMap<string, FieldType>;
}

export interface ConsoleSource {
  url: string;
  token: string;
  /** How long one poll waits for a change (default 30 s). */
  waitSeconds?: number;
}

export class LogSettingsSource {
  private consoleSettings: ConsoleLogSettings | null = null;
  private effective: EffectiveLogSettings;
  private readonly stop = new AbortController();
  private polling = false;
  private firstAnswer: () => void = () => {};
  private readonly answered = new Promise<void>((resolve) => (this.firstAnswer = resolve));
  private readonly logger: Logger;
  private readonly fromConfig: ReturnType<typeof configLogSettings>;

  constructor(private readonly o: { service: string; options?: LogOptions; config?: IniDocument; console?: ConsoleSource | null; logger?: Logger }) {
    this.logger = o.logger ?? rpcLogger();
    this.fromConfig = configLogSettings(o.config ?? new Map());
    for (const problem of this.fromConfig.problems) this.logger.warn({ service: o.service }, `config file: ${problem}`);
    for (const [name] of Object.entries(o.options?.fields ?? {})) checkFieldName(name);
    this.effective = this.resolve();
  }

  current(): EffectiveLogSettings {
    if (!this.polling && this.o.console) this.startPolling();
    return this.effective;
  }

  /** Takes settings as the console serves them (the poll, or a test). */
  fromConsole(settings: ConsoleLogSettings | null): void {
    this.consoleSettings = settings;
    this.effective = this.resolve();
    this.firstAnswer();
  }

  /**
   * Starts reading the console's settings and waits for its first answer, at most `ms`: a
   * service that starts serving right away would log its first requests without the fields
   * the console declares. Without a console source, at once.
   */
  async ready(ms = 1000): Promise<void> {
    if (!this.o.console) return;
    if (!this.polling) this.startPolling();
    let timer: NodeJS.Timeout | undefined;
    // A timer that keeps the process alive: the unref'd poll alone would let it exit here.
    await Promise.race([this.answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.stop.abort();
  }

  private resolve(): EffectiveLogSettings {
    const c = this.consoleSettings;
    const options = this.o.options ?? {};
    const levelName = c?.level ?? this.fromConfig.level ?? parseLevel(options.level ?? '') ?? defaultLogLevel;
    const fields = new Map<string, FieldType>(Object.entries(options.fields ?? {}));
    for (const f of c?.fields ?? []) fields.set(f.name, f.type);
    const rules = [...(options.colorRules ?? []), ...this.fromConfig.rules, ...(c?.colorRules ?? [])].map((r) => {
      const field = headerNamed(r.field) ?? r.field;
      // An int field's rule matches the canonical decimal the record carries.
      return fields.get(field) === 'int' ? { field, value: intValue(r.value) ?? r.value } : { field, value: r.value };
    });
    const compiled = compileRules(rules);
    return { level: levelNumber[levelName], levelName, rules: compiled, fieldRules: compiled.fields.size > 0, fields };
  }

  private startPolling(): void {
    this.polling = true;
    void this.poll(this.o.console!);
  }

  private async poll(source: ConsoleSource): Promise<void> {
    const base = source.url.replace(/\/+$/, '');
    const url = `${base}/api/services/${encodeURIComponent(this.o.service)}/log-settings`;
    const waitSeconds = source.waitSeconds ?? 30;
    let etag: string | undefined;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      let delayMs = 0;
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${source.token}`, accept: 'application/json' };
        if (etag) headers['if-none-match'] = etag;
        const wait = etag ? waitSeconds : 0;
        const res = await get(`${url}${wait ? `?wait=${wait}` : ''}`, headers, (wait + 15) * 1000, this.stop.signal);
        const text = res.text;
        if (res.status === 200) {
          const body = JSON.parse(text) as ConsoleLogSettings;
          etag = res.etag;
          this.fromConsole({ level: body.level ?? null, colorRules: body.colorRules ?? [], fields: body.fields ?? [], revision: body.revision });
        } else if (res.status === 404) {
          // No such service (yet): nothing to apply; ask again later.
          this.firstAnswer();
          delayMs = 30_000;
        } else if (res.status !== 304) {
          throw new Error(`the console answered ${res.status}: ${text.slice(0, 200)}`);
        }
        if (failures > 0) this.logger.warn({ service: this.o.service }, 'log settings readable from the console again');
        failures = 0;
      } catch (err) {
        if (this.stop.signal.aborted) return;
        failures++;
        delayMs = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 10));
        if (failures === 1) {
          this.logger.warn({ service: this.o.service, url: base, err: (err as Error).message },
            'cannot read the log settings from the console; keeping the last ones and retrying with back-off');
        }
      }
      if (delayMs > 0) await sleep(delayMs, this.stop.signal);
    }
  }
}

/**
 * One GET whose socket does not keep the process alive (fetch's would): a program that logs
 * through createLogger() exits when its work is done, long poll or not.
 */
function get(url: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<{ status: number; etag?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? https : http).get(target, { headers, signal, timeout: timeoutMs }, (res) => {
      let text = '';
      let bytes = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        bytes += chunk.length;
        if (bytes > 1024 * 1024) request.destroy(new Error('the console answered more than 1 MiB'));
        else text += chunk;
      });
      res.on('end', () => {
        const etag = res.headers.etag;
        resolve({ status: res.statusCode ?? 0, text, ...(etag ? { etag } : {}) });
      });
      res.on('error', reject);
    });
    request.on('socket', (socket) => socket.unref());
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** MSEC_CONSOLE_URL + MSEC_TOKEN, as the route source reads them; MSEC_LOG_SETTINGS=off skips it. */
export function consoleSourceFromEnvironment(env: NodeJS.ProcessEnv = process.env): ConsoleSource | null {
  if (env.MSEC_LOG_SETTINGS === 'off') return null;
  return env.MSEC_CONSOLE_URL && env.MSEC_TOKEN ? { url: env.MSEC_CONSOLE_URL, token: env.MSEC_TOKEN } : null;
}
