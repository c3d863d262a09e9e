/**
 * What an AI answer may claim, and so what a plan's prices may make a call cost: the numbers the
 * decisions' columns and the rollups' sums hold with room to spare.
 */

/**
 * Token counts per call: far beyond any model's context (int columns hold 2^31; the rollups sum
 * them in bigint).
 */
export const MAX_TOKENS = 100_000_000;
/** USD per call, whether the AI reported it or the plan's price table gave it (the rollups sum it). */
export const MAX_COST_USD = 1_000;
/**
 * Characters (code points) a free-text decision may hold, at most: a plan's `maxLength` is bounded
 * by it, so no decision, human or AI, makes a comparison or a stored row larger than this.
 */
export const MAX_TEXT_LENGTH = 20_000;
