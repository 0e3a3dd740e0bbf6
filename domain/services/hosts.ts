import { refuse } from '../decider.ts';
import type { HostProtocol } from './events.ts';

/** Rules for one host entry (ip:port) of a service, as the name service will route to it. */

export const hostProtocols: readonly HostProtocol[] = ['udp', 'tcp', 'both'];

/** MSEC's NLB caps a static weight at 10000; 100 is the weight MSEC's console writes. */
export const DEFAULT_HOST_WEIGHT = 100;
export const MIN_HOST_WEIGHT = 1;
export const MAX_HOST_WEIGHT = 10000;

export function checkProtocol(protocol: string): HostProtocol {
  if (!(hostProtocols as readonly string[]).includes(protocol)) {
    return refuse('invalid', `protocol "${protocol}" is unknown; use udp, tcp or both`);
  }
  return protocol as HostProtocol;
}

export function checkWeight(weight: number): number {
  if (!Number.isInteger(weight) || weight < MIN_HOST_WEIGHT || weight > MAX_HOST_WEIGHT) {
    return refuse('invalid', `weight ${String(weight)} is out of range; use a whole number from ${MIN_HOST_WEIGHT} to ${MAX_HOST_WEIGHT} (default ${DEFAULT_HOST_WEIGHT})`);
  }
  return weight;
}
