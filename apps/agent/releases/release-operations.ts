/**
 * The three release operations on one host, step by step (install, rollback, uninstall), and
 * the repair of one cut short by an agent restart. Each touches the install only once what it
 * needs is ready: files fetched and checked, the backup made, the new bin/ unpacked beside the
 * running one. The service is stopped just before the swap, so a bad archive or a wrong digest
 * leaves the previous install running and untouched.
 */
import { cpSync, existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ReleaseFile, ReleasePayload } from '../../../schemas/agent.ts';
import { contentMismatch, writePushedFile } from '../executors.ts';
import { extractArchive, hasExecutableStart, type ArchiveLimits } from './archive.ts';
import { checkHealth } from './health.ts';
import { backUp, findBackup, removeInstall, restoreBackup, swapIn } from './install-files.ts';
import type { InstallLayout, InstallRecord } from './install-layout.ts';
import type { JournalEntry } from './journal.ts';
import { isAlive } from './process-identity.ts';
import { filesUsedBy, missingFileProblem } from './release-payload.ts';
import { Interrupted, type StepLog } from './step-log.ts';
import type { ServiceSpec, Supervisor } from './supervisor.ts';

export interface OperationContext {
  root: string;
  ip: string;
  supervisor: Supervisor;
  fetchBlob(sha256: string, size: number): Promise<Buffer>;
  archiveLimits: ArchiveLimits;
  clock(): number;
  signal: AbortSignal;
  /** The install is about to change: from here on, an interrupted operation is repaired from the backup. */
  touch(): void;
}

export type Operation = (ctx: OperationContext, layout: InstallLayout, p: ReleasePayload, log: StepLog) => Promise<void>;

const defaultStopTimeoutMs = 10_000;
const defaultHealthTimeoutMs = 30_000;

export const install: Operation = async (ctx, layout, p, log) => {
  const files = filesUsedBy(p);
  const blobs = await fetchFiles(ctx, layout, p, log);
  await log.run('backed-up', () => backUp(layout));
  const previous = layout.readRecord();
  const artifact = files.artifact;
  const staged = artifact ? await log.attempt('installed', () => stageBin(ctx, layout, p, artifact, blobs)) : undefined;
  ctx.touch();
  await log.run('stopped', () => ctx.supervisor.stop(p.service, p.stopTimeoutMs || defaultStopTimeoutMs));
  let record!: InstallRecord;
  await log.run('installed', () => {
    const dir = layout.makeInstall();
    const done: string[] = [];
    if (staged) {
      swapIn(layout, staged.dir, join(dir, 'bin'));
      done.push(`bin/ from the artifact (${staged.entries} entries, ${staged.bytes} bytes)${p.releaseType === 'only_artifact' ? ', bin/lib/ kept' : ''}`);
    }
    if (files.config) {
      writeChecked(ctx, join(dir, 'etc', 'config.ini'), files.config, blobs, 0o600);
      done.push('etc/config.ini');
    }
    if (p.releaseType === 'only_library') {
      for (const lib of p.libraries) writeChecked(ctx, join(dir, 'bin', 'lib', lib.name), lib, blobs, 0o755);
      done.push(`${p.libraries.length} library file(s) in bin/lib/`);
    } else if (p.releaseType === 'complete' && p.libraries.length) done.push(`${p.libraries.length} library file(s) in bin/lib/`);
    record = {
      planId: p.planId, versionsJson: p.versionsJson, port: p.port, installedAtMs: ctx.clock(),
      artifactSha256: artifact?.sha256 ?? previous?.artifactSha256 ?? '',
      configSha256: files.config?.sha256 ?? previous?.configSha256 ?? '',
      libraries: {
        ...(p.releaseType === 'complete' ? {} : previous?.libraries ?? {}),
        ...Object.fromEntries(files.libraries.map((l) => [l.name, l.sha256])),
      },
    };
    layout.writeRecord(record);
    return `installed ${done.join(', ')} in ${layout.installRel}`;
  });
  await startAndCheck(ctx, specOf(layout, record, p.port), p.healthTimeoutMs, log);
};

export const rollback: Operation = async (ctx, layout, p, log) => {
  const backup = findBackup(layout);
  if (!backup) {
    await log.run('restored', () => {
      throw new Error(`there is no backup of ${p.service} for plan ${p.planId} on this host (the plan did not install it here): nothing was touched`);
    });
    return;
  }
  ctx.touch();
  await log.run('stopped', () => ctx.supervisor.stop(p.service, p.stopTimeoutMs || defaultStopTimeoutMs));
  if (backup.empty) {
    await log.run('removed', () => {
      removeInstall(layout);
      ctx.supervisor.forget(p.service);
      return `removed ${layout.installRel}: ${p.service} was not installed here before plan ${p.planId}`;
    });
    return;
  }
  await log.run('restored', () => {
    restoreBackup(layout, backup.path);
    return `restored ${layout.installRel} from ${layout.backupRel} (as it was before plan ${p.planId})`;
  });
  const record = layout.readRecord();
  await startAndCheck(ctx, specOf(layout, record, record?.port || p.port), p.healthTimeoutMs, log);
};

export const uninstall: Operation = async (ctx, layout, p, log) => {
  ctx.touch();
  await log.run('stopped', () => ctx.supervisor.stop(p.service, p.stopTimeoutMs || defaultStopTimeoutMs));
  await log.run('removed', () => {
    const existed = removeInstall(layout);
    ctx.supervisor.forget(p.service);
    return existed ? `removed ${layout.installRel}; it is no longer supervised (plan backups stay)` : `${p.service} was not installed here`;
  });
};

