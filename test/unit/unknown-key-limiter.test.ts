import { describe, expect, it } from 'vitest';
import { addressGroup, EVERYONE_FACTOR, UnknownKeyLimiter } from '../../src/keys/unknown-key-limiter.js';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(startMs = 1_000_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const admitted = (
  limiter: UnknownKeyLimiter,
  address: string,
  n: number,
  key = (i: number) => `guess-${i}`,
) => Array.from({ length: n }, (_, i) => limiter.admit(key(i), address).allowed).filter(Boolean).length;

describe('the unknown-key limit', () => {
  it('when one address presents unknown keys, then it gets two seconds’ worth, then waits, and other addresses go on', () => {
    const clock = manualClock();
    const limiter = new UnknownKeyLimiter(5, clock.now);
    expect(admitted(limiter, '198.51.100.7', 10)).toBe(10);
    expect(limiter.admit('guess-10', '198.51.100.7')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.admit('guess-11', '203.0.113.9').allowed).toBe(true);
    clock.advance(1000);
    expect(admitted(limiter, '198.51.100.7', 10)).toBe(5);
  });

  it('when many addresses present unknown keys, then all of them together get ten times one address’s rate', () => {
    const clock = manualClock();
    const limiter = new UnknownKeyLimiter(5, clock.now);
    const addresses = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const firstBurst = addresses.filter((a) => limiter.admit(`k-${a}`, a).allowed).length;
    expect(firstBurst).toBe(5 * EVERYONE_FACTOR * 2);
    clock.advance(1000);
    const nextSecond = addresses.filter((a) => limiter.admit(`k2-${a}`, a).allowed).length;
    expect(nextSecond).toBe(5 * EVERYONE_FACTOR);
  });

  it('when a key was accepted, then it is admitted however the unknown keys of its address and of everyone went', () => {
    const clock = manualClock();
    const limiter = new UnknownKeyLimiter(1, clock.now);
    expect(limiter.admit('valid', '192.0.2.1').allowed).toBe(true);
    limiter.settle('valid', true);
    admitted(limiter, '192.0.2.1', 50);
    for (let i = 0; i < 50; i++) admitted(limiter, `192.0.2.${i + 2}`, 5);
    expect(limiter.admit('guess', '192.0.2.1').allowed).toBe(false);
    expect(limiter.admit('guess', '192.0.2.99').allowed).toBe(false);
    expect(limiter.admit('valid', '192.0.2.1').allowed).toBe(true);
    expect(limiter.admit('valid', '192.0.2.99').allowed).toBe(true);
  });

  it('when an accepted key is refused later (revoked), or an hour passes unused, then it is limited like any unknown key', () => {
    const clock = manualClock();
    const limiter = new UnknownKeyLimiter(1, clock.now);
    limiter.settle('revoked', true);
    limiter.settle('quiet', true);
    admitted(limiter, '192.0.2.1', 5);
    expect(limiter.admit('revoked', '192.0.2.1').allowed).toBe(true);
    limiter.settle('revoked', false);
    expect(limiter.admit('revoked', '192.0.2.1').allowed).toBe(false);
    clock.advance(60 * 60 * 1000 + 1);
    admitted(limiter, '192.0.2.1', 5);
    expect(limiter.admit('quiet', '192.0.2.1').allowed).toBe(false);
  });

  it('when more keys are accepted than are remembered, then the least recently accepted is forgotten first', () => {
    const clock = manualClock();
    const limiter = new UnknownKeyLimiter(1, clock.now);
    limiter.settle('first', true);
    limiter.settle('second', true);
    limiter.settle('first', true); // accepted again: now the most recent
    for (let i = 0; i < 10_000 - 1; i++) limiter.settle(`filler-${i}`, true);
    admitted(limiter, '192.0.2.1', 5);
    expect(limiter.admit('second', '192.0.2.1').allowed).toBe(false);
    expect(limiter.admit('first', '192.0.2.1').allowed).toBe(true);
  });

  it('when the rate is 0, then nothing is limited', () => {
    const limiter = new UnknownKeyLimiter(0);
    expect(admitted(limiter, '192.0.2.1', 10_000)).toBe(10_000);
  });
});

describe('the address a caller is counted by', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1.2.3.4', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('when the address is %s, then the caller is %s', (address, group) => {
    expect(addressGroup(address)).toBe(group);
  });
});
