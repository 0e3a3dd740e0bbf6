/** Words and small lookups shared by the release pages (plan list, plan page, wizard, service page). */
import { seg } from './api.js';
import { h } from './dom.js';

export const RELEASE_TYPES = [
  ['complete', 'complete (config, artifact and library files)'],
  ['only_config', 'config only'],
  ['only_artifact', 'artifact only (bin/lib kept)'],
  ['only_library', 'library files only'],
];

/** What each release type needs chosen. */
export const NEEDS = {
  complete: { config: true, artifact: true },
  only_config: { config: true, artifact: false },
  only_artifact: { config: false, artifact: true },
  only_library: { config: false, artifact: false },
};

/** Plan states after which nothing more happens by itself. */
export const FINAL = new Set(['succeeded', 'failed', 'partially_failed', 'cancelled', 'rolled_back', 'rollback_failed']);

export const words = (s) => String(s ?? '').replaceAll('_', ' ');
export const typeLabel = (t) => (RELEASE_TYPES.find(([v]) => v === t) || [t, words(t)])[1];
export const planHref = (id) => `#/releases/${encodeURIComponent(id)}`;
export const planPath = (id) => `/api/releases/${seg(id)}`;
export const wizardHref = (service) => `#/release/new${service ? `?service=${encodeURIComponent(service)}` : ''}`;
export const releasesHref = (service) => `#/releases${service ? `?service=${encodeURIComponent(service)}` : ''}`;

/** A plan's or a host's state as a coloured label (class by its tone, text as the API says it in words). */
export function stateBadge(state, testid) {
  const s = String(state ?? '');
  const tone = ['succeeded', 'installed', 'rolled_back', 'rolled-back', 'running'].includes(s) ? 'good'
    : ['failed', 'partially_failed', 'rollback_failed', 'rollback-failed', 'crashed', 'backoff'].includes(s) ? 'bad'
      : ['carrying_out', 'installing', 'rolling_back', 'rolling-back', 'starting'].includes(s) ? 'busy'
        : ['paused'].includes(s) ? 'warn' : 'idle';
  return h('span', { class: `badge tone-${tone}`, 'data-testid': testid, 'data-state': s }, words(s) || '—');
}

/** "config v2, IDL v1, artifact b7" from tags ('' when none). */
export function versionsText(v) {
  return [v.config && `config ${v.config}`, v.idl && `IDL ${v.idl}`, v.artifact && `artifact ${v.artifact}`].filter(Boolean).join(', ');
}
