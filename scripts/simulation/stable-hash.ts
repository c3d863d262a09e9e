import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the simulations: the same parts always give
 * the same number, so a simulated request is answered the same way every time.
 */

/** A number in [0, 1) from the parts' sha256. */
export function stableUnit(...parts: Array<string | number>): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** An index in [0, n) from the parts. */
export function stableIndex(n: number, ...parts: Array<string | number>): number {
  return Math.min(n - 1, Math.floor(stableUnit(...parts) * n));
}
