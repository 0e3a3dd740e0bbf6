/**
 * A service process known by its pid and its start time (field 22 of /proc/<pid>/stat, in clock
 * ticks since boot): after the agent restarts, a recorded pid that now belongs to another
 * program is not taken for the service, nor signalled.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  startTicks: number;
}

/** The identity of a live process, or undefined when it is gone (a zombie counts as gone). */
export function identify(pid: number): ProcessIdentity | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: the fields follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return { pid, startTicks: Number(fields[19]) };
}

export function isAlive(id: ProcessIdentity): boolean {
  return identify(id.pid)?.startTicks === id.startTicks;
}

/** Signals the process group the service leads (it was started in its own); false when there is none. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
