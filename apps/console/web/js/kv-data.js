/** Words, paths and small views shared by the KV pages (the cluster list, a cluster's page). */
import { api, seg } from './api.js';
import { h, formatSize, formatTime } from './dom.js';

export const KV_SLOTS = 16384;
export const MAXMEMORY_POLICIES = ['allkeys-lru', 'allkeys-lfu', 'noeviction', 'volatile-lru', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'];

export const kvPath = (name) => `/api/kv/${seg(name)}`;
export const kvHref = (name) => `#/kv/${encodeURIComponent(name)}`;
export const addrOf = (i) => `${i.ip}:${i.port}`;
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "64.0 MiB" for a byte count, "—" when unknown. */
export const bytesText = (n) => (typeof n === 'number' && n >= 0 ? formatSize(n) : '—');
/** A task time (epoch ms) as local time, '' when not yet. */
export const msTime = (ms) => (ms ? formatTime(new Date(ms).toISOString()) : '');
/** How long a task ran (or runs so far). */
export function duration(task, nowMs = Date.now()) {
  if (!task.startedAtMs) return '';
  const s = ((task.endedAtMs || nowMs) - task.startedAtMs) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** IPv4 addresses sorted as numbers, not as text (127.0.0.10 after 127.0.0.9). */
export function byAddress(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** An instance's role as Redis reports it: master, replica or down (unknown when not read). */
export function roleBadge(role, testid = 'kv-role') {
  const r = role || 'unknown';
  return h('span', { class: `badge kv-role-${r}`, 'data-testid': testid, 'data-role': r }, r);
}

/** A task's outcome: running while it has none. */
export function outcomeBadge(task, testid = 'kv-task-outcome') {
  const outcome = task.outcome || 'running';
  const tone = { succeeded: 'good', failed: 'bad', running: 'busy' }[outcome] || 'idle';
  return h('span', { class: `badge tone-${tone}`, 'data-testid': testid, 'data-outcome': outcome }, outcome);
}

/** The cluster's state as Redis says it (ok, fail, unreachable…). */
export function clusterStateBadge(state, testid = 'kv-state-badge') {
  const s = state || 'unknown';
  const tone = s === 'ok' ? 'good' : s === 'fail' || s === 'unreachable' ? 'bad' : 'idle';
  return h('span', { class: `badge tone-${tone}`, 'data-testid': testid, 'data-state': s }, s);
}

/** The enrolled agents (GET /api/agents), by IP. */
export async function loadAgents(signal) {
  const { agents } = await api.get('/api/agents', { signal });
  return [...agents].sort((a, b) => byAddress(a.ip, b.ip));
}
