import { refuse } from '../decider.ts';
import type { FirstLevelCommand, ServiceCommand } from './commands.ts';
import type { ServiceEventType } from './events.ts';
import type { FirstLevelState } from './first-level.ts';
import { parseFirstLevelName, parseSecondLevelName } from './names.ts';
import { serviceDecider, type ServiceState } from './service.ts';
import { missingService } from './service-state.ts';
import { sameSettings } from './settings.ts';

/**
 * The service-tree workflows as a pure step planner: given both streams' states, which step
 * comes next, whether the request is done, or why it is refused. The console runs the steps
 * (apps/console/service-workflows.ts): read both streams, plan, append the step to its one
 * stream with the revision it was planned at, and plan again; a step that meets a newer
 * revision is planned again from a fresh read.
 *
 * Per child, the parent stream `service-<First>` says absent, claimed (a creation holds the
 * name) or linked; the service stream `service-<First>.<Second>` says missing or existing.
 *   create: absent → claim (P) → create the service (S) → link (P)
 *   delete: linked → delete the service (S) → unlink (P)
 * so a service exists only while its name is claimed or linked (the rule: no service without
 * its link), and the parent refuses its own deletion while it holds any child.
 *
 * Why that holds with several consoles at once, with no lock: a step is planned on both states
 * as they were at one moment (the runner reads the parent, the service, then the parent again
 * and plans only if it did not move: planned on a parent older than the service, a create could
 * run after its claim was linked and the service deleted, with nothing holding the name), and
 * appended to one stream at the revision it was planned at, so it lands only if that stream did
 * not move. The other stream may move meanwhile, and each step stays right whatever it did:
 *   claim (P: absent → claimed): a claimed name is valid with or without the service.
 *   create (S: missing → existing), planned on claimed: while S stays missing, nothing takes a
 *     claim away (a claim ends only by its link, which needs the service to exist; unlink
 *     refuses a claimed child), so the parent still holds the name when the service appears.
 *   link (P: claimed → linked), planned on an existing service: a service is deleted only
 *     when linked, so it still exists.
 *   delete (S: existing → missing): a missing service is valid under any parent state.
 *   unlink (P: linked → absent), planned on a missing service: while P stays at that
 *     revision the name is not claimed again, and only a claimed name gets its service
 *     created, so the service is still missing.
 *   delete first level: refused by the parent itself while it holds a claimed or linked child.
 * The interleavings this rules out (found with two consoles when the parent held links only
 * and each console serialised the workflows in its own process):
 *   1. create links F.x; a delete of F.x, finding the link but no service, takes it for a
 *      deletion that stopped half-way and unlinks; create then creates F.x: a service without
 *      its link. Now the creation holds a claim, and unlink refuses a claimed child.
 *   2. delete deletes F.x; create finds F.x still linked and links nothing; delete, finding
 *      no service, unlinks; create creates F.x: again a service without its link (or, the
 *      other way round, a link removed under a service that exists). Now a create finding
 *      linked-but-missing first finishes that deletion (unlink), then claims the name.
 *   3. after 1 or 2, F links nothing while F.x exists, so deleting F succeeds: a first level
 *      deleted with a child in it. Now F holds the name from before the service exists until
 *      after it is deleted, and refuses its own deletion meanwhile.
 * Two creations of one name (another console, or the same request sent again) drive the same
 * claim to its end; the claim carries the settings, so a creation with other settings is
 * refused instead of finishing someone else's.
 *
 * A request's answer depends on what it wrote itself (`wrote`: the event types carrying its
 * command id, in this attempt or an earlier one with the same Idempotency-Key): a request
 * that died half-way is completed by sending it again, and a retried request never does more
 * than the first attempt meant to (a delete retried after the service was created again does
 * not delete the new one).
 */
export interface TreeView {
  /** Stream `service-<First>`. */
  parent: FirstLevelState;
  /** Stream `service-<First>.<Second>` (the missing service for first-level requests). */
  service: ServiceState;
  /** Types of the events this request has written to the two streams so far. */
  wrote: ReadonlySet<ServiceEventType>;
}

/** One step: a command for one stream's decider. `step` names it (stable ids for its events). */
export type WorkflowStep =
  | { on: 'parent'; step: 'claim' | 'link' | 'unlink' | 'create first level' | 'delete first level'; command: FirstLevelCommand }
  | { on: 'service'; step: 'create' | 'delete'; command: ServiceCommand };

export type WorkflowPlan = { done: true } | { done: false; next: WorkflowStep };

export type CreateServiceCommand = Extract<ServiceCommand, { type: 'CreateService' }>;

