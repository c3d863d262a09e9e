import { BlockList, isIP } from 'node:net';

/**
 * Addresses the controller never connects to unless the operator lists them (README "Where the
 * controller sends data"): they reach the controller's own host, its link or its cloud's metadata
 * service, not an AI system or a webhook of the plan's owner. IPv4-mapped IPv6 forms
 * (`::ffff:127.0.0.1`) are matched by the IPv4 ranges; NAT64 forms (`64:ff9b::7f00:1`) too.
 */
const REFUSED: ReadonlyArray<{ what: string; v4: readonly string[]; v6: readonly string[] }> = [
  { what: 'unspecified', v4: ['0.0.0.0/8'], v6: ['::/128'] },
  { what: 'loopback', v4: ['127.0.0.0/8'], v6: ['::1/128'] },
  { what: 'link-local (where cloud metadata services answer)', v4: ['169.254.0.0/16'], v6: ['fe80::/10'] },
  // Alibaba Cloud, Azure's platform endpoint, AWS's IPv6 metadata service.
  { what: 'cloud metadata', v4: ['100.100.100.200/32', '168.63.129.16/32'], v6: ['fd00:ec2::254/128'] },
  { what: 'multicast', v4: ['224.0.0.0/4'], v6: ['ff00::/8'] },
  { what: 'reserved or broadcast', v4: ['240.0.0.0/4'], v6: [] },
  { what: 'IPv4-compatible IPv6 (deprecated)', v4: [], v6: ['::/96'] },
];

const NAT64_PREFIX = '64:ff9b::';

const categories = REFUSED.map(({ what, v4, v6 }) => {
  const list = new BlockList();
  for (const range of v4) {
    const [address, bits] = splitCidr(range);
    list.addSubnet(address, bits, 'ipv4');
    list.addSubnet(`${NAT64_PREFIX}${address}`, 96 + bits, 'ipv6');
  }
  for (const range of v6) {
    const [address, bits] = splitCidr(range);
    list.addSubnet(address, bits, 'ipv6');
  }
  return { what, list };
});

/** What kind of refused address `address` is (e.g. "loopback"), or null when it is not one. */
export function refusedKind(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return null;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  return categories.find((c) => c.list.check(address, type))?.what ?? null;
}

export function splitCidr(range: string): [string, number] {
  const slash = range.indexOf('/');
  return [range.slice(0, slash), Number(range.slice(slash + 1))];
}
