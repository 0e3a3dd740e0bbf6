/**
 * Which addresses the console may POST alarm webhooks to. Any operator may add a webhook, and
 * the console sits inside the deployment's network: without a rule, a webhook could make it
 * call the event store's admin API or a cloud metadata service (server-side request forgery).
 * So only public addresses are called, unless an admin lists private networks the alarm
 * receivers live in: MSEC_WEBHOOK_ALLOW=10.20.0.0/16,192.168.7.5 (addresses or CIDR blocks,
 * IPv4 or IPv6). Checked on the URL when a webhook is saved and on every address a name
 * resolves to when it is called, so DNS cannot move a webhook inside afterwards.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';

const privateV4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const privateV6 = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['100::', 64], ['2001:db8::', 32]] as const;

export class WebhookTargets {
  private readonly privateNets = new BlockList();

  private constructor(private readonly allowed: BlockList, private readonly allowText: string) {
    for (const [net, bits] of privateV4) this.privateNets.addSubnet(net, bits, 'ipv4');
    for (const [net, bits] of privateV6) this.privateNets.addSubnet(net, bits, 'ipv6');
  }

  /** From MSEC_WEBHOOK_ALLOW; a malformed entry is refused with what to write. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): WebhookTargets {
    return WebhookTargets.allowing(env.MSEC_WEBHOOK_ALLOW ?? '');
  }

  static allowing(list: string): WebhookTargets {
    const allowed = new BlockList();
    const entries = list.split(',').map((e) => e.trim()).filter(Boolean);
    for (const entry of entries) {
      const [address, bitsText, extra] = entry.split('/');
      const type = isIP(address ?? '');
      const bits = bitsText === undefined ? (type === 4 ? 32 : 128) : Number(bitsText);
      if (!type || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > (type === 4 ? 32 : 128) || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
        throw new Error(`MSEC_WEBHOOK_ALLOW: "${entry.slice(0, 60)}" is not an address or CIDR block; write e.g. MSEC_WEBHOOK_ALLOW=10.20.0.0/16,192.168.7.5`);
      }
      allowed.addSubnet(address!, bits, type === 4 ? 'ipv4' : 'ipv6');
    }
    return new WebhookTargets(allowed, entries.join(','));
  }

  /** Why the console must not call this address (an IP), or undefined when it may. */
  refusal(address: string): string | undefined {
    const ip = address.replace(/^\[|\]$/g, '');
    const type = isIP(ip);
    if (!type) return `${ip.slice(0, 60)} is not an IP address`;
    const v4 = type === 4 ? ip : embeddedV4(ip);
    const isPrivate = v4 !== undefined ? this.privateNets.check(v4, 'ipv4') : this.privateNets.check(ip, 'ipv6');
    if (!isPrivate) return undefined;
    const allowed = this.allowed.check(ip, type === 4 ? 'ipv4' : 'ipv6') || (v4 !== undefined && v4 !== ip && this.allowed.check(v4, 'ipv4'));
    if (allowed) return undefined;
    return `${ip} is a private address, and alarm webhooks go to public addresses only unless an admin lists the receivers' network in MSEC_WEBHOOK_ALLOW (now ${this.allowText ? `"${this.allowText}"` : 'unset'}), e.g. MSEC_WEBHOOK_ALLOW=${v4 ?? ip}/32`;
  }
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16), if any. */
export function embeddedV4(ip: string): string | undefined {
  const groups = expandV6(ip);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0) && !(groups[5] === 0 && groups[6] === 0)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function expandV6(ip: string): number[] | undefined {
  let text = ip.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (!isIPv4(dotted[1]!)) return undefined;
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...Array<number>(fill).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
