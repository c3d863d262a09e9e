import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import type { MirroredDecision } from '../contracts/decision-contracts.js';

/**
 * The hash a retry must match: the payload as the workflow sent it, before any redaction.
 * Of the human side only the decision counts: who decided and how long it took are
 * circumstances a retry may measure again, not a different decision (the first ones are kept).
 *
 * Stored hashes must stay comparable forever: the text hashed uses the `integers-first` key order
 * (what `JSON.stringify` of an object rebuilt with sorted keys gives), written in one pass.
 */
export function payloadHash(d: MirroredDecision): string {
  const text =
    `{"context":${canonicalJson(d.context ?? {}, 'integers-first')},` +
    `"human":${d.human ? canonicalJson(d.human.decision, 'integers-first') : 'null'},` +
    `"input":${canonicalJson(d.input, 'integers-first')}}`;
  return createHash('sha256').update(text).digest('hex');
}
