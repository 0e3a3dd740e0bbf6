import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * Command-line grammar: `msec <group> [<verb>] ARG… [--option value]…`. Each command declares
 * its positionals and options; parsing is node:util parseArgs in strict mode, so an unknown
 * flag, a missing value or a missing/extra argument is a UsageError (exit 2).
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in usage lines, e.g. `URL` for `--console URL`. */
  value?: string;
  help: string;
  /** May be given several times (`--field a=1 --field b=2`): the values come as an array. */
  multiple?: boolean;
}
export type OptionSpecs = Record<string, OptionSpec>;

export interface PositionalSpec {
  name: string;
  optional?: boolean;
  /** Takes every remaining word (after `--`, options of the remote command stay its own): `msec exec IP -- CMD ARGS…`. */
  rest?: boolean;
}

/**
 * `local` runs without a console; `query` reads from one (adds --json); `mutation` changes
 * something (adds --reason and --json, and sends an Idempotency-Key).
 */
export type CommandKind = 'local' | 'query' | 'mutation';

export interface CommandSpec {
  path: readonly string[];
  summary: string;
  kind: CommandKind;
  positionals: readonly PositionalSpec[];
  options?: OptionSpecs;
  /** Lines of help text after the option list (defaults, formats). */
  notes?: readonly string[];
  /** For `user add|passwd`: --password is the new password, not a credential. */
  passwordIsPayload?: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export type CommandLine =
  | { kind: 'help'; topic: string[] }
  | { kind: 'version' }
  | { kind: 'run'; spec: CommandSpec; args: Record<string, string | undefined>; opts: OptionValues; rest?: string[] };

export const helpOption: OptionSpecs = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Where the console is and who we are; every command that talks to a console takes them. */
export const consoleOptions: OptionSpecs = {
  console: { type: 'string', value: 'URL', help: 'console base URL (env MSEC_CONSOLE, default http://127.0.0.1:8080)' },
  token: { type: 'string', value: 'TOKEN', help: 'API token, sent as Bearer (env MSEC_TOKEN)' },
  user: { type: 'string', value: 'USER', help: 'user name for Basic auth (env MSEC_USER)' },
  password: { type: 'string', value: 'PASSWORD', help: 'password for Basic auth (env MSEC_PASSWORD)' },
};

export const jsonOption: OptionSpecs = {
  json: { type: 'boolean', help: "print the console's JSON answer" },
};

export const reasonOption: OptionSpecs = {
  reason: { type: 'string', value: 'TEXT', help: 'why: recorded with the events (audit)' },
};

/** The options a command accepts, in help order: its own first, then the shared ones. */
export function optionsOf(spec: CommandSpec): OptionSpecs {
  const shared: OptionSpecs = {
    ...(spec.kind === 'mutation' ? reasonOption : {}),
    ...(spec.kind === 'local' ? {} : jsonOption),
    ...(spec.kind === 'local' ? {} : consoleOptions),
    ...helpOption,
  };
  const all: OptionSpecs = { ...spec.options };
  for (const [name, o] of Object.entries(shared)) if (!(name in all)) all[name] = o;
  return all;
}

export function usageLine(spec: CommandSpec): string {
  const parts = ['msec', ...spec.path];
  for (const p of spec.positionals) parts.push(p.rest ? `-- ${p.name}…` : p.optional ? `[${p.name}]` : p.name);
  const own = { ...spec.options };
  if (spec.kind === 'mutation') Object.assign(own, reasonOption);
  if (spec.kind !== 'local') Object.assign(own, jsonOption);
  for (const [name, o] of Object.entries(own)) {
    parts.push(o.type === 'string' ? `[--${name} ${o.value ?? 'VALUE'}]${o.multiple ? '...' : ''}` : `[--${name}]`);
  }
  return parts.join(' ');
}

/** Usage of a group (`msec service`): one line per verb. */
export function groupUsage(specs: readonly CommandSpec[], group: string): string {
  return specs.filter((s) => s.path[0] === group).map(usageLine).join('\n       ');
}

const topUsage = 'msec <verb> [arguments] [options]   (`msec help` lists the verbs)';

type ParseArgsConfig = NonNullable<Parameters<typeof parseArgs>[0]>;
type ParseOptions = NonNullable<ParseArgsConfig['options']>;

function toParseOptions(specs: OptionSpecs): ParseOptions {
  const out: ParseOptions = {};
  for (const [name, o] of Object.entries(specs)) {
    out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  return out;
}

/** Every option of every command, so the command words can be found wherever the options are. */
function unionOptions(specs: readonly CommandSpec[]): ParseOptions {
  const all: OptionSpecs = { version: { type: 'boolean', help: '' } };
  for (const s of specs) Object.assign(all, optionsOf(s));
  return toParseOptions(all);
}

/** Turns parseArgs' messages ("Unknown option '--x'. To specify…") into one short line. */
function usageErrorFrom(err: unknown, usage: string): UsageError {
  const e = err as { code?: string; message?: string };
  const name = /'(-{1,2}[^' ]+)/.exec(e.message ?? '')?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${name}`, usage);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take/.test(e.message ?? '')
        ? new UsageError(`option ${name} takes no value`, usage)
        : new UsageError(`option ${name} needs a value`, usage);
    default:
      return new UsageError(e.message ?? String(err), usage);
  }
}

/**
 * Parses a full command line (without `node` and the script) against the known commands.
 * Options may come before, between or after the command words.
 */
export function parseCommandLine(argv: readonly string[], specs: readonly CommandSpec[]): CommandLine {
  let loose;
  try {
    loose = parseArgs({ args: [...argv], options: unionOptions(specs), strict: false, allowPositionals: true });
  } catch (err) {
    throw usageErrorFrom(err, topUsage);
  }
  const words = loose.positionals;
  const wantsHelp = loose.values.help === true;

  if (words[0] === 'help') return { kind: 'help', topic: words.slice(1) };
  if (words.length === 0) {
    if (wantsHelp) return { kind: 'help', topic: [] };
    if (loose.values.version === true) return { kind: 'version' };
    const stray = argv.find((a) => a.startsWith('-'));
    throw new UsageError(stray ? `unknown option ${stray.split('=')[0]}` : 'missing verb', topUsage);
  }

  const group = specs.filter((s) => s.path[0] === words[0]);
  if (group.length === 0) throw new UsageError(`unknown verb '${words[0]}'`, topUsage);
  // A group may have a verb of its own (`msec agent`) beside two-word verbs (`msec agent token`).
  let spec = group.find((s) => s.path.length === 2 && s.path[1] === words[1]) ?? group.find((s) => s.path.length === 1);
  if (!spec) {
    const verbs = [...new Set(group.map((s) => s.path[1]))].join('|');
    if (words.length < 2) {
      if (wantsHelp) return { kind: 'help', topic: [words[0]!] };
      throw new UsageError(`missing verb after '${words[0]}': one of ${verbs}`, groupUsage(specs, words[0]!));
    }
    const second = group.filter((s) => s.path[1] === words[1]);
    if (second.length === 0) throw new UsageError(`unknown verb '${words[0]} ${words[1]}': one of ${verbs}`, groupUsage(specs, words[0]!));
    // Three-word verbs (`log field add`): the third word picks one.
    spec = second.find((s) => s.path.length === 2) ?? second.find((s) => s.path[2] === words[2]);
    if (!spec) {
      const thirds = [...new Set(second.map((s) => s.path[2]))].join('|');
      const usage = second.map(usageLine).join('\n       ');
      if (words.length < 3 && wantsHelp) return { kind: 'help', topic: [words[0]!, words[1]!] };
      throw new UsageError(words.length < 3 ? `missing verb after '${words[0]} ${words[1]}': one of ${thirds}` : `unknown verb '${words.slice(0, 3).join(' ')}': one of ${thirds}`, usage);
    }
  }
  return parseCommand(spec, argv);
}

/** Strict parse of one command's line: its options only, its positionals exactly. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): CommandLine {
  const usage = usageLine(spec);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: toParseOptions(optionsOf(spec)), strict: true, allowPositionals: true });
  } catch (err) {
    throw usageErrorFrom(err, usage);
  }
  if (parsed.values.help === true) return { kind: 'help', topic: [...spec.path] };
  const given = parsed.positionals.slice(spec.path.length);
  const args: Record<string, string | undefined> = {};
  const fixed = spec.positionals.filter((p) => !p.rest);
  fixed.forEach((p, i) => {
    const v = given[i];
    if (v === undefined && !p.optional) throw new UsageError(`missing argument ${p.name}`, usage);
    args[p.name] = v;
  });
  const restSpec = spec.positionals.find((p) => p.rest);
  if (restSpec) {
    const rest = given.slice(fixed.length);
    if (rest.length === 0 && !restSpec.optional) throw new UsageError(`missing argument ${restSpec.name} (after --)`, usage);
    return { kind: 'run', spec, args, opts: parsed.values as OptionValues, rest };
  }
  if (given.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument '${given[spec.positionals.length]}'`, usage);
  }
  return { kind: 'run', spec, args, opts: parsed.values as OptionValues };
}

/** An integer argument (`--port 7963`); range checks are the console's business. */
export function integerArg(value: string | undefined, name: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${name} must be an integer, got '${value}'`, usage);
  return Number(value);
}

/** Splits `IP:PORT` (or `[v6]:PORT`) at the last colon; the console judges the parts. */
export function splitAddress(addr: string, usage: string): { ip: string; port: number } {
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(addr.trim());
  if (!m) throw new UsageError(`address must be IP:PORT, got '${addr}'`, usage);
  return { ip: m[1]!, port: Number(m[2]) };
}

export const strOpt = (opts: OptionValues, name: string): string | undefined => {
  const v = opts[name];
  return typeof v === 'string' ? v : undefined;
};
export const boolOpt = (opts: OptionValues, name: string): boolean => opts[name] === true;
/** A `multiple` option's values (none: []). */
export const listOpt = (opts: OptionValues, name: string): string[] => {
  const v = opts[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};
