import { createHash } from 'node:crypto';

/**
 * A deterministic draw in [0, 1) from a request id, so a retry of the same request
 * is always sampled (mirrored, audited) the same way, in every process.
 */
export function unitHash(requestId: string, salt = ''): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(requestId).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

export function isSampled(requestId: string, rate: number, salt = ''): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return unitHash(requestId, salt) < rate;
}
