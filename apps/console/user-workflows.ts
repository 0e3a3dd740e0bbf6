/**
 * Commands that span a user's stream and the access stream. Each step is resumable (setting
 * the same grants, or removing access that is gone, decides nothing), so a request that died
 * between steps is completed by sending it again. The rules that concern every user (there is
 * always an admin) are decided on the one access stream, so they hold across console
 * processes: a concurrent change makes the append fail on its expected revision, and the step
 * is decided again on what the other process wrote.
 */
import { accessDecider } from '../../domain/access/index.ts';
import type { Grant } from '../../domain/access/roles.ts';
import { streams } from '../../domain/streams.ts';
import { userDecider } from '../../domain/users/index.ts';
import { WrongExpectedRevision, type EventStore } from '../../adapters/eventstore/port.ts';
import { executeCommand, type CommandMeta, type CommandOutcome } from './command-bus.ts';

const withoutIfMatch = (meta: CommandMeta): CommandMeta => ({ ...meta, expectedRevision: undefined });

/**
 * Runs a step on the access stream, deciding again when another console appended first
 * (the caller gave no If-Match, so the newest state is the one to decide on).
 */
export async function onAccessStream(store: EventStore, command: Parameters<typeof accessDecider.decide>[0], meta: CommandMeta, step = 0): Promise<CommandOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeCommand(store, streams.access, accessDecider, command, meta, step);
    } catch (e) {
      if (!(e instanceof WrongExpectedRevision) || meta.expectedRevision !== undefined || attempt >= 10) throw e;
    }
  }
}

export async function createUser(store: EventStore, input: { name: string; passwordHash: string; grants: Grant[] }, meta: CommandMeta): Promise<CommandOutcome> {
  const created = await executeCommand(store, streams.user(input.name), userDecider,
    { type: 'CreateUser', name: input.name, passwordHash: input.passwordHash }, meta, 0);
  const access = await onAccessStream(store, { type: 'SetUserAccess', user: input.name, grants: input.grants }, withoutIfMatch(meta), 1);
  return latest(created, access);
}

export async function removeUser(store: EventStore, name: string, actor: string, meta: CommandMeta): Promise<CommandOutcome> {
  // Access first: the last-admin rule decides on the access stream before anything is written.
  const access = await onAccessStream(store, { type: 'RemoveUserAccess', user: name, actor }, withoutIfMatch(meta), 0);
  const removed = await executeCommand(store, streams.user(name), userDecider, { type: 'RemoveUser', name, actor }, meta, 1);
  return latest(removed, access);
}

/** The answer of a two-step command: the user stream's, with the later of the two positions. */
function latest(user: CommandOutcome, access: CommandOutcome): CommandOutcome {
  return {
    ...user,
    position: Math.max(user.position, access.position),
    eventTypes: [...user.eventTypes, ...access.eventTypes],
  };
}
