import { distance } from 'fastest-levenshtein';
import { describe, expect, it } from 'vitest';
import { createComparator, fieldsScore } from '../../src/comparison/comparators.js';
import { checkDecision } from '../../src/comparison/decision-fit.js';
import {
  CHAR_RATIO_MAX_CHARS,
  charRatio,
  lcsLength,
  ROUGE_L_MAX_TOKENS,
  rougeL,
  textSimilarity,
  tokenF1,
} from '../../src/comparison/text-similarity.js';
import { textTokens } from '../../src/comparison/text-tokens.js';
import { MAX_TEXT_LENGTH } from '../../src/contracts/ai-answer-bounds.js';

// The worked example: human (reference) and AI sentences, as tokens.
//   human: "The cat sat on the mat."      -> the cat sat on the mat              (6 tokens)
//   ai:    "A cat sat on a mat, the end"  -> a cat sat on a mat the end          (8 tokens)
// token-f1: common tokens as a multiset: the (min 2,1 = 1), cat, sat, on, mat -> 5.
//   precision 5/8, recall 5/6, F1 = 2·5 / (6 + 8) = 10/14 = 5/7.
// rouge-l: the longest common subsequence is cat sat on mat (or cat sat on the) -> 4.
//   F1 = 2·4 / (6 + 8) = 8/14 = 4/7.
const HUMAN = 'The cat sat on the mat.';
const AI = 'A cat sat on a mat, the end';

describe('textTokens', () => {
  it('when text has case, punctuation and spacing, then tokens are the folded words and numbers', () => {
    expect(textTokens('Refund issued,  3 DAYS.')).toEqual(['refund', 'issued', '3', 'days']);
    expect(textTokens(HUMAN)).toEqual(['the', 'cat', 'sat', 'on', 'the', 'mat']);
  });

  it('when text is in a script written without spaces, then each character is a token', () => {
    expect(textTokens('返金済み OK')).toEqual(['返', '金', '済', 'み', 'ok']);
  });

  it('when a cap is given, then no more tokens than it are read', () => {
    expect(textTokens('a b c d e', 3)).toEqual(['a', 'b', 'c']);
  });
});

describe('token-f1', () => {
  it('when given the worked example, then 5/7', () => {
    expect(tokenF1(HUMAN, AI)).toBeCloseTo(5 / 7, 12);
  });

  it('when the same words come in another order, then 1 (order is ignored)', () => {
    expect(tokenF1('refund the order', 'the order refund')).toBe(1);
  });

  it('when nothing is shared, then 0; when both have no token, then 1; when one has none, then 0', () => {
    expect(tokenF1('yes', 'no')).toBe(0);
    expect(tokenF1('', '...')).toBe(1);
    expect(tokenF1('', 'text')).toBe(0);
  });
});

describe('rouge-l', () => {
  it('when given the worked example, then 4/7', () => {
    expect(rougeL(HUMAN, AI)).toBeCloseTo(4 / 7, 12);
  });

  it('when the same words come in reverse order, then only one of them is in order: 2·1/(3+3)', () => {
    expect(rougeL('a b c', 'c b a')).toBeCloseTo(1 / 3, 12);
  });

  it('when the LCS is computed on known sequences, then it is the textbook length', () => {
    // ABCBDAB and BDCABA: LCS length 4 (BCBA, BDAB, …), CLRS's example.
    const ids = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
    expect(lcsLength([ids('ABCBDAB'), ids('BDCABA')])).toBe(4);
    expect(lcsLength([[], [1, 2]])).toBe(0);
  });

  it('when texts are longer than the token cap, then only the first ROUGE_L_MAX_TOKENS of each are read', () => {
    // Equal for the first cap tokens, then entirely different: read in full they would score < 1.
    const head = Array.from({ length: ROUGE_L_MAX_TOKENS }, (_, i) => `w${i}`).join(' ');
    const human = `${head} ${'x '.repeat(5_000)}`;
    const ai = `${head} ${'y '.repeat(5_000)}`;
    expect(rougeL(human, ai)).toBe(1);
    // A larger cap asked for is not granted.
    expect(rougeL(human, ai, 10 * ROUGE_L_MAX_TOKENS)).toBe(1);
  });
});

describe('char-ratio', () => {
  it('when given kitten and sitting (Levenshtein 3), then 1 − 3/7', () => {
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(charRatio('kitten', 'sitting')).toBeCloseTo(4 / 7, 12);
  });

  it('when texts differ only in case, spacing and a final period, then 1', () => {
    expect(charRatio('  INV-2024 /  Acme. ', 'inv-2024 / acme')).toBe(1);
  });

  it('when both are empty, then 1; when one is, then 0', () => {
    expect(charRatio('', '')).toBe(1);
    expect(charRatio('', 'abc')).toBe(0);
  });

  it('when texts are longer than the character cap, then only the first CHAR_RATIO_MAX_CHARS are read', () => {
    const head = 'a'.repeat(CHAR_RATIO_MAX_CHARS);
    expect(charRatio(`${head}${'x'.repeat(MAX_TEXT_LENGTH)}`, `${head}${'y'.repeat(MAX_TEXT_LENGTH)}`)).toBe(
      1,
    );
  });
});

