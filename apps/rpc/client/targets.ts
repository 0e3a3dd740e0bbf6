/**
 * Call targets, as MSEC's CSrpcProxy takes them: a service name `First.Second` (resolved
 * through the route cache and the NLB) or an address `ip:port[@tcp|@udp]` (called directly).
 */
import type { Endpoint } from '../contracts.ts';
import type { NlbProtocol } from '../../../domain/nlb/index.ts';

export type Target =
  | { kind: 'service'; service: string }
  | { kind: 'address'; endpoint: Endpoint; key: string; protocol: NlbProtocol };

const servicePattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$/;
const addressPattern = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:@[\]]+)):(\d{1,5})(?:@(tcp|udp))?$/;

export class BadTarget extends TypeError {
  constructor(target: string) {
    super(`"${target}" is not a call target: use a service name (First.Second) or an address (ip:port, ip:port@tcp, ip:port@udp)`);
    this.name = 'BadTarget';
  }
}

export function parseTarget(target: string): Target {
  const address = addressPattern.exec(target);
  if (address) {
    const port = Number(address[3]);
    if (port < 1 || port > 65535) throw new BadTarget(target);
    const ip = address[1] ?? address[2]!;
    const protocol: NlbProtocol = address[4] === 'udp' ? 'udp' : address[4] === 'tcp' ? 'tcp' : 'both';
    return { kind: 'address', endpoint: { ip, port }, key: `${ip}:${port}`, protocol };
  }
  if (servicePattern.test(target)) return { kind: 'service', service: target };
  throw new BadTarget(target);
}
