/** IP addresses as records and filters carry them (pure: node:net is I/O territory here). */

const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4 = new RegExp(`^${octet}(?:\\.${octet}){3}$`);

export function isIpv4(text: string): boolean {
  return typeof text === 'string' && ipv4.test(text);
}

/** RFC 4291 text forms: eight groups, one `::`, an IPv4 tail; no zone. */
export function isIpv6(text: string): boolean {
  if (typeof text !== 'string' || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return false;
  let s = text;
  if (s.includes('.')) {
    const last = s.lastIndexOf(':');
    if (last < 0 || !isIpv4(s.slice(last + 1))) return false;
    s = `${s.slice(0, last + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length <= 7 : all.length === 8;
}

export function isIpAddress(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}