describe('text-similarity comparator', () => {
  it('when no threshold is set, then the score is the method’s', () => {
    const compare = createComparator({ type: 'text-similarity', method: 'token-f1' });
    expect(compare(HUMAN, AI)).toBeCloseTo(5 / 7, 12);
  });

  it('when a threshold is set, then 1 at or above it and 0 below it', () => {
    const at = createComparator({ type: 'text-similarity', method: 'rouge-l', threshold: 4 / 7 });
    const above = createComparator({ type: 'text-similarity', method: 'rouge-l', threshold: 0.5 });
    const below = createComparator({ type: 'text-similarity', method: 'rouge-l', threshold: 0.6 });
    expect(at(HUMAN, AI)).toBe(1);
    expect(above(HUMAN, AI)).toBe(1);
    expect(below(HUMAN, AI)).toBe(0);
    expect(textSimilarity('char-ratio', 1)('kitten', 'kitten.')).toBe(1);
  });

  it('when a side is not text (which the decision type refuses), then it is compared exactly', () => {
    const compare = createComparator({ type: 'text-similarity', method: 'char-ratio' });
    expect(compare(1, 1)).toBe(1);
    expect(compare('1', 1)).toBe(0);
  });
});

describe('fields with a comparator and a weight per field', () => {
  const fields = [
    { field: 'category', weight: 1 },
    { field: 'amount', comparator: { type: 'numeric' as const, tolerance: 0.5 }, weight: 1 },
    {
      field: 'reply',
      comparator: { type: 'text-similarity' as const, method: 'rouge-l' as const },
      weight: 2,
    },
  ];

  it('when each field scores by its own comparator, then the score is their weighted mean', () => {
    const human = { category: 'billing', amount: 10, reply: HUMAN };
    const ai = { category: 'billing', amount: 10.4, reply: AI };
    // (1·1 + 1·1 + 2·4/7) / 4
    expect(fieldsScore(human, ai, fields)).toBeCloseTo((2 + 8 / 7) / 4, 12);
    expect(fieldsScore(human, { ...ai, amount: 11 }, fields)).toBeCloseTo((1 + 8 / 7) / 4, 12);
  });

  it('when plain paths are listed with the list tolerance, then they score as before', () => {
    expect(fieldsScore({ a: 1, b: 'x' }, { a: 1.05, b: 'y' }, ['a', 'b'], 0.1)).toBe(0.5);
    expect(fieldsScore({ a: 1 }, { a: 1.05 }, [{ field: 'a', weight: 3 }], 0.1)).toBe(1);
  });

  it('when a text field is missing on both sides, then it agrees; on one side, then it disagrees', () => {
    const only = [fields[2]!];
    expect(fieldsScore({}, {}, only)).toBe(1);
    expect(fieldsScore({ reply: 'x' }, {}, only)).toBe(0);
  });

  it('when several fields use text-similarity, then each reads a share of one comparison’s work', () => {
    // Four rouge-l fields: each reads ROUGE_L_MAX_TOKENS / √4 tokens.
    const four = ['a', 'b', 'c', 'd'].map((field) => ({
      field,
      weight: 1,
      comparator: { type: 'text-similarity' as const, method: 'rouge-l' as const },
    }));
    const share = ROUGE_L_MAX_TOKENS / 2;
    const head = Array.from({ length: share }, (_, i) => `w${i}`).join(' ');
    const text = (tail: string) => `${head} ${tail.repeat(share)}`;
    const human = { a: text('x '), b: text('x '), c: text('x '), d: text('x ') };
    const ai = { a: text('y '), b: text('y '), c: text('y '), d: text('y ') };
    expect(fieldsScore(human, ai, four)).toBe(1);
    expect(rougeL(human.a, ai.a)).toBeLessThan(1);
  });
});

describe('checkDecision for text', () => {
  it('when a text decision is within maxLength (in code points), then it fits', () => {
    expect(checkDecision({ type: 'text', maxLength: 3 }, 'abc')).toBeNull();
    expect(checkDecision({ type: 'text', maxLength: 3 }, '😀😀😀')).toBeNull();
  });

  it('when a text decision is longer than maxLength, then its length is named and the text is not quoted', () => {
    expect(checkDecision({ type: 'text', maxLength: 3 }, 'abcd')).toBe(
      'expected text of at most 3 characters, got 4',
    );
  });

  it('when a text decision is not text, then its type is named', () => {
    expect(checkDecision({ type: 'text', maxLength: 3 }, 12)).toBe('expected text, got number 12');
    expect(checkDecision({ type: 'text', maxLength: 3 }, null)).toBe('expected text, got null');
  });

  it('when a JSON decision has a text field past its bound or not text, then the field is named', () => {
    const spec = { type: 'json' as const, textFields: { reply: { maxLength: 5 } } };
    expect(checkDecision(spec, { reply: 'hello' })).toBeNull();
    expect(checkDecision(spec, {})).toBeNull();
    expect(checkDecision(spec, { reply: 'hello!' })).toBe(
      'field "reply": expected text of at most 5 characters, got 6',
    );
    expect(checkDecision(spec, { reply: 5 })).toBe('field "reply": expected text, got number 5');
    expect(checkDecision(spec, 'hello')).toBe(
      'expected an object with the text fields reply, got string "hello"',
    );
  });
});
