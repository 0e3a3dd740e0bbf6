/**
 * The file moves of a release, each made so a crash in the middle leaves something the journal
 * can repair: a backup is copied aside and renamed into place whole; a new bin/ or a restored
 * install is prepared beside the live one and swapped in by two renames.
 *
 * A backup leaves out log/: the logs of the version being replaced are what an operator reads
 * after a rollback, so they stay with the install (and a backup never copies gigabytes of logs).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { noPreviousInstall, type InstallLayout } from './install-layout.ts';

/** Copies the install (without log/) to `to`, keeping modes and symlinks as they are. */
function copyInstall(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true, verbatimSymlinks: true, preserveTimestamps: true, errorOnExist: true, force: false,
    filter: (src) => {
      // Not log/, nor the temporary files of an atomic write under way (json-file.ts, executors.ts).
      return relative(from, src) !== 'log' && !/\.(msec-)?\d+\.tmp$/.test(basename(src));
    },
  });
}

/**
 * The plan's backup of the install as it was before the plan touched it: made at the plan's
 * first install on this host, kept as it is afterwards (a second install of the same plan must
 * not back up the first one's result). Returns what was done, for the step's detail.
 */
export function backUp(layout: InstallLayout): string {
  const parent = layout.backupParent();
  const backup = join(parent, layout.name.service);
  if (existsSync(backup)) return `kept the backup made earlier in plan ${layout.planId} at ${layout.backupRel}`;
  // A copy cut short by a crash is left under a temporary name: gone before this one starts.
  for (const entry of readdirSync(parent)) if (entry.startsWith(`.${layout.name.service}.tmp-`)) rmSync(join(parent, entry), { recursive: true, force: true });
  const temp = join(parent, `.${layout.name.service}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const installed = existsSync(layout.install);
  if (installed) copyInstall(layout.install, temp);
  else {
    mkdirSync(temp, { mode: 0o700 });
    writeFileSync(join(temp, noPreviousInstall), `${layout.name.service} was not installed here before plan ${layout.planId}\n`, { mode: 0o600 });
  }
  renameSync(temp, backup);
  return installed ? `copied ${layout.installRel} to ${layout.backupRel}` : `${layout.name.service} was not installed here: recorded that at ${layout.backupRel}`;
}

/** The plan's backup, or undefined when this host has none for the plan; `empty`: the service was not installed before. */
export function findBackup(layout: InstallLayout): { path: string; empty: boolean } | undefined {
  const path = layout.backup;
  if (!existsSync(path)) return undefined;
  return { path, empty: existsSync(join(path, noPreviousInstall)) };
}

/** Puts `fresh` where `target` is, by rename; the old one is removed after. */
export function swapIn(layout: InstallLayout, fresh: string, target: string): void {
  const old = existsSync(target) ? layout.temporary('old') : undefined;
  if (old) renameSync(target, old);
  renameSync(fresh, target);
  if (old) rmSync(old, { recursive: true, force: true });
}

/** Replaces the install with a copy of the backup; the install's log/ moves over. */
export function restoreBackup(layout: InstallLayout, backup: string): void {
  const restored = layout.temporary('restore');
  copyInstall(backup, restored);
  const install = layout.install;
  if (existsSync(join(install, 'log'))) renameSync(join(install, 'log'), join(restored, 'log'));
  swapIn(layout, restored, install);
}

/** Removes the install, and its First folder when that is left empty. */
export function removeInstall(layout: InstallLayout): boolean {
  const install = layout.install;
  const existed = existsSync(install);
  rmSync(install, { recursive: true, force: true });
  const parent = dirname(install);
  try {
    if (readdirSync(parent).length === 0) rmdirSync(parent);
  } catch {
    // already gone, or not empty: either is fine
  }
  return existed;
}
