import net from 'node:net';

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const ip = address.split('%')[0]!;
  if (net.isIPv6(ip) === false) return undefined;
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : undefined;
}

/**
 * The key that rate limits count a client under: an IPv4 address as it is (an IPv4-mapped IPv6
 * address too), and an IPv6 address by its /64 network, since one subscriber usually holds a whole
 * /64 and could rotate through it to escape a per-address limit.
 */
export function clientKey(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * The IPv6 /48 (a site) an address belongs to, for a coarser count beside the per-client one;
 * undefined for IPv4 (and IPv4-mapped) addresses, which are counted one by one.
 */
export function networkKey(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (!groups || (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)) return undefined;
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` names trusted proxies as fastify's trustProxy takes them: an address, a CIDR or a range name. */
export function isProxyEntry(entry: string): boolean {
  if (proxyNames.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
