/** Helpers shared by the contract suites: real domain events, waiting, quiet adapters. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { eventIdFor } from '../../domain/event-ids.ts';
import type { DomainEvent, NewEvent } from '../../domain/events.ts';
import type { FollowerOptions } from '../../adapters/eventstore/batch-follower.ts';

/** Adapter options for tests: no log noise, quick polls and retries. */
export const quickFollow: FollowerOptions = {
  logger: pino({ level: 'silent' }),
  pollIntervalMs: 20,
  retryDelays: { initialMs: 10, maxMs: 50 },
};

/** A name no other test uses, so suites can share a server (EventStoreDB, Kafka). */
export const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;

export interface CommandMeta {
  commandId?: string;
  at?: number;
  actor?: string;
  reason?: string;
  causationId?: string;
  schemaVersion?: number;
}

/** The events one command would append, with the metadata the console gives them. */
export function command(events: DomainEvent[], meta: CommandMeta = {}): NewEvent[] {
  const commandId = meta.commandId ?? randomUUID();
  const at = meta.at ?? Date.now();
  return events.map((e, i) => ({
    ...e,
    id: eventIdFor(commandId, i),
    occurredAt: new Date(at).toISOString(),
    actor: meta.actor ?? 'alice',
    reason: meta.reason ?? '',
    correlationId: commandId,
    causationId: meta.causationId ?? commandId,
    ...(meta.schemaVersion === undefined ? {} : { schemaVersion: meta.schemaVersion }),
  }) as NewEvent);
}

export const serviceCreated = (service: string, port = 7963): DomainEvent =>
  ({ type: 'ServiceCreated', data: { service, kind: 'standard', lang: 'cpp', port } });

export const hostAdded = (service: string, ip: string, port = 7963): DomainEvent =>
  ({ type: 'HostAdded', data: { service, ip, port, protocol: 'tcp', weight: 100 } });

export const hostEnabled = (service: string, ip: string, port = 7963): DomainEvent =>
  ({ type: 'HostEnabled', data: { service, ip, port } });

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(5);
  }
}

/** A fresh folder under the OS temp dir, and the function that removes it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
