/**
 * Who may write the name service. With the control plane's digest credential, every node it
 * creates gets ACL = digest(user) ALL + world READ: RPC clients and agents read without
 * credentials, nobody else can write or delete. Without a credential the nodes are open
 * (MSEC's OPEN_ACL_UNSAFE) and the caller warns once.
 */
import { createHash } from 'node:crypto';
import zookeeper, { type ACL } from 'node-zookeeper-client';
import type { ZooKeeperCredential } from './zk-url.ts';

/** ZooKeeper's digest id: `user:base64(sha1("user:password"))`. */
export function digestId(credential: ZooKeeperCredential): string {
  const hash = createHash('sha1').update(`${credential.user}:${credential.password}`).digest('base64');
  return `${credential.user}:${hash}`;
}

export function nameServiceAcls(credential: ZooKeeperCredential | undefined): ACL[] {
  const { ACL: Acl, Id, Permission } = zookeeper;
  const anyone = new Id('world', 'anyone');
  if (!credential) return [new Acl(Permission.ALL, anyone)];
  return [
    new Acl(Permission.ALL, new Id('digest', digestId(credential))),
    new Acl(Permission.READ, anyone),
  ];
}
