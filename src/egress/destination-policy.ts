import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { EgressRefusedError } from './egress-refused-error.js';
import {
  canonicalHost,
  describePattern,
  type HostPattern,
  hostMatches,
  parseHostPattern,
} from './host-pattern.js';
import { refusedKind, splitCidr } from './refused-addresses.js';

/**
 * Where the controller may send data, from an operator setting (`SHADOWGATE_AI_DESTINATIONS`,
 * `SHADOWGATE_WEBHOOK_DESTINATIONS`): a comma-separated list of
 *
 * - `*`: any host whose addresses are not refused (see refused-addresses.ts); the default;
 * - a host name (`api.openai.com`) or every host under a domain (`*.openai.azure.com`);
 * - an IP address or a CIDR range (`10.20.0.0/16`, `127.0.0.0/8`, `::1`).
 *
 * A host is allowed when `*`, its name or its address is listed. A refused address (loopback,
 * link-local, metadata…) is reached only when an address or range entry covers it: a name entry
 * never unlocks one, since whoever controls the name's DNS could point it anywhere. Names are
 * checked when a plan is applied; every address is checked again after DNS resolution, and the
 * connection goes to an address that passed (no window for DNS rebinding).
 */
export interface DestinationRules {
  anyHost: boolean;
  names: readonly HostPattern[];
  /** IP addresses and CIDR ranges, canonical. */
  ranges: readonly string[];
}

export const DEFAULT_DESTINATIONS: DestinationRules = Object.freeze({ anyHost: true, names: [], ranges: [] });

const MAX_ENTRIES = 1000;

/** Parses a setting's value; an empty value is the default. Returns the rules or the problems. */
export function parseDestinations(text: string): DestinationRules | string[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return DEFAULT_DESTINATIONS;
  if (entries.length > MAX_ENTRIES) return [`more than ${MAX_ENTRIES} entries`];
  const problems: string[] = [];
  const names: HostPattern[] = [];
  const ranges: string[] = [];
  let anyHost = false;
  for (const entry of entries) {
    if (entry === '*') anyHost = true;
    else if (entry.includes('/')) {
      const problem = rangeProblem(entry);
      if (problem) problems.push(problem);
      else ranges.push(entry);
    } else {
      const pattern = parseHostPattern(entry);
      if (typeof pattern === 'string') problems.push(pattern);
      else if ('exact' in pattern && isIP(pattern.exact)) ranges.push(pattern.exact);
      else names.push(pattern);
    }
  }
  return problems.length > 0 ? problems : Object.freeze({ anyHost, names, ranges });
}

function rangeProblem(entry: string): string | null {
  const [address, bits] = splitCidr(entry);
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d{1,3}$/.test(entry.slice(entry.indexOf('/') + 1)) || bits > max) {
    return `"${entry}" is not an IP range (address/prefix length)`;
  }
  return null;
}

export class DestinationPolicy {
  private readonly listed = new BlockList();
  private readonly rules: DestinationRules;

  /** `setting` names the variable the rules come from, for the messages that explain a refusal. */
  constructor(
    readonly setting: string,
    rules: DestinationRules = DEFAULT_DESTINATIONS,
  ) {
    this.rules = rules;
    for (const range of rules.ranges) {
      const type = isIP(range.split('/')[0] ?? '') === 6 ? 'ipv6' : 'ipv4';
      if (range.includes('/')) {
        const [address, bits] = splitCidr(range);
        this.listed.addSubnet(address, bits, type);
      } else this.listed.addAddress(range, type);
    }
  }

  /**
   * Why a request to `url` is refused, or null. Checks the scheme, a literal address and a name
   * against the rules; a name's addresses are checked when it is resolved (`lookup`).
   */
  urlProblem(url: string | URL): string | null {
    let target: URL;
    try {
      target = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return 'not a URL';
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return 'an http or https URL';
    const host = canonicalHost(target.hostname);
    if (isIP(host)) return this.addressProblem(host, false);
    if (this.rules.anyHost || this.rules.names.some((p) => hostMatches(p, host))) return null;
    return `${host} is not an allowed destination (${this.setting}: ${this.describe()})`;
  }

  /**
   * Why connecting to `address` is refused, or null. `nameAllowed`: the address is one a listed
   * name (or `*`) resolved to, so only the refused kinds need a listed range.
   */
  addressProblem(address: string, nameAllowed: boolean): string | null {
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.listed.check(address, type)) return null;
    const kind = refusedKind(address);
    if (kind) return `${address} is a ${kind} address, refused unless ${this.setting} lists it`;
    if (nameAllowed || this.rules.anyHost) return null;
    return `${address} is not an allowed destination (${this.setting}: ${this.describe()})`;
  }

  /**
   * A DNS lookup for node:net that answers only allowed addresses; a name with none fails with
   * an `EgressRefusedError`. Used by every connection the controller makes to AI systems and
   * webhooks, so the address connected to is the address checked.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true };
    dnsLookup(hostname, all, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((a) => this.addressProblem(a.address, true) === null);
      if (allowed.length === 0) {
        const why = addresses[0] ? this.addressProblem(addresses[0].address, true) : 'no address';
        return callback(new EgressRefusedError(`${hostname} resolves to no allowed address: ${why}`), '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const [first] = allowed as [LookupAddress];
      callback(null, first.address, first.family);
    });
  };

  private describe(): string {
    const { anyHost, names, ranges } = this.rules;
    const entries = [...(anyHost ? ['*'] : []), ...names.map(describePattern), ...ranges];
    return entries.length > 5 ? `${entries.slice(0, 5).join(', ')}, …` : entries.join(', ');
  }
}
