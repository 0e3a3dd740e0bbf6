/**
 * Commands that span a first-level stream and a second-level stream. The parent stream holds
 * which children exist (so "delete refused while children remain" is one stream's rule); the
 * child stream holds the service itself. Both steps of a workflow run under one lock per
 * first level, every step is checked before anything is written, and each step is resumable:
 * linking a linked child and unlinking an unlinked one decide nothing, so a request that died
 * between steps is completed by sending it again.
 *
 * The lock is per console process. Two consoles writing one store (distributed mode) must
 * route service-tree commands of one first level to one console (see README).
 */
import { firstLevelDecider, serviceDecider, parseServiceName } from '../../domain/services/index.ts';
import type { ServiceKind } from '../../domain/services/events.ts';
import type { ServiceCommand } from '../../domain/services/commands.ts';
import { DomainError } from '../../domain/decider.ts';
import { streams } from '../../domain/streams.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { currentState, executeCommand, inOrder, type CommandMeta, type CommandOutcome } from './command-bus.ts';

export interface CreateServiceInput {
  name: string;
  kind: ServiceKind;
  lang: string;
  port: number;
  system?: boolean;
}

const withoutIfMatch = (meta: CommandMeta): CommandMeta => ({ ...meta, expectedRevision: undefined });

/** The second-level service's current state, as its next command would see it. */
const serviceState = (store: EventStore, full: string) => currentState(store, streams.service(full), serviceDecider);

export async function createService(store: EventStore, input: CreateServiceInput, meta: CommandMeta): Promise<CommandOutcome> {
  const name = parseServiceName(input.name);
  const system = input.system === true;
  if (!name.second) {
    return executeCommand(store, streams.service(name.first), firstLevelDecider,
      { type: 'CreateFirstLevelService', name: name.first, kind: input.kind, system }, meta);
  }
  const create: ServiceCommand = { type: 'CreateService', service: name.full, kind: input.kind, lang: input.lang, port: input.port, system };
  return inOrder(store, `workflow:${name.first}`, async () => {
    // Decide the service itself first, so a refused creation writes nothing at all (not even the link).
    serviceDecider.decide(create, await serviceState(store, name.full));
    await executeCommand(store, streams.service(name.first), firstLevelDecider,
      { type: 'LinkChildService', parent: name.first, child: name.second!, kind: input.kind, system }, withoutIfMatch(meta), 0);
    return executeCommand(store, streams.service(name.full), serviceDecider, create, meta, 1);
  });
}

export async function deleteService(store: EventStore, rawName: string, meta: CommandMeta): Promise<CommandOutcome> {
  const name = parseServiceName(rawName);
  if (!name.second) {
    return inOrder(store, `workflow:${name.first}`, () =>
      executeCommand(store, streams.service(name.first), firstLevelDecider, { type: 'DeleteFirstLevelService', name: name.first }, meta));
  }
  return inOrder(store, `workflow:${name.first}`, async () => {
    let deleted: CommandOutcome | undefined;
    try {
      deleted = await executeCommand(store, streams.service(name.full), serviceDecider, { type: 'DeleteService', service: name.full }, meta, 0);
    } catch (e) {
      // A service that is gone but still linked (an earlier delete died half-way) is unlinked below.
      if (!(e instanceof DomainError && e.code === 'not_found')) throw e;
    }
    // Unlink only a child that really is gone: a retried delete must never unlink a service
    // that was created again in between.
    if ((await serviceState(store, name.full)).exists) {
      if (deleted) return deleted;
      throw new DomainError('conflict', `service ${name.full} exists again: delete it again to remove it`);
    }
    const unlinked = await executeCommand(store, streams.service(name.first), firstLevelDecider,
      { type: 'UnlinkChildService', parent: name.first, child: name.second! }, withoutIfMatch(meta), 1);
    if (deleted) return unlinked.position > deleted.position ? { ...deleted, position: unlinked.position } : deleted;
    if (unlinked.eventTypes.length === 0) throw new DomainError('not_found', `service ${name.full} does not exist`);
    return unlinked;
  });
}
