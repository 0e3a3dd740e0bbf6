/**
 * Where the name service lives in ZooKeeper: `<chroot><root>/nameservice/<First>/<Second>`.
 * The root defaults to `/msec`; `/` gives MSEC's own layout (`/nameservice/…`).
 */
import { RouteTableError, splitServiceName } from '../../schemas/route-table.ts';
import type { ZooKeeperAddress } from './zk-url.ts';

export const defaultRoot = '/msec';

/** `<chroot><root>/nameservice`. */
export function nameServiceBase(address: ZooKeeperAddress, root = defaultRoot): string {
  const trimmed = root.replace(/\/+$/, '');
  if (trimmed !== '' && (!trimmed.startsWith('/') || trimmed.split('/').slice(1).some((p) => p === '' || p === '.' || p === '..'))) {
    throw new RouteTableError(`registry root "${root}" must be an absolute ZooKeeper path such as /msec`);
  }
  return `${address.chroot}${trimmed}/nameservice`;
}

export function serviceNodePath(base: string, service: string): string {
  const [first, second] = splitServiceName(service);
  return `${base}/${first}/${second}`;
}

/** Every node from the top down to `path` (exclusive of `/`): /a, /a/b, /a/b/c. */
export function ancestorsAndSelf(path: string): string[] {
  const parts = path.split('/').slice(1);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}
