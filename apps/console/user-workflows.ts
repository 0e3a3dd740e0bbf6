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
import type { CommandBus, CommandMeta, CommandOutcome } from './command-bus.ts';

const withoutIfMatch = (meta: CommandMeta): CommandMeta => ({ ...meta, expectedRevision: undefined });

/**
 * Runs a step on the access stream (the bus decides it again when another console appended
 * first and the caller gave no If-Match: the newest state is the one to decide on).
 */
export function onAccessStream(commands: CommandBus, command: Parameters<typeof accessDecider.decide>[0], meta: CommandMeta, step = 0): Promise<CommandOutcome> {
  return commands.execute(streams.access, accessDecider, command, meta, step);
}

export async function createUser(commands: CommandBus, input: { name: string; passwordHash: string; grants: Grant[] }, meta: CommandMeta): Promise<CommandOutcome> {
  const created = await commands.execute(streams.user(input.name), userDecider,
    { type: 'CreateUser', name: input.name, passwordHash: input.passwordHash }, meta, 0);
  const access = await onAccessStream(commands, { type: 'SetUserAccess', user: input.name, grants: input.grants }, withoutIfMatch(meta), 1);
  return latest(created, access);
}

export async function removeUser(commands: CommandBus, name: string, actor: string, meta: CommandMeta): Promise<CommandOutcome> {
  // Access first: the last-admin rule decides on the access stream before anything is written.
  const access = await onAccessStream(commands, { type: 'RemoveUserAccess', user: name, actor }, withoutIfMatch(meta), 0);
  const removed = await commands.execute(streams.user(name), userDecider, { type: 'RemoveUser', name, actor }, meta, 1);
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