/**
 * An operation cut short by an agent restart: the host goes back to the plan's previous install
 * (started again), or to no install when there was none; an uninstall is finished. Says what was done.
 */
export async function repairInterrupted(ctx: OperationContext, layout: InstallLayout, entry: JournalEntry): Promise<string> {
  if (!entry.touched) return 'nothing had been changed';
  await ctx.supervisor.stop(entry.service, defaultStopTimeoutMs);
  const backup = entry.operation === 'uninstall' ? undefined : findBackup(layout);
  if (entry.operation === 'uninstall' || backup?.empty) {
    removeInstall(layout);
    ctx.supervisor.forget(entry.service);
    return entry.operation === 'uninstall' ? 'the uninstall was finished' : `the install was removed (${entry.service} was not installed here before the plan)`;
  }
  if (!backup) return `no backup of plan ${entry.planId} was found to restore: ${entry.service} is left stopped`;
  restoreBackup(layout, backup.path);
  const record = layout.readRecord();
  const spec = specOf(layout, record, record?.port ?? 0);
  // Started, not health-checked: the console learns how it runs from the heartbeats.
  await ctx.supervisor.start(spec, { release: true }).then(() => ctx.supervisor.settled(spec.service), () => undefined);
  return 'the previous install was restored';
}

/** The `pushed` step: every file the release needs, fetched by digest and checked, before anything is touched. */
async function fetchFiles(ctx: OperationContext, layout: InstallLayout, p: ReleasePayload, log: StepLog): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  await log.run('pushed', async () => {
    const missing = missingFileProblem(p);
    if (missing) throw new Error(missing);
    if (p.releaseType !== 'complete' && !layout.isInstalled()) {
      throw new Error(`${p.service} is not installed on this host, so an ${p.releaseType} release has nothing to update: release it complete first; nothing was touched`);
    }
    const used = filesUsedBy(p);
    const files: [string, ReleaseFile][] = [
      ...(used.artifact ? [['the artifact', used.artifact] as [string, ReleaseFile]] : []),
      ...(used.config ? [['the config', used.config] as [string, ReleaseFile]] : []),
      ...used.libraries.map((l) => [`the library ${l.name}`, l] as [string, ReleaseFile]),
    ];
    for (const [what, f] of files) {
      let content: Buffer;
      try {
        content = await untilAborted(ctx.fetchBlob(f.sha256, f.size), ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new Error(`${what} could not be fetched: ${(err as Error).message}; nothing was touched`);
      }
      const mismatch = contentMismatch(content, f.sha256, f.size);
      if (mismatch) throw new Error(`${what}: ${mismatch}; nothing was touched`);
      blobs.set(f.sha256, content);
    }
    return `fetched ${files.map(([what, f]) => `${what} (${f.size} bytes)`).join(', ')}; every digest checked`;
  });
  return blobs;
}

/** The new bin/, unpacked and completed beside the install; removed again when anything about it is wrong. */
async function stageBin(ctx: OperationContext, layout: InstallLayout, p: ReleasePayload, artifact: ReleaseFile, blobs: Map<string, Buffer>): Promise<{ dir: string; entries: number; bytes: number }> {
  const dir = layout.temporary('staging');
  mkdirSync(dir, { mode: 0o755 });
  try {
    const { entries, bytes } = await extractArchive(blobs.get(artifact.sha256)!, dir, ctx.archiveLimits);
    if (!hasExecutableStart(dir)) throw new Error('the artifact has no executable `start` at its top');
    const lib = join(dir, 'lib');
    if (p.releaseType === 'only_artifact') {
      // Only the build changes: the library files stay those installed.
      rmSync(lib, { recursive: true, force: true });
      const installed = join(layout.install, 'bin', 'lib');
      if (existsSync(installed)) cpSync(installed, lib, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    } else {
      for (const l of p.libraries) writeChecked(ctx, join(lib, l.name), l, blobs, 0o755);
    }
    return { dir, entries, bytes };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}; the running install was not touched`);
  }
}

/** Writes a fetched file the way push_file does (checked again, atomic, never through a link). */
function writeChecked(ctx: OperationContext, path: string, f: ReleaseFile, blobs: Map<string, Buffer>, mode: number): void {
  const outcome = writePushedFile(ctx.root, { path: relative(realpathSync(ctx.root), path), sha256: f.sha256, size: f.size, mode }, blobs.get(f.sha256)!);
  if (outcome.exitCode !== 0) throw new Error(outcome.error);
}

async function startAndCheck(ctx: OperationContext, spec: ServiceSpec, healthTimeoutMs: number, log: StepLog): Promise<void> {
  let started = { pid: 0, startTicks: -1 };
  await log.run('started', async () => {
    started = await ctx.supervisor.start(spec, { release: true });
    return `started ${spec.service} (pid ${started.pid}) listening on ${ctx.ip}:${spec.port}`;
  });
  try {
    await log.run('healthy', () => checkHealth({
      ip: ctx.ip, port: spec.port, timeoutMs: healthTimeoutMs || defaultHealthTimeoutMs, installDir: spec.installDir, signal: ctx.signal,
      alive: () => isAlive(started), howItEnded: () => ctx.supervisor.lastExit(spec.service),
    }));
  } finally {
    ctx.supervisor.settled(spec.service);
  }
}

/** The promise, or a rejection as soon as the agent goes away (a fetch can take minutes). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new Interrupted());
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

function specOf(layout: InstallLayout, record: InstallRecord | undefined, port: number): ServiceSpec {
  return {
    service: layout.name.service, installDir: layout.install, port, planId: record?.planId ?? '', versionsJson: record?.versionsJson ?? '',
    artifactSha256: record?.artifactSha256 ?? '', configSha256: record?.configSha256 ?? '',
  };
}
