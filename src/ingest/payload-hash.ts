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
  return payloadHashes(d).full;
}

/**
 * The payload hash and, computed when first asked, the hash of the same payload without its human
 * side (what a mirror that only adds the human decision must match). Both come from one canonical
 * pass over input and context: they are most of the text, and ingest hashes every decision it
 * stores; the second is needed only for a request already stored.
 */
export function payloadHashes(d: MirroredDecision): { full: string; bare: () => string } {
  const context = canonicalJson(d.context ?? {}, 'integers-first');
  const input = canonicalJson(d.input, 'integers-first');
  const human = d.human ? canonicalJson(d.human.decision, 'integers-first') : 'null';
  const full = sha256(`{"context":${context},"human":${human},"input":${input}}`);
  let bare: string | undefined = d.human ? undefined : full;
  return { full, bare: () => (bare ??= sha256(`{"context":${context},"human":null,"input":${input}}`)) };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
