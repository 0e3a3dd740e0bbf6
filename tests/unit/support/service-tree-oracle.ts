/**
 * The service tree's cross-stream rules, checked on a log in commit order. An oracle apart from
 * the deciders (it reads event types and payloads only), so it judges old and new workflow code
 * alike:
 * - a second-level service never exists without its parent holding its link (or its claim);
 * - a link is never removed while its service exists;
 * - a first-level service is never deleted while a service under it exists or a link remains.
 * `quiescentProblems` adds what must hold once no request runs any more: every link points to
 * an existing service and no creation is left half-way.
 */
export interface LoggedEvent {
  type: string;
  stream: string;
  position: number;
  data: unknown;
}

type LinkState = 'claimed' | 'linked';

export interface ServiceTreeFacts {
  /** First level → its children and their link state. */
  firstLevels: Map<string, Map<string, LinkState>>;
  /** Full names of the existing second-level services. */
  services: Set<string>;
  /** Rules broken at some position of the log, with the position. */
  violations: string[];
  /** Events per type, for the test's report. */
  counts: Map<string, number>;
}

export function emptyFacts(): ServiceTreeFacts {
  return { firstLevels: new Map(), services: new Set(), violations: [], counts: new Map() };
}

/** Folds `events` (in position order) into `facts`, noting every rule an event breaks. */
export function foldTree(facts: ServiceTreeFacts, events: Iterable<LoggedEvent>): ServiceTreeFacts {
  for (const e of events) {
    if (!e.stream.startsWith('service-')) continue;
    facts.counts.set(e.type, (facts.counts.get(e.type) ?? 0) + 1);
    const d = e.data as { name?: string; parent?: string; child?: string; service?: string };
    const at = `position ${e.position} (${e.type} on ${e.stream})`;
    const link = (state: LinkState) => {
      const children = facts.firstLevels.get(d.parent!);
      if (!children) facts.violations.push(`${at}: ${d.parent}.${d.child} ${state} under a first level that does not exist`);
      else children.set(d.child!, state);
    };
    switch (e.type) {
      case 'FirstLevelServiceCreated':
        facts.firstLevels.set(d.name!, new Map());
        break;
      case 'FirstLevelServiceDeleted': {
        const living = [...facts.services].filter((s) => s.startsWith(`${d.name}.`));
        if (living.length) facts.violations.push(`${at}: ${d.name} deleted while ${living.join(', ')} exist`);
        const children = facts.firstLevels.get(d.name!);
        if (children?.size) facts.violations.push(`${at}: ${d.name} deleted while it links ${[...children.keys()].join(', ')}`);
        facts.firstLevels.delete(d.name!);
        break;
      }
      case 'ChildServiceClaimed':
        link('claimed');
        break;
      case 'ChildServiceLinked':
        link('linked');
        break;
      case 'ChildServiceUnlinked':
        if (facts.services.has(`${d.parent}.${d.child}`)) facts.violations.push(`${at}: ${d.parent}.${d.child} unlinked while it exists`);
        facts.firstLevels.get(d.parent!)?.delete(d.child!);
        break;
      case 'ServiceCreated': {
        const dot = d.service!.indexOf('.');
        const parent = d.service!.slice(0, dot);
        const child = d.service!.slice(dot + 1);
        if (!facts.firstLevels.get(parent)?.has(child)) facts.violations.push(`${at}: ${d.service} created without a link in ${parent}`);
        facts.services.add(d.service!);
        break;
      }
      case 'ServiceDeleted':
        facts.services.delete(d.service!);
        break;
      default:
        break;
    }
  }
  return facts;
}

/** What must hold when no request is running: links and services match one to one. */
export function quiescentProblems(facts: ServiceTreeFacts): string[] {
  const problems: string[] = [];
  for (const service of facts.services) {
    const dot = service.indexOf('.');
    const state = facts.firstLevels.get(service.slice(0, dot))?.get(service.slice(dot + 1));
    if (state !== 'linked') problems.push(`${service} exists but its parent ${state === 'claimed' ? 'only claims it' : 'does not link it'}`);
  }
  for (const [first, children] of facts.firstLevels) {
    for (const [child, state] of children) {
      if (!facts.services.has(`${first}.${child}`)) problems.push(`${first} ${state === 'claimed' ? 'claims' : 'links'} ${first}.${child}, which does not exist`);
    }
  }
  return problems;
}
