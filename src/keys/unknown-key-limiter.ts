import { isIPv6 } from 'node:net';
import { type Admission, TokenBuckets } from './key-rate-limiter.js';

/**
 * Bounds the key lookups (a database query each) that callers can cause with keys this process
 * has not accepted: a bucket per client address at `perSecond` and one for all addresses at
 * `EVERYONE_FACTOR` times that, each holding two seconds' worth. A lookup takes a token from
 * both, the caller's first; past either the caller is refused before the lookup.
 *
 * A key accepted in the last `REMEMBER_MS` skips both buckets (it is still looked up, so a
 * revocation holds on the next request): someone else's bad keys never slow a key in use. A key
 * this process has not accepted yet (the first request after a start, or after an hour of
 * quiet) spends a token like any other, so during a flood it may be asked to retry.
 */

/** The bucket of all addresses refills this many times faster than one address's. */
export const EVERYONE_FACTOR = 10;
const REMEMBER_MS = 60 * 60 * 1000;
/** Keys remembered at most; the least recently accepted is forgotten first. */
const REMEMBER_AT_MOST = 10_000;
const EVERYONE = '*';

export class UnknownKeyLimiter {
  private readonly perAddress: TokenBuckets;
  private readonly everyone: TokenBuckets;
  /** Hash of an accepted key → when it was last accepted (ms), least recent first. */
  private readonly accepted = new Map<string, number>();

  constructor(
    readonly perSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.perAddress = new TokenBuckets(perSecond, nowMs);
    this.everyone = new TokenBuckets(perSecond * EVERYONE_FACTOR, nowMs);
  }

  /** Whether the key with this hash may be looked up for a caller at `address` (see addressGroup). */
  admit(keyHash: string, address: string): Admission {
    const acceptedAt = this.accepted.get(keyHash);
    if (acceptedAt !== undefined && this.nowMs() - acceptedAt <= REMEMBER_MS) return { allowed: true };
    const own = this.perAddress.take(address);
    return own.allowed ? this.everyone.take(EVERYONE) : own;
  }

  /** What the lookup found: an accepted key is remembered, a refused one forgotten. */
  settle(keyHash: string, accepted: boolean): void {
    this.accepted.delete(keyHash);
    if (!accepted) return;
    this.accepted.set(keyHash, this.nowMs());
    if (this.accepted.size > REMEMBER_AT_MOST) {
      const oldest = this.accepted.keys().next().value;
      if (oldest !== undefined) this.accepted.delete(oldest);
    }
  }
}

/**
 * The caller an address stands for: an IPv4 address itself, an IPv6 address its /64 (one host
 * usually holds a whole /64, and would otherwise have 2^64 buckets). IPv4-mapped IPv6 addresses
 * count as IPv4.
 */
export function addressGroup(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return mapped[1]!;
  if (!isIPv6(bare)) return bare;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  let first4 = left;
  if (tail !== undefined) {
    // An embedded IPv4 tail (`::1.2.3.4`) is two groups.
    const right = groups(tail).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
    first4 = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  return `${first4
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
