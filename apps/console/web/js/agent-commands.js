/**
 * Commands on hosts through their agents: send one, follow its output while it runs, fetch
 * what it brought back. The console signs every command; the agent checks the signature.
 */
import { api, seg } from './api.js';

const WAIT_SECONDS = 25;
export const agentPath = (ip) => `/api/agents/${seg(ip)}`;

/** Sends a command ({ action, argv, timeoutSeconds, reason }) → { commandId, expiresAt }. */
export function sendCommand(ip, body) {
  return api.post(`${agentPath(ip)}/commands`, body);
}

/**
 * Long-polls the command until it has a result: `onStatus(status)` is called with every answer
 * (its `output` is the text since the previous one). Resolves with the last status (completed or
 * refused); rejects when `signal` aborts or the console no longer knows the command.
 */
export async function followCommand(ip, commandId, { signal, onStatus }) {
  let offset = 0;
  for (;;) {
    const s = await api.get(`${agentPath(ip)}/commands/${seg(commandId)}?after=${offset}&wait=${WAIT_SECONDS}`, { signal });
    offset = s.outputOffset ?? offset;
    onStatus?.(s);
    if (s.status === 'completed' || s.status === 'refused') return s;
  }
}

/** Runs `ps` on the host and answers its process list (throws with the reason when it did not run). */
export async function processList(ip, signal) {
  const { commandId } = await sendCommand(ip, { action: 'ps' });
  const s = await followCommand(ip, commandId, { signal });
  if (s.status === 'refused') throw new Error(`the agent of ${ip} refused the process list: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
  if (s.exitCode !== 0) throw new Error(`the process list of ${ip} failed: ${s.error || `exit ${s.exitCode}`}`);
  return (await api.get(`${agentPath(ip)}/commands/${seg(commandId)}/data`, { signal })).processes;
}

/** How a finished command ended, in words: "finished in 12 ms", "refused by the agent: expired", … (the exit code is shown apart). */
export function outcomeText(s) {
  if (s.status === 'refused') return `refused by the agent: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`;
  const took = typeof s.durationMs === 'number' ? ` in ${s.durationMs} ms` : '';
  if (s.timedOut) return `killed after its time limit${took}`;
  if (s.exitCode === undefined || s.exitCode < 0) return `did not run: ${s.error || 'no exit code'}`;
  return `finished${took}`;
}
