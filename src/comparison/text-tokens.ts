/**
 * The tokens of a text for `token-f1` and `rouge-l`: Unicode NFKC, case-folded as normalize-text.ts
 * folds, then each run of letters, marks and digits is a token, except in scripts written without
 * spaces (Han, Hiragana, Katakana), where each character is one. Punctuation and spaces separate
 * tokens and are dropped: "Refund issued, 3 days." gives refund, issued, 3, days.
 * At most `maxTokens` are read; the text is walked only as far as they go.
 */
export function textTokens(text: string, maxTokens = Number.POSITIVE_INFINITY): string[] {
  const folded = text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  const tokens: string[] = [];
  if (maxTokens <= 0) return tokens;
  const pattern = new RegExp(TOKEN);
  for (let match = pattern.exec(folded); match !== null; match = pattern.exec(folded)) {
    tokens.push(match[0]);
    if (tokens.length >= maxTokens) break;
  }
  return tokens;
}

const UNSPACED = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}`;
const TOKEN = new RegExp(String.raw`[${UNSPACED}]|(?:(?![${UNSPACED}])[\p{L}\p{M}\p{N}])+`, 'gu');
