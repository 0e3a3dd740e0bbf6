/**
 * Keeps the name service's nodes protected (zk-acl.ts). The control plane owns its root and
 * everything below: `<root>`, `<root>/nameservice`, the first-level nodes, the service nodes
 * and their shards. Each must have exactly digest(user) ALL + world READ. A node with any
 * other ACL (created open before a credential was set, or by someone else) gets its ACL set
 * right. One the control plane may not change (someone else's digest without ADMIN for it) is
 * deleted when it has no children — deleting needs only DELETE on the parent, which the
 * control plane owns — so it is written again; otherwise it is reported, since only a
 * ZooKeeper superuser can delete it.
 *
 * `check` looks at one node (the start-up walk, `secureTree`, looks at all of them); `ensure`
 * does it once per node met later (a publish, a parent that already exists).
 */
import type { ACL } from 'node-zookeeper-client';
import type { RegistryAccessReport } from './port.ts';
import { describeAcls, sameAcls } from './zk-acl.ts';
import { isNoAuth, isRace, ZooKeeperError } from './zk-errors.ts';
import type { ZooKeeperSession } from './zk-session.ts';

export type NodeAccess =
  | { kind: 'absent' }
  | { kind: 'ok'; children: number }
  | { kind: 'repaired'; children: number; was: string }
  | { kind: 'removed'; was: string }
  | { kind: 'problem'; message: string };

const walkConcurrency = 16;

export class NameServiceAccess {
  /** Nodes found (or made) right since they were last created; forgotten when deleted. */
  private readonly checked = new Set<string>();

  constructor(private readonly session: ZooKeeperSession, private readonly acls: ACL[], private readonly user: string) {}

  /** `check` for a node not yet checked; a node checked before is taken as right. */
  async ensure(path: string): Promise<NodeAccess> {
    if (this.checked.has(path)) return { kind: 'ok', children: -1 };
    return this.check(path);
  }

  /** The control plane just created the node (with the right ACL) or deleted it. */
  created(path: string): void {
    this.checked.add(path);
  }

  forget(path: string): void {
    this.checked.delete(path);
  }

  forgetAll(): void {
    this.checked.clear();
  }

  /** Looks at the node's ACL and repairs it, or deletes the node, or says why it cannot. */
  async check(path: string): Promise<NodeAccess> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const access = await this.checkOnce(path);
      if (access === 'again') continue;
      if (access.kind === 'ok' || access.kind === 'repaired') this.checked.add(path);
      else this.checked.delete(path);
      return access;
    }
    throw new ZooKeeperError(`the ACL of ${path} kept changing while msec repaired it: another process changes it; try again`, 'BUSY', true);
  }

  /** Checks `top` (from the root down) and the whole tree below `base`. */
  async secureTree(top: string[], base: string): Promise<RegistryAccessReport> {
    const report: RegistryAccessReport = { checked: 0, repaired: [], recreated: [], problems: [] };
    const visit = async (path: string): Promise<string[]> => {
      const access = await this.check(path);
      if (access.kind !== 'absent') report.checked++;
      if (access.kind === 'repaired') report.repaired.push(path);
      if (access.kind === 'removed') report.recreated.push(path);
      if (access.kind === 'problem') report.problems.push(access.message);
      if ((access.kind !== 'ok' && access.kind !== 'repaired') || access.children === 0) return [];
      return ((await this.session.getChildren(path)) ?? []).map((child) => `${path}/${child}`);
    };
    for (const node of top) await visit(node);
    let level = [base];
    while (level.length) {
      const next: string[][] = [];
      for (let i = 0; i < level.length; i += walkConcurrency) {
        next.push(...await Promise.all(level.slice(i, i + walkConcurrency).map(visit)));
      }
      level = next.flat();
    }
    return report;
  }

  private async checkOnce(path: string): Promise<NodeAccess | 'again'> {
    const current = await this.session.getACL(path).catch((error: unknown) => {
      if (!isNoAuth(error)) throw error;
      return 'hidden' as const;
    });
    if (current === null) return { kind: 'absent' };
    const readable = current !== 'hidden';
    // exists needs no permission: the stat of a node msec may not even read.
    const stat = readable ? current.stat : await this.session.exists(path);
    if (!stat) return 'again';
    if (readable && sameAcls(current.acls, this.acls)) return { kind: 'ok', children: current.stat.numChildren };
    const was = readable ? `ACL ${describeAcls(current.acls)}` : 'an ACL msec may not even read';
    if (readable) {
      try {
        await this.session.setACL(path, this.acls, current.stat.aversion);
        return { kind: 'repaired', children: current.stat.numChildren, was };
      } catch (error) {
        if (isRace(error)) return 'again';
        if (!isNoAuth(error)) throw error;
      }
    }
    const children = stat.numChildren;
    if (children === 0) {
      try {
        await this.session.multi([{ op: 'remove', path, version: -1 }]);
        return { kind: 'removed', was };
      } catch (error) {
        if (isRace(error)) return 'again'; // gone, or a child appeared meanwhile
        if (!isNoAuth(error)) throw error;
      }
    }
    return {
      kind: 'problem',
      message: `the name-service node ${path} has ${was}, which ${this.user} may not change (no ADMIN permission there)` +
        `${children > 0 ? ` and ${children === 1 ? 'a child' : `${children} children`} msec may not delete` : ' and msec may not delete it'}: ` +
        `if msec made it, give this process the credential it was made with (MSEC_ZK_AUTH=user:password); otherwise ` +
        `a ZooKeeper superuser must delete it (zkCli.sh: deleteall ${path}), and msec writes it again`,
    };
  }
}
