/**
 * `zk://[user:password@]h1:2181,h2:2181[/chroot]` → what a ZooKeeper client needs.
 * WHATWG `new URL` cannot parse a host list with ports ("h1:2181,h2:2181"), so this is a small
 * hand parser. Credentials come from the URL, else from MSEC_ZK_AUTH (`user:password`), so a
 * password can stay out of command lines. The chroot is applied by msec itself (prefixed to
 * every path), which avoids the client's chroot handling and needs no pre-created chroot node.
 */

export interface ZooKeeperCredential {
  user: string;
  password: string;
}

export interface ZooKeeperAddress {
  /** `h1:2181,h2:2181`, the client's connect string (no chroot). */
  hosts: string;
  /** `''` or `/a/b`: prefixed to every path msec uses. */
  chroot: string;
  /** The control plane's digest credential; absent for readers and open setups. */
  credential?: ZooKeeperCredential;
}

export class ZooKeeperUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZooKeeperUrlError';
  }
}

const shape = 'zk://[user:password@]host:port[,host:port…][/chroot]';

export function parseZooKeeperUrl(url: string, env: Record<string, string | undefined> = process.env): ZooKeeperAddress {
  const shown = redactZooKeeperUrl(url);
  const match = /^zk:\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/i.exec(url.trim());
  if (!match) throw new ZooKeeperUrlError(`"${shown}" is not a ZooKeeper URL: use ${shape}`);
  const [, userInfo, hostList, path] = match;
  const hosts = hostList!.split(',').map((h) => normalizeHost(h.trim(), shown));
  const chroot = normalizeChroot(path ?? '', shown);
  const credential = userInfo !== undefined
    ? parseCredential(userInfo, `the user:password of "${shown}"`, true)
    : env.MSEC_ZK_AUTH ? parseCredential(env.MSEC_ZK_AUTH, 'MSEC_ZK_AUTH', false) : undefined;
  return { hosts: hosts.join(','), chroot, ...(credential ? { credential } : {}) };
}

/**
 * The control plane's digest credential, or a refusal saying what to set: without it every
 * node it creates would be world-writable (anyone could redirect any service's traffic).
 */
export function requireWriterCredential(address: ZooKeeperAddress): ZooKeeperCredential {
  if (address.credential) return address.credential;
  throw new ZooKeeperUrlError(`publishing routes to ZooKeeper at ${describeZooKeeperAddress(address)} needs the control plane's digest credential ` +
    '(without it every name-service node is world-writable): set MSEC_ZK_AUTH=user:password or use zk://user:password@host:2181');
}

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactZooKeeperUrl(url: string): string {
  return url.replace(/^(zk:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/** How an address appears in logs: never the password. */
export function describeZooKeeperAddress(address: ZooKeeperAddress): string {
  const user = address.credential ? `${address.credential.user}:***@` : '';
  return `zk://${user}${address.hosts}${address.chroot}`;
}

function normalizeHost(host: string, shown: string): string {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(host);
  const port = m?.[2] === undefined ? 2181 : Number(m[2]);
  if (!m || port < 1 || port > 65_535) {
    throw new ZooKeeperUrlError(`"${shown}" has a bad host "${host}": use ${shape}`);
  }
  return `${m[1]}:${port}`;
}

function normalizeChroot(path: string, shown: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (trimmed.split('/').slice(1).some((part) => part === '' || part === '.' || part === '..')) {
    throw new ZooKeeperUrlError(`"${shown}" has a bad chroot "${path}": use /name[/name…]`);
  }
  return trimmed;
}

function parseCredential(text: string, where: string, encoded: boolean): ZooKeeperCredential {
  const colon = text.indexOf(':');
  const decode = (s: string) => {
    try {
      return encoded ? decodeURIComponent(s) : s;
    } catch {
      throw new ZooKeeperUrlError(`${where} has a bad %-escape: percent-encode reserved characters (%40 for @, %3A for :)`);
    }
  };
  const user = colon < 0 ? '' : decode(text.slice(0, colon));
  const password = colon < 0 ? '' : decode(text.slice(colon + 1));
  if (!user || !password || user.includes(':')) {
    throw new ZooKeeperUrlError(`${where} must be user:password with both parts non-empty (the digest credential the control plane writes with)`);
  }
  return { user, password };
}
