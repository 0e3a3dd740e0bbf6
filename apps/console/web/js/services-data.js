/** Constants and small lookups shared by the service pages and the tree. */
import { api, seg } from './api.js';

export const LANGUAGES = ['c++', 'java', 'php', 'python', 'go', 'typescript', 'javascript'];
export const PROTOCOLS = [['tcp', 'tcp'], ['udp', 'udp'], ['both', 'tcp and udp']];
export const DEFAULT_PORT = 7963;
export const DEFAULT_WEIGHT = 100;

export const isReserved = (name) => name === 'RESERVED' || name.startsWith('RESERVED.');
export const serviceHref = (name) => `#/services/${encodeURIComponent(name)}`;
export const servicePath = (name) => `/api/services/${seg(name)}`;
export const protocolLabel = (p) => (PROTOCOLS.find(([v]) => v === p) || [p, p])[1];

export async function loadTree() {
  return (await api.get('/api/services')).services;
}

/** Deletes a service after asking (with a reason); resolves true when deleted. */
export async function deleteService(name, ask) {
  const answer = await ask({
    title: `Delete ${name}?`,
    message: 'The console refuses while children or hosts remain.',
    okLabel: 'Delete', danger: true,
  });
  if (!answer) return false;
  await api.del(servicePath(name), { reason: answer.reason });
  return true;
}
