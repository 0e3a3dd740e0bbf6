/**
 * Who may write the name service: every node the control plane owns has ACL =
 * digest(user) ALL + world READ. RPC clients and agents read without credentials; nobody else
 * can write, delete or create below it. The control plane never writes without a credential
 * (zk-url.ts, requireWriterCredential), and repairs nodes whose ACL is anything else
 * (zk-access.ts).
 */
import { createHash } from 'node:crypto';
import zookeeper, { type ACL } from 'node-zookeeper-client';
import type { ZooKeeperCredential } from './zk-url.ts';

/** ZooKeeper's digest id: `user:base64(sha1("user:password"))`. */
export function digestId(credential: ZooKeeperCredential): string {
  const hash = createHash('sha1').update(`${credential.user}:${credential.password}`).digest('base64');
  return `${credential.user}:${hash}`;
}

export function nameServiceAcls(credential: ZooKeeperCredential): ACL[] {
  const { ACL: Acl, Id, Permission } = zookeeper;
  return [
    new Acl(Permission.ALL, new Id('digest', digestId(credential))),
    new Acl(Permission.READ, new Id('world', 'anyone')),
  ];
}

/** `scheme:id=permissions`, sorted: how ACLs are compared and shown (a digest id shows no password). */
export function describeAcls(acls: readonly ACL[]): string {
  // The client's objects carry `permission` (its typings say `perms`).
  return acls.map((a) => `${a.id.scheme}:${a.id.id}=${permissionLetters((a as unknown as { permission: number }).permission)}`).sort().join(',');
}

export function sameAcls(a: readonly ACL[], b: readonly ACL[]): boolean {
  return describeAcls(a) === describeAcls(b);
}

/** zkCli's letters: c(reate) d(elete) r(ead) w(rite) a(dmin). */
function permissionLetters(permission: number): string {
  const { Permission } = zookeeper;
  const letters: Array<[number, string]> = [[Permission.CREATE, 'c'], [Permission.DELETE, 'd'], [Permission.READ, 'r'], [Permission.WRITE, 'w'], [Permission.ADMIN, 'a']];
  return letters.filter(([bit]) => (permission & bit) !== 0).map(([, letter]) => letter).join('') || '-';
}
