import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { strOpt, usageLine } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printJson, type Command, type Ctx, type RunLine } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import type { GeneratedFiles } from '../../devpack/index.ts';

/**
 * `msec dev-package` and `msec stubs`: fetch an IDL version from the console and generate,
 * here, a TypeScript service project (MSEC's dev package) or the caller stubs of a service.
 * The project depends on this msec installation (`file:` dependency).
 */

/** Loaded when a verb runs, so the other verbs never pay for protobufjs. */
const generators = () => import('../../devpack/index.ts');

const idlOption = { idl: { type: 'string', value: 'TAG', help: 'the IDL version to generate from (`msec idl list SERVICE`)' } } as const;

function idlTag(line: RunLine): string {
  const tag = strOpt(line.opts, 'idl');
  if (!tag) throw new UsageError('--idl TAG is required: which IDL version to generate from', usageLine(line.spec));
  return tag;
}

async function fetchIdl(ctx: Ctx, line: RunLine, service: string, tag: string): Promise<string> {
  const client = await connect(ctx, line);
  const answer = await client.get<{ text?: unknown }>(`/api/services/${seg(service)}/idls/${seg(tag)}`);
  if (typeof answer.text !== 'string') throw new CliError(`the console sent IDL ${tag} of ${service} without its text`);
  return answer.text;
}

/** Runs a generator; an unusable IDL is the user's to fix, not a crash. */
function generate(make: () => GeneratedFiles, service: string, tag: string): GeneratedFiles {
  try {
    return make();
  } catch (err) {
    throw new CliError(`cannot generate from IDL ${tag} of ${service}: ${(err as Error).message}`);
  }
}

/** Entries of `dir`, or null when it does not exist. */
async function entries(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    if (e.code === 'ENOTDIR') throw new CliError(`${dir} is a file, not a folder: choose another --out`);
    throw new CliError(`cannot read ${dir}: ${e.message}`);
  }
}

async function writeFiles(dir: string, files: GeneratedFiles, overwrite: boolean): Promise<void> {
  for (const [path, content] of files) {
    const target = join(dir, path);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content, { flag: overwrite ? 'w' : 'wx' });
    } catch (err) {
      throw new CliError(`cannot write ${target}: ${(err as Error).message}`);
    }
  }
}

export const devPackageCommands: Command[] = [
  {
    path: ['dev-package'],
    summary: 'generate a TypeScript project of SERVICE from an IDL version, to fill in and run',
    kind: 'query',
    positionals: [{ name: 'SERVICE' }],
    options: {
      ...idlOption,
      out: { type: 'string', value: 'DIR', help: 'a new or empty folder (default ./SERVICE-TAG-dev)' },
    },
    notes: [
      'The project depends on this msec installation (file: dependency) and runs with tsx:',
      '  cd DIR && npm install && npm start',
      'An existing folder that is not empty is refused: msec never overwrites your code.',
    ],
    async run(ctx, line) {
      const service = line.args.SERVICE!;
      const tag = idlTag(line);
      const { devPackage, devPackageRoot, msecRoot, tsxVersion } = await generators();
      const dir = resolve(strOpt(line.opts, 'out') ?? devPackageRoot(service, tag));
      const present = await entries(dir);
      if (present && present.length > 0) {
        throw new CliError(`${dir} is not empty (${present.length} entries): choose a new or empty folder with --out; msec never overwrites your code`);
      }
      const idlText = await fetchIdl(ctx, line, service, tag);
      const files = generate(() => devPackage({ service, idlTag: tag, idlText, msecRoot, tsxVersion }), service, tag);
      await writeFiles(dir, files, false);
      if (line.opts.json === true) return printJson(ctx, { service, idl: tag, dir, files: [...files.keys()] });
      const handlers = [...files.keys()].filter((p) => p.endsWith('_impl.ts'));
      ctx.out(`wrote the dev package of ${service} (IDL ${tag}) to ${dir}: ${files.size} files\n`);
      ctx.out(`your code goes in ${handlers.join(', ')}\n`);
      ctx.out(`next: cd ${dir} && npm install && npm start\n`);
    },
  },
  {
    path: ['stubs'],
    summary: 'generate typed caller stubs of SERVICE from an IDL version',
    kind: 'query',
    positionals: [{ name: 'SERVICE' }],
    options: {
      ...idlOption,
      out: { type: 'string', value: 'DIR', help: 'folder to write them to (default ./SERVICE-TAG-stubs)' },
    },
    notes: [
      'Writes README.md, types.ts, stub.ts and the .proto; generating again replaces those files',
      'and leaves anything else in DIR alone.',
    ],
    async run(ctx, line) {
      const service = line.args.SERVICE!;
      const tag = idlTag(line);
      const { callerStubs, stubsRoot } = await generators();
      const dir = resolve(strOpt(line.opts, 'out') ?? stubsRoot(service, tag));
      await entries(dir); // a file in the way is reported before the console is asked
      const idlText = await fetchIdl(ctx, line, service, tag);
      const files = generate(() => callerStubs({ service, idlTag: tag, idlText }), service, tag);
      await writeFiles(dir, files, true);
      if (line.opts.json === true) return printJson(ctx, { service, idl: tag, dir, files: [...files.keys()] });
      ctx.out(`wrote the caller stubs of ${service} (IDL ${tag}) to ${dir}: ${[...files.keys()].join(', ')}\n`);
    },
  },
];
