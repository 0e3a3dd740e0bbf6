/**
 * Runs the service-tree workflows planned in domain/services/tree-workflows.ts: read the parent
 * stream and the service stream, plan, append the planned step at the revision it was planned
 * at; when another console (or request) moved that stream first, read again and plan again, a
 * bounded number of times. The rules hold across console processes through the event store's
 * expected revisions alone; the per-first-level queue of this process only spares its own
 * requests those retries. A request either completes or is refused with a 4xx, and a request
 * that died half-way is completed by sending it again.
 */
import {
  firstLevelDecider, serviceDecider, parseServiceName, type ServiceEventType, type ServiceKind, type ServiceName,
} from '../../domain/services/index.ts';
import {
  planCreateFirstLevel, planCreateService, planDeleteFirstLevel, planDeleteService, type TreeView, type WorkflowPlan, type WorkflowStep,
} from '../../domain/services/tree-workflows.ts';
import { missingService } from '../../domain/services/service-state.ts';
import { DomainError } from '../../domain/decider.ts';
import { streams } from '../../domain/streams.ts';
import { WrongExpectedRevision } from '../../adapters/eventstore/port.ts';
import type { CommandBus, CommandMeta, CommandOutcome, StreamSnapshot } from './command-bus.ts';

export interface CreateServiceInput {
  name: string;
  kind: ServiceKind;
  lang: string;
  port: number;
  system?: boolean;
}

export interface WorkflowOptions {
  /** Waits before planning again after another request moved a stream first (default: a few ms, at random). */
  pause?: (conflicts: number) => Promise<void>;
  /** Conflicts one request absorbs before it answers 409 (default 40). */
  maxConflicts?: number;
}

export function createService(commands: CommandBus, input: CreateServiceInput, meta: CommandMeta, options: WorkflowOptions = {}): Promise<CommandOutcome> {
  const name = parseServiceName(input.name);
  const system = input.system === true;
  if (!name.second) {
    const command = { type: 'CreateFirstLevelService', name: name.first, kind: input.kind, system } as const;
    return runWorkflow(commands, name, (view) => planCreateFirstLevel(command, view), meta, options);
  }
  const create = { type: 'CreateService', service: name.full, kind: input.kind, lang: input.lang, port: input.port, system } as const;
  return runWorkflow(commands, name, (view) => planCreateService(create, view), meta, options);
}

export function deleteService(commands: CommandBus, rawName: string, meta: CommandMeta, options: WorkflowOptions = {}): Promise<CommandOutcome> {
  const name = parseServiceName(rawName);
  return runWorkflow(commands, name, (view) => (name.second ? planDeleteService(name.full, view) : planDeleteFirstLevel(name.first, view)), meta, options);
}

/** Event ids of a step: stable per (request, step, revision planned at), distinct otherwise. */
const stepNumbers: Record<WorkflowStep['step'], number> = {
  claim: 1, create: 2, link: 3, unlink: 4, delete: 5, 'create first level': 6, 'delete first level': 7,
};

const randomPause = (conflicts: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * conflicts)));

function runWorkflow(commands: CommandBus, name: ServiceName, plan: (view: TreeView) => WorkflowPlan, meta: CommandMeta, options: WorkflowOptions): Promise<CommandOutcome> {
  const parentStream = streams.service(name.first);
  const serviceStream = name.second ? streams.service(name.full) : undefined;
  const target = serviceStream ?? parentStream;
  const maxConflicts = options.maxConflicts ?? 40;
  const pause = options.pause ?? randomPause;
  return commands.inOrder(`workflow:${name.first}`, async () => {
    const written: string[] = [];
    for (let conflicts = 0; ; ) {
      const tree = await readTree(commands, parentStream, serviceStream, meta);
      if (tree) {
        const targetRevision = (serviceStream ? tree.service : tree.parent).revision;
        if (meta.expectedRevision !== undefined && tree.view.wrote.size === 0 && meta.expectedRevision !== targetRevision) {
          // If-Match names the revision of the service the request is about, as on every other command.
          throw new WrongExpectedRevision(target, meta.expectedRevision, targetRevision < 0 ? 'no_stream' : targetRevision);
        }
        const planned = plan(tree.view);
        if (planned.done) {
          return {
            stream: target, revision: targetRevision, position: Math.max(tree.parent.position, tree.service.position),
            eventTypes: written.length ? written : tree.wroteBefore,
          };
        }
        const { next } = planned;
        const index = (at: number) => (i: number) => (at + 1) * 100 + stepNumbers[next.step] * 10 + i;
        try {
          const r = next.on === 'parent'
            ? await commands.appendStep(parentStream, firstLevelDecider, next.command, tree.parent.revision, meta, index(tree.parent.revision))
            : await commands.appendStep(serviceStream!, serviceDecider, next.command, tree.service.revision, meta, index(tree.service.revision));
          written.push(...r.eventTypes);
          // A step that decides nothing met a state its plan did not see: read again, like a conflict.
          if (r.eventTypes.length > 0) continue;
        } catch (e) {
          if (!(e instanceof WrongExpectedRevision)) throw e;
        }
      }
      if (++conflicts > maxConflicts) {
        throw new DomainError('conflict', `${name.full} is being changed by other requests at this moment (${maxConflicts} tries): `
          + 'send the request again; what it did so far is kept and it resumes from there');
      }
      await pause(conflicts);
    }
  });
}

const noService: StreamSnapshot<typeof missingService> = { state: missingService, revision: -1, position: 0, wrote: [] };

/**
 * Both streams as they were at one moment: the parent, the service, then the parent again;
 * null when the parent moved in between (the caller counts that as a conflict).
 */
async function readTree(commands: CommandBus, parentStream: string, serviceStream: string | undefined, meta: CommandMeta) {
  const parent = await commands.snapshot(parentStream, firstLevelDecider, meta);
  const service = serviceStream ? await commands.snapshot(serviceStream, serviceDecider, meta) : noService;
  const again = await commands.snapshot(parentStream, firstLevelDecider, meta);
  if (again.revision !== parent.revision) return null;
  // A sort keeps equal positions (one batch) in order.
  const wroteBefore = [...parent.wrote, ...service.wrote].sort((a, b) => a.position - b.position).map((e) => e.type);
  const view: TreeView = { parent: parent.state, service: service.state, wrote: new Set(wroteBefore as ServiceEventType[]) };
  return { parent, service, view, wroteBefore };
}
