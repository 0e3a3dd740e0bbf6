import { consoleOptions, optionsOf, usageLine, type CommandSpec, type OptionSpecs } from '../args.ts';
import { UsageError } from '../errors.ts';

/** `msec help [VERB…]` and `--help`: generated from the command specs, so it never drifts. */

function optionLines(opts: OptionSpecs): string[] {
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return [flag, o.help] as const;
  });
  const w = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(w)}  ${h}`);
}

const environment = [
  '  MSEC_CONSOLE      console URL for the client verbs (default http://127.0.0.1:8080)',
  '  MSEC_TOKEN        API token (Bearer)',
  '  MSEC_USER, MSEC_PASSWORD   Basic credentials',
  '  MSEC_CONFIG_DIR   where `msec login` keeps credentials.json (default ~/.config/msec)',
  '  MSEC_HOME, MSEC_PORT       defaults of `msec up`',
  '  NO_COLOR          no colours even on a terminal',
];

const exitCodes = [
  '  0 ok   1 the console refused or failed   2 wrong command line',
  '  3 console unreachable, or no valid credentials (set MSEC_TOKEN, or MSEC_USER and',
  '    MSEC_PASSWORD, or run `msec login`)',
];

function overview(specs: readonly CommandSpec[], version: string): string {
  const rows = specs.map((s) => [s.path.join(' '), s.summary] as const);
  const w = Math.max(...rows.map(([p]) => p.length));
  return [
    `msec ${version}: command line of the msec control plane`,
    '',
    'usage: msec <verb> [arguments] [options]',
    '       msec help <verb>     details of one verb (or: msec <verb> --help)',
    '',
    'verbs:',
    ...rows.map(([p, s]) => `  ${p.padEnd(w)}  ${s}`),
    '',
    'console options (every verb that talks to a console):',
    ...optionLines(consoleOptions),
    '',
    'Credentials, first match wins: --token; --user/--password; MSEC_TOKEN; MSEC_USER and',
    'MSEC_PASSWORD; the token stored by `msec login` for that console URL.',
    '',
    'environment:',
    ...environment,
    '',
    'exit status:',
    ...exitCodes,
    '',
  ].join('\n');
}

function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, '', 'options:', ...optionLines(optionsOf(spec))];
  if (spec.notes?.length) lines.push('', ...spec.notes);
  return lines.join('\n') + '\n';
}

export function helpText(specs: readonly CommandSpec[], topic: readonly string[], version: string): string {
  if (topic.length === 0) return overview(specs, version);
  const exact = specs.find((s) => s.path.join(' ') === topic.join(' '));
  if (exact) return commandHelp(exact);
  const group = specs.filter((s) => topic.every((word, i) => s.path[i] === word));
  if (group.length > 0 && topic.length <= 2) {
    const rows = group.map((s) => [usageLine(s), s.summary] as const);
    return [`msec ${topic.join(' ')}: one of`, '', ...rows.flatMap(([u, s]) => [`  ${u}`, `      ${s}`]), '', `msec help ${topic.join(' ')} <verb> for the options of one.`, ''].join('\n');
  }
  throw new UsageError(`no help for '${topic.join(' ')}': unknown verb`, 'msec help [VERB…]');
}
