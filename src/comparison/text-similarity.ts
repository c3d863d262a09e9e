import { distance } from 'fastest-levenshtein';
import { MAX_TEXT_LENGTH } from '../contracts/ai-answer-bounds.js';
import type { TextSimilarityMethod } from '../plans/plan-schema.js';
import { normalizeText } from './normalize-text.js';
import { textTokens } from './text-tokens.js';

/**
 * How alike two texts are, from 0 (nothing in common) to 1 (the same once normalised). Both sides
 * may come from a compromised AI, so every length is bounded before any work that grows with the
 * product of two lengths: each method reads at most a fixed prefix of each text (the caps below).
 * A plan's `maxLength` bounds what is stored; these caps bound what one comparison costs.
 *
 * - `token-f1`: the F1 of the two bags of tokens (SQuAD's answer F1): 2·common / (|human| + |ai|),
 *   common counting each token as often as it is on both sides. Word order is ignored.
 * - `rouge-l`: ROUGE-L's F1 (β = 1, the human as reference): 2·LCS / (|human| + |ai|), LCS the
 *   longest common subsequence of the token sequences. Word order counts, gaps are allowed.
 * - `char-ratio`: 1 − Levenshtein distance / the longer length, on the normalised characters:
 *   for short texts where a typo or a letter matters (names, references).
 *
 * Tokens are the text-tokens.ts ones (case-folded words and numbers; each CJK character is one);
 * two texts without any token (or both empty) are alike, one without and one with are not.
 */

/** Characters of each side read by any method (linear work only past the methods' own caps). */
export const MAX_COMPARED_CHARS = MAX_TEXT_LENGTH;
/**
 * Normalised characters of each side `char-ratio` reads. fastest-levenshtein is bit-parallel
 * (O(n·⌈m/32⌉)): two 4,000-character texts took about 6 ms on the 2-core machine the tests run on
 * (random letters, its worst case measured; 10,000 took 37 ms).
 */
export const CHAR_RATIO_MAX_CHARS = 4_000;
/**
 * Tokens of each side `rouge-l` reads. Its LCS is a dynamic programme over |human| × |ai| cells:
 * 1,000 × 1,000 took about 6 ms on the same machine whatever the texts (2,000 × 2,000: 23 ms).
 * About 5,000 characters of English prose.
 */
export const ROUGE_L_MAX_TOKENS = 1_000;

export type TextScore = (human: string, ai: string) => number;

/**
 * The scoring function of one method. `budget` (0 to 1] is the share of one comparison's work it
 * may use: a `fields` comparator with k text fields gives each 1/k, and since the work is
 * quadratic each side's cap shrinks by √k, so a decision costs no more than one text.
 */
export function textSimilarity(method: TextSimilarityMethod, threshold?: number, budget = 1): TextScore {
  const score = methodScore(method, Math.sqrt(Math.min(1, Math.max(budget, 0))));
  if (threshold === undefined) return score;
  return (human, ai) => (score(human, ai) >= threshold ? 1 : 0);
}

function methodScore(method: TextSimilarityMethod, scale: number): TextScore {
  switch (method) {
    case 'token-f1':
      return tokenF1;
    case 'rouge-l': {
      const cap = Math.max(1, Math.floor(ROUGE_L_MAX_TOKENS * scale));
      return (human, ai) => rougeL(human, ai, cap);
    }
    case 'char-ratio': {
      const cap = Math.max(1, Math.floor(CHAR_RATIO_MAX_CHARS * scale));
      return (human, ai) => charRatio(human, ai, cap);
    }
  }
}

/** Reads at most `maxTokens` tokens of each side (`MAX_COMPARED_CHARS` characters in any case). */
export function tokenF1(human: string, ai: string, maxTokens = Number.POSITIVE_INFINITY): number {
  const h = textTokens(human.slice(0, MAX_COMPARED_CHARS), maxTokens);
  const a = textTokens(ai.slice(0, MAX_COMPARED_CHARS), maxTokens);
  if (h.length === 0 || a.length === 0) return h.length === a.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of h) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of a) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      common++;
      counts.set(token, left - 1);
    }
  }
  return (2 * common) / (h.length + a.length);
}

/** ROUGE-L F1 on the first `maxTokens` tokens of each side. */
export function rougeL(human: string, ai: string, maxTokens = ROUGE_L_MAX_TOKENS): number {
  const cap = Math.min(maxTokens, ROUGE_L_MAX_TOKENS);
  const h = textTokens(human.slice(0, MAX_COMPARED_CHARS), cap);
  const a = textTokens(ai.slice(0, MAX_COMPARED_CHARS), cap);
  if (h.length === 0 || a.length === 0) return h.length === a.length ? 1 : 0;
  return (2 * lcsLength(tokenIds(h, a))) / (h.length + a.length);
}

/** 1 − Levenshtein distance / the longer length, on the first `maxChars` normalised characters. */
export function charRatio(human: string, ai: string, maxChars = CHAR_RATIO_MAX_CHARS): number {
  const cap = Math.min(maxChars, CHAR_RATIO_MAX_CHARS);
  const h = normalizeText(human.slice(0, MAX_COMPARED_CHARS)).slice(0, cap);
  const a = normalizeText(ai.slice(0, MAX_COMPARED_CHARS)).slice(0, cap);
  const longer = Math.max(h.length, a.length);
  if (longer === 0) return 1;
  return 1 - distance(h, a) / longer;
}

/** Both token lists as small integers (equal tokens, equal ids), so the LCS compares numbers. */
function tokenIds(h: string[], a: string[]): [Uint32Array, Uint32Array] {
  const ids = new Map<string, number>();
  const idOf = (token: string) => {
    let id = ids.get(token);
    if (id === undefined) {
      id = ids.size;
      ids.set(token, id);
    }
    return id;
  };
  return [Uint32Array.from(h, idOf), Uint32Array.from(a, idOf)];
}

/**
 * Length of the longest common subsequence: the textbook dynamic programme on two rolling rows
 * (O(|h|·|a|) time, O(|a|) space). A library was measured and not taken: @algorithm.ts/lcs's DP
 * calls a comparison closure per cell (twice as slow) and its Myers variant is slower in the worst
 * case; the callers cap both lengths at ROUGE_L_MAX_TOKENS.
 */
export function lcsLength([h, a]: [ArrayLike<number>, ArrayLike<number>]): number {
  let previous = new Uint32Array(a.length + 1);
  let current = new Uint32Array(a.length + 1);
  for (let i = 0; i < h.length; i++) {
    const token = h[i];
    for (let j = 0; j < a.length; j++) {
      const up = previous[j + 1]!;
      const left = current[j]!;
      current[j + 1] = token === a[j] ? previous[j]! + 1 : Math.max(up, left);
    }
    [previous, current] = [current, previous];
  }
  return previous[a.length]!;
}
