/** Small helpers shared by the scale bench's files. */
import type { ZooKeeperServer } from '../tests/services/zookeeper.ts';

/** The p-th percentile of sorted values. */
export const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** The control plane's ZooKeeper URL (a writer's credential) for the test server. */
export const zkWriter = (zk: ZooKeeperServer): string => `zk://msec:scale-secret@${zk.connectString}`;
