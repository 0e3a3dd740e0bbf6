import { readFile } from 'node:fs/promises';
import { strOpt } from '../args.ts';
import { seg } from '../client.ts';
import { connect, printDone, printJson, type Command, type Ctx, type MutationAnswer } from '../context.ts';
import { CliError } from '../errors.ts';
import { versionTable, type VersionView } from './service.ts';

/**
 * `msec config …` and `msec idl …`: tagged text versions of a service. Both resources have
 * the same routes (`/configs`, `/idls`), so one factory makes both verb groups.
 */

interface FileKind {
  group: 'config' | 'idl';
  route: 'configs' | 'idls';
  what: string;
}

async function readInput(ctx: Ctx, file: string): Promise<string> {
  if (file === '-') return ctx.reader.rest();
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

function versionedFileCommands(k: FileKind): Command[] {
  const base = (service: string) => `/api/services/${seg(service)}/${k.route}`;
  return [
    {
      path: [k.group, 'put'],
      summary: `store FILE (- for stdin) as ${k.what} TAG of SERVICE`,
      kind: 'mutation',
      positionals: [{ name: 'SERVICE' }, { name: 'TAG' }, { name: 'FILE' }],
      options: { memo: { type: 'string', value: 'M', help: 'a note shown beside the tag' } },
      notes: ['A tag is written once: storing an existing tag is refused (409).'],
      async run(ctx, line) {
        const text = await readInput(ctx, line.args.FILE!);
        const memo = strOpt(line.opts, 'memo');
        const client = await connect(ctx, line);
        const answer = await client.send<MutationAnswer>('PUT', `${base(line.args.SERVICE!)}/${seg(line.args.TAG!)}`, {
          body: { text, ...(memo !== undefined ? { memo } : {}) },
          reason: strOpt(line.opts, 'reason'),
        });
        printDone(ctx, line, `stored ${k.what} ${line.args.TAG} of ${line.args.SERVICE}`, answer);
      },
    },
    {
      path: [k.group, 'list'],
      summary: `list the ${k.what}s of SERVICE`,
      kind: 'query',
      positionals: [{ name: 'SERVICE' }],
      async run(ctx, line) {
        const client = await connect(ctx, line);
        const answer = await client.get<{ versions: VersionView[] }>(base(line.args.SERVICE!));
        if (line.opts.json === true) return printJson(ctx, answer);
        ctx.out(versionTable(ctx, answer.versions ?? []));
      },
    },
    {
      path: [k.group, 'get'],
      summary: `print ${k.what} TAG of SERVICE exactly as stored (for redirection)`,
      kind: 'query',
      positionals: [{ name: 'SERVICE' }, { name: 'TAG' }],
      notes: ['With --json: the tag, memo, size, author and text as one JSON object.'],
      async run(ctx, line) {
        const client = await connect(ctx, line);
        const path = `${base(line.args.SERVICE!)}/${seg(line.args.TAG!)}`;
        if (line.opts.json === true) return printJson(ctx, await client.get<unknown>(path));
        const raw = await client.request('GET', `${path}/raw`, { headers: { accept: 'text/plain, */*' } });
        ctx.raw(raw.text);
      },
    },
    {
      path: [k.group, 'delete'],
      summary: `delete ${k.what} TAG of SERVICE`,
      kind: 'mutation',
      positionals: [{ name: 'SERVICE' }, { name: 'TAG' }],
      async run(ctx, line) {
        const client = await connect(ctx, line);
        const answer = await client.send<MutationAnswer>('DELETE', `${base(line.args.SERVICE!)}/${seg(line.args.TAG!)}`, {
          reason: strOpt(line.opts, 'reason'),
        });
        printDone(ctx, line, `deleted ${k.what} ${line.args.TAG} of ${line.args.SERVICE}`, answer);
      },
    },
  ];
}

export const configCommands = versionedFileCommands({ group: 'config', route: 'configs', what: 'config version' });
export const idlCommands = versionedFileCommands({ group: 'idl', route: 'idls', what: 'IDL version' });
