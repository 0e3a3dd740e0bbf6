/**
 * The event log of a large installation, written straight into an embedded store: first-level
 * services of 20 children each, every child with `hosts` hosts added and enabled. Events come
 * from the real deciders (so the console could have written each of them), appended in one
 * batch per stream.
 */
import type { DomainEvent, NewEvent } from '../domain/events.ts';
import { eventIdFor } from '../domain/event-ids.ts';
import { firstLevelDecider, serviceDecider, type FirstLevelCommand, type ServiceCommand } from '../domain/services/index.ts';
import type { EventStore } from '../adapters/eventstore/port.ts';

export interface ScaleShape {
  services: number;
  hosts: number;
}

export interface SeededService {
  service: string;
  /** `ip:port` of its hosts, all enabled at weight 100. */
  hosts: string[];
}

const childrenPerFirstLevel = 20;

export function scaleServices({ services, hosts }: ScaleShape): SeededService[] {
  return Array.from({ length: services }, (_, i) => {
    const first = Math.floor(i / childrenPerFirstLevel);
    const child = i % childrenPerFirstLevel;
    return {
      service: `Scale${String(first).padStart(3, '0')}.svc${String(child).padStart(2, '0')}`,
      hosts: Array.from({ length: hosts }, (_, h) => `10.${first & 255}.${child}.${h + 1}:7963`),
    };
  });
}

/** Appends the log; answers the number of events. */
export async function seedScaleLog(store: EventStore, shape: ScaleShape): Promise<number> {
  const at = new Date().toISOString();
  let commandNo = 0;
  const envelope = (events: DomainEvent[]): NewEvent[] => {
    const commandId = `scale-seed-${commandNo++}`;
    return events.map((e, i) => ({ ...e, id: eventIdFor(commandId, i), occurredAt: at, actor: 'bench', reason: '', correlationId: commandId, causationId: commandId }) as NewEvent);
  };
  const firstLevels = new Map<string, ReturnType<typeof firstLevelDecider.initialState>>();
  let total = 0;
  // In the console's order: claim the name on the first level, create the service, link it.
  const tree = async (name: string, command: FirstLevelCommand) => {
    const state = firstLevels.get(name) ?? firstLevelDecider.initialState();
    const events = firstLevelDecider.decide(command, state);
    firstLevels.set(name, events.reduce(firstLevelDecider.evolve, state));
    await store.append(`service-${name}`, 'any', envelope(events));
    total += events.length;
  };
  for (const { service, hosts } of scaleServices(shape)) {
    const [parent, child] = service.split('.') as [string, string];
    await tree(parent, { type: 'ClaimChildService', parent, child, kind: 'standard', lang: 'c++', port: 7963 });
    let state = serviceDecider.initialState();
    const events: NewEvent[] = [];
    const run = (command: ServiceCommand) => {
      const decided = serviceDecider.decide(command, state);
      state = decided.reduce(serviceDecider.evolve, state);
      events.push(...envelope(decided));
    };
    run({ type: 'CreateService', service, kind: 'standard', lang: 'c++', port: 7963 });
    for (const host of hosts) {
      const [ip, port] = host.split(':') as [string, string];
      run({ type: 'AddHost', service, ip, port: Number(port), protocol: 'tcp', weight: 100 });
      run({ type: 'EnableHost', service, ip, port: Number(port) });
    }
    await store.append(`service-${service}`, 'no_stream', events);
    total += events.length;
    await tree(parent, { type: 'LinkChildService', parent, child });
  }
  return total;
}
