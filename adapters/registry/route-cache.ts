/**
 * The RPC client's disk copy of the tables it watches (MSEC kept them in /var/nlb/naming), so
 * a client restarted while ZooKeeper is down can still route with the last tables it saw.
 * One JSON file per service; written to a temporary file and renamed, so a crash never leaves
 * half a file. Saves of one service are coalesced: only the latest table is written.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { frozenRouteTable, routeTableFromJson, splitServiceName, type RouteTable } from '../../schemas/route-table.ts';

export class RouteDiskCache {
  private readonly pending = new Map<string, RouteTable | null>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(private readonly dir: string, private readonly logger: Logger) {
    mkdirSync(dir, { recursive: true });
  }

  /** The saved table, null when the service had none, undefined when nothing usable is saved. */
  load(service: string): RouteTable | null | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(service), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const saved = JSON.parse(text) as { service?: string; table?: unknown };
      if (saved.service !== service || saved.table === undefined) throw new Error('not a route cache file');
      if (saved.table === null) return null;
      const table = routeTableFromJson(saved.table);
      if (table.service !== service) throw new Error(`it holds the table of ${table.service}`);
      return frozenRouteTable(table);
    } catch (error) {
      this.logger.warn({ service, file: this.file(service), err: (error as Error).message }, 'ignoring an unreadable route cache file');
      return undefined;
    }
  }

  save(service: string, table: RouteTable | null): void {
    this.pending.set(service, table);
    if (!this.writing.has(service)) this.writing.set(service, this.drain(service));
  }

  /** Resolves once every save made so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing.size) await Promise.all(this.writing.values());
  }

  private async drain(service: string): Promise<void> {
    try {
      while (this.pending.has(service)) {
        const table = this.pending.get(service)!;
        this.pending.delete(service);
        const file = this.file(service);
        const temp = `${file}.${process.pid}.tmp`;
        try {
          await writeFile(temp, JSON.stringify({ service, table }));
          await rename(temp, file);
        } catch (error) {
          await rm(temp, { force: true }).catch(() => {});
          this.logger.warn({ service, dir: this.dir, err: (error as Error).message }, 'could not save the route cache: check the cache directory is writable');
        }
      }
    } finally {
      this.writing.delete(service);
    }
  }

  private file(service: string): string {
    splitServiceName(service);
    return join(this.dir, `${service}.json`);
  }
}
