/**
 * Canonical form of free text for the `normalized-text` comparator: Unicode NFKC, full case
 * folding, trimmed, internal whitespace collapsed to one space, and sentence punctuation at the
 * end removed ("Approve." and " approve! " both become "approve").
 *
 * JavaScript has no case-fold primitive; upper-then-lower casing approximates Unicode full case
 * folding (ß → ss, final sigma → σ) and the final NFKC pass re-composes what casing decomposed.
 */
export function normalizeText(text: string): string {
  const folded = text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  return folded.replace(/\s+/gu, ' ').replace(TRAILING_PUNCTUATION, '').trim();
}

/** Whitespace and sentence-ending punctuation (ASCII and CJK) at the end of the text. */
const TRAILING_PUNCTUATION = /[\s.!?,;:。、]+$/u;
