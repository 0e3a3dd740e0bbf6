/**
 * Commands that span a first-level stream and a second-level stream. Each step is
 * resumable: linking an already linked child and unlinking a missing one decide nothing,
 * so a request that died between steps is completed by simply sending it again.
 */
import { firstLevelDecider, serviceDecider, parseServiceName } from '../../domain/services/index.ts';
import type { ServiceKind } from '../../domain/services/events.ts';
import { DomainError } from '../../domain/decider.ts';
import { streams } from '../../domain/streams.ts';
import type { EventStore } from '../../adapters/eventstore/port.ts';
import { executeCommand, type CommandMeta, type CommandOutcome } from './command-bus.ts';

export interface CreateServiceInput {
  name: string;
  kind: ServiceKind;
  lang: string;
  port: number;
  system?: boolean;
}

export async function createService(store: EventStore, input: CreateServiceInput, meta: CommandMeta): Promise<CommandOutcome> {
  const name = parseServiceName(input.name);
  const system = input.system === true;
  if (!name.second) {
    return executeCommand(store, streams.service(name.first), firstLevelDecider,
      { type: 'CreateFirstLevelService', name: name.first, kind: input.kind, system }, meta);
  }
  const parentMeta = { ...meta, expectedRevision: undefined };
  await executeCommand(store, streams.service(name.first), firstLevelDecider,
    { type: 'LinkChildService', parent: name.first, child: name.second, kind: input.kind, system }, parentMeta, 0);
  return executeCommand(store, streams.service(name.full), serviceDecider,
    { type: 'CreateService', service: name.full, kind: input.kind, lang: input.lang, port: input.port, system }, meta, 1);
}

export async function deleteService(store: EventStore, rawName: string, meta: CommandMeta): Promise<CommandOutcome> {
  const name = parseServiceName(rawName);
  if (!name.second) {
    return executeCommand(store, streams.service(name.first), firstLevelDecider, { type: 'DeleteFirstLevelService', name: name.first }, meta);
  }
  let deleted: CommandOutcome | undefined;
  try {
    deleted = await executeCommand(store, streams.service(name.full), serviceDecider, { type: 'DeleteService', service: name.full }, meta, 0);
  } catch (e) {
    // A service that is gone but still linked (an earlier delete died half-way) is unlinked below.
    if (!(e instanceof DomainError && e.code === 'not_found')) throw e;
  }
  const unlinked = await executeCommand(store, streams.service(name.first), firstLevelDecider,
    { type: 'UnlinkChildService', parent: name.first, child: name.second }, { ...meta, expectedRevision: undefined }, 1);
  if (deleted) return unlinked.position > deleted.position ? { ...deleted, position: unlinked.position } : deleted;
  if (unlinked.events.length === 0) throw new DomainError('not_found', `service ${name.full} does not exist`);
  return unlinked;
}
