import { refuse } from '../decider.ts';

/**
 * Names of the service tree and of hosts, as MSEC users know them: services are two levels
 * `First.Second` (MySQL columns char(24) each in MSEC's `ngse` database), hosts are
 * `ip:port`, versions carry a tag that ends up in file names (`<F>.<S>.<tag>.*`).
 */

/** First level reserved for the platform's own odd services (RESERVED.monitor, RESERVED.log). */
export const RESERVED = 'RESERVED';

export const MAX_LEVEL_LENGTH = 24;
const levelPattern = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface ServiceName {
  first: string;
  second?: string;
  full: string;
}

export function isReservedFirstLevel(first: string): boolean {
  return first === RESERVED;
}

/** Checks one level of a service name; `what` names the level in the error ("first level"). */
function checkLevel(level: string, what: string, full: string): void {
  if (level.length === 0) {
    refuse('invalid', `service name "${full}" has an empty ${what}; write it as First or First.Second`);
  }
  if (level.length > MAX_LEVEL_LENGTH) {
    refuse('invalid', `the ${what} "${level}" is ${level.length} characters long; shorten it to at most ${MAX_LEVEL_LENGTH}`);
  }
  if (!levelPattern.test(level)) {
    refuse('invalid', `the ${what} "${level}" must start with a letter and contain only letters, digits and "_"`);
  }
}

/** Parses "First" or "First.Second"; throws DomainError('invalid') saying what to fix. */
export function parseServiceName(name: string): ServiceName {
  if (typeof name !== 'string' || name.length === 0) {
    return refuse('invalid', 'a service name is required, e.g. "Flight" or "Flight.mod_flight"');
  }
  const levels = name.split('.');
  if (levels.length > 2) {
    return refuse('invalid', `service name "${name}" has ${levels.length - 1} dots; MSEC services have two levels, write First.Second`);
  }
  const [first, second] = levels as [string, string | undefined];
  checkLevel(first, 'first level', name);
  if (second === undefined) return { first, full: name };
  checkLevel(second, 'second level', name);
  return { first, second, full: name };
}

/** A first-level name alone ("Flight"), as used by the first-level stream. */
export function parseFirstLevelName(name: string): string {
  const parsed = parseServiceName(name);
  if (parsed.second !== undefined) {
    refuse('invalid', `"${name}" is a second-level service; a first-level name has no dot (e.g. "${parsed.first}")`);
  }
  return parsed.first;
}

/** A full second-level name ("Flight.mod_flight"). */
export function parseSecondLevelName(name: string): Required<ServiceName> {
  const parsed = parseServiceName(name);
  if (parsed.second === undefined) {
    return refuse('invalid', `"${name}" is only a first level; name the service First.Second (e.g. "${name}.mod_${name.toLowerCase()}")`);
  }
  return { first: parsed.first, second: parsed.second, full: parsed.full };
}

/** The second-level part alone ("mod_flight"), as linked under its first level. */
export function parseChildName(child: string): string {
  if (typeof child === 'string' && child.includes('.')) {
    refuse('invalid', `child "${child}" must be the second-level name only (e.g. "mod_flight", not "Flight.mod_flight")`);
  }
  if (typeof child !== 'string' || child.length === 0) {
    refuse('invalid', 'a second-level name is required, e.g. "mod_flight"');
  }
  checkLevel(child, 'second level', child);
  return child;
}

// ---- hosts ----------------------------------------------------------------------------

export interface HostAddress {
  ip: string;
  port: number;
}

/** IPv4 dotted quad; octets 0–255 written without leading zeros (010 could mean octal 8). */
export function parseIpv4(ip: string): string {
  if (typeof ip !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    return refuse('invalid', `"${ip}" is not an IPv4 address; write four numbers 0-255 separated by dots, e.g. 10.0.0.12`);
  }
  for (const octet of ip.split('.')) {
    if (octet.length > 1 && octet.startsWith('0')) {
      refuse('invalid', `IP address "${ip}" has a leading zero in "${octet}"; write ${Number(octet)} instead`);
    }
    if (Number(octet) > 255) {
      refuse('invalid', `IP address "${ip}" has the part ${octet}, above 255; each part must be 0-255`);
    }
  }
  return ip;
}

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** A TCP/UDP port number 1–65535; `what` names it in the error ("port", "service port"). */
export function checkPort(port: number, what = 'port'): number {
  if (!Number.isInteger(port) || port < MIN_PORT || port > MAX_PORT) {
    return refuse('invalid', `${what} ${String(port)} is out of range; use a whole number from ${MIN_PORT} to ${MAX_PORT}`);
  }
  return port;
}

/** Parses "ip:port", e.g. "10.0.0.12:7963" (7963 is MSEC's default service port). */
export function parseHostAddress(address: string): HostAddress {
  const match = typeof address === 'string' ? /^([^:]*):([^:]*)$/.exec(address) : null;
  if (!match) {
    return refuse('invalid', `"${address}" is not a host address; write ip:port, e.g. 10.0.0.12:7963`);
  }
  const [, ipText, portText] = match as unknown as [string, string, string];
  const ip = parseIpv4(ipText);
  if (!/^\d+$/.test(portText)) {
    return refuse('invalid', `port "${portText}" in "${address}" is not a number; write ip:port, e.g. 10.0.0.12:7963`);
  }
  if (portText.length > 1 && portText.startsWith('0')) {
    return refuse('invalid', `port "${portText}" in "${address}" has a leading zero; write ${Number(portText)} instead`);
  }
  return { ip, port: checkPort(Number(portText)) };
}

/** The key of a host inside its service, and how users read it: "10.0.0.12:7963". */
export function hostKey(ip: string, port: number): string {
  return `${ip}:${port}`;
}

// ---- version tags ---------------------------------------------------------------------

export const MAX_TAG_LENGTH = 64;
const tagPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Tags become parts of file names (`<F>.<S>.<tag>.conf`), hence no slashes or spaces. */
export function validTag(tag: string): boolean {
  return typeof tag === 'string' && tag.length >= 1 && tag.length <= MAX_TAG_LENGTH && tagPattern.test(tag);
}

export function checkTag(tag: string): string {
  if (!validTag(tag)) {
    return refuse('invalid', `tag "${tag}" is not valid; use 1-${MAX_TAG_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. v1.2.0)`);
  }
  return tag;
}