const done: WorkflowPlan = { done: true };
const next = (step: WorkflowStep): WorkflowPlan => ({ done: false, next: step });

/** Creating a second-level service "First.Second" (with First when it is missing). */
export function planCreateService(create: CreateServiceCommand, view: TreeView): WorkflowPlan {
  const { first: parent, second: child, full } = parseSecondLevelName(create.service);
  // Decided against a missing service, so a refused creation writes nothing at all, not even the claim.
  const [created] = serviceDecider.decide(create, missingService);
  const { kind, lang, port } = (created as Extract<typeof created, { type: 'ServiceCreated' }>).data;
  const settings = { kind, lang, port };
  const joined = view.wrote.has('ChildServiceClaimed') || view.wrote.has('ServiceCreated') || view.wrote.has('ChildServiceLinked');
  const link = view.parent.exists ? view.parent.children.get(child) : undefined;

  if (!link) {
    // Our creation happened (a claim ends only by its link) and the service was deleted since.
    if (joined) return done;
    if (view.service.exists) {
      // Only logs written by consoles without claims can hold a service its parent does not link.
      return refuse('conflict', `service ${full} already exists; pick another name or delete it first`);
    }
    const system = create.system === true ? { system: true } : {};
    return next({ on: 'parent', step: 'claim', command: { type: 'ClaimChildService', parent, child, ...settings, ...system } });
  }
  if (link.status === 'claimed') {
    if (!sameSettings(link, settings)) {
      if (joined) return done; // ours finished and was deleted; another creation holds the name now
      return refuse('conflict', `service ${full} is being created by another request with other settings `
        + `(${link.kind}, ${link.lang || 'no language'}, port ${link.port}); pick another name, or wait until it exists`);
    }
    // The same creation, ours or one that stopped half-way: drive it to its end.
    if (!view.service.exists) {
      return next({ on: 'service', step: 'create', command: { ...create, kind: link.kind, lang: link.lang, port: link.port } });
    }
    return next({ on: 'parent', step: 'link', command: { type: 'LinkChildService', parent, child } });
  }
  if (joined) return done;
  if (view.service.exists) return refuse('conflict', `service ${full} already exists; pick another name or delete it first`);
  // Linked but gone: a deletion stopped half-way (or runs elsewhere); finish it, then claim.
  return next({ on: 'parent', step: 'unlink', command: { type: 'UnlinkChildService', parent, child } });
}

/** Deleting a second-level service "First.Second". */
export function planDeleteService(service: string, view: TreeView): WorkflowPlan {
  const { first: parent, second: child, full } = parseSecondLevelName(service);
  const joined = view.wrote.has('ServiceDeleted') || view.wrote.has('ChildServiceUnlinked');
  const link = view.parent.exists ? view.parent.children.get(child) : undefined;
  const deleteIt = next({ on: 'service', step: 'delete', command: { type: 'DeleteService', service: full } });

  if (!link) {
    if (joined) return done;
    // A service its parent does not link (left by consoles without claims) is deleted all the same.
    if (view.service.exists) return deleteIt;
    return refuse('not_found', `service ${full} does not exist`);
  }
  if (link.status === 'claimed') {
    if (joined) return done; // ours finished; a new creation of the name is in progress
    if (!view.service.exists) {
      return refuse('conflict', `service ${full} is being created; wait for that request to finish, `
        + 'or send the same creation again if it stopped half-way, then delete it');
    }
    // The service exists and only its link is missing: finish that creation, then delete.
    return next({ on: 'parent', step: 'link', command: { type: 'LinkChildService', parent, child } });
  }
  if (view.service.exists) {
    // After our delete the service was created again: that one is not ours to delete.
    return joined ? done : deleteIt;
  }
  return next({ on: 'parent', step: 'unlink', command: { type: 'UnlinkChildService', parent, child } });
}

/** Creating a first-level service alone: one step, retried like the others. */
export function planCreateFirstLevel(command: Extract<FirstLevelCommand, { type: 'CreateFirstLevelService' }>, view: TreeView): WorkflowPlan {
  parseFirstLevelName(command.name);
  if (view.wrote.has('FirstLevelServiceCreated')) return done;
  return next({ on: 'parent', step: 'create first level', command });
}

/** Deleting a first-level service: one step; the parent refuses it while it holds any child. */
export function planDeleteFirstLevel(name: string, view: TreeView): WorkflowPlan {
  const first = parseFirstLevelName(name);
  if (view.wrote.has('FirstLevelServiceDeleted')) return done;
  return next({ on: 'parent', step: 'delete first level', command: { type: 'DeleteFirstLevelService', name: first } });
}
