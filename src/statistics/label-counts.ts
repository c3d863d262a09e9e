/** Compared decisions counted by (human label, AI label), as SQL groups them. */
export interface LabelPairCount {
  human: string;
  ai: string;
  count: number;
}

/** Counts must be finite and non-negative: anything else is a bug upstream, not data. */
export function checkCount(entry: LabelPairCount): number {
  if (!Number.isFinite(entry.count) || entry.count < 0) {
    throw new RangeError(`count for (${entry.human}, ${entry.ai}) must be a non-negative number`);
  }
  return entry.count;
}
