import { findEmailAddresses } from './email-addresses.js';

/**
 * Detectors of personal data inside free text. Each finds candidates with a regular expression
 * and confirms them where a check exists (Luhn for cards, mod-97 for IBANs), so a number that
 * merely looks like one is left alone. Matches are replaced by a marker naming what was there.
 *
 * They are heuristics, tuned to miss dates, times, amounts and ids rather than catch every
 * national phone format: a value that must never be stored belongs in `redact.fields`.
 */

export const PATTERN_NAMES = ['email', 'card', 'iban', 'phone'] as const;
export type PatternName = (typeof PATTERN_NAMES)[number];

/** Replaces each confirmed match in `text` by `marker`, in time (near) linear in the text. */
type Detector = (text: string, marker: string) => string;

/**
 * A regular expression, each match confirmed by `confirm` when given. The expressions are written
 * so that no start position can backtrack through more than a bounded number of paths: every
 * quantifier is bounded, and where two could share a character (digit groups within a run of
 * digits) the split is made unique with lookaheads.
 */
function byRegex(regex: RegExp, confirm?: (match: string) => boolean): Detector {
  return (text, marker) => text.replace(regex, (match) => (!confirm || confirm(match) ? marker : match));
}

function maskEmailAddresses(text: string, marker: string): string {
  let out = '';
  let last = 0;
  for (const [start, end] of findEmailAddresses(text)) {
    out += text.slice(last, start) + marker;
    last = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

const digitsOf = (text: string) => text.replace(/\D/g, '');

/** The Luhn checksum of payment card numbers. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: country code and check digits moved to the end, letters as 10–35, the number mod 97 is 1. */
export function passesIbanCheck(iban: string): boolean {
  const compact = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

const DETECTORS: Record<PatternName, Detector[]> = {
  email: [maskEmailAddresses],
  // Printed upper case, either compact or in groups of four separated by single spaces.
  iban: [
    byRegex(
      /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g,
      passesIbanCheck,
    ),
  ],
  // 13 to 19 digits, optionally separated by single spaces or dashes.
  card: [byRegex(/(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])/g, (m) => passesLuhn(digitsOf(m)))],
  phone: [
    // International: +CC or 00CC, then 2–6 groups of 1–4 digits (an area code may be in
    // parentheses); 8–17 digits. A group takes 4 digits while more follow in its run, else the
    // rest of the run: a run is split one way only (the fewest groups, which reach furthest).
    byRegex(
      /(?<![\w+])(?:\+|00)\d{1,3}(?:[ .-]?\(?(?:\d{4}(?=\d)|\d{1,4}(?!\d))\)?){2,6}(?!\w)/g,
      (m) => digitsOf(m).length >= 8 && digitsOf(m).length <= 17,
    ),
    // North American: (202) 555-0143, 202-555-0143, 202.555.0143 (separators required).
    byRegex(/(?<![\w+.-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])/g),
    // National with a trunk 0: 030 1234567, 06 12 34 56 78, 07911 123456; 9–12 digits in 1–4
    // groups of 2–8 after the area code. As above, a run is split one way only: 8 digits while at
    // least 2 follow, 7 when exactly 2 follow, else the rest of the run.
    byRegex(
      /(?<![\w+.-])0\d{1,4}(?:[ -]?(?:\d{8}(?=\d{2})|\d{7}(?=\d{2}(?!\d))|\d{2,8}(?!\d))){1,4}(?![\w.-])/g,
      (m) => digitsOf(m).length >= 9 && digitsOf(m).length <= 12,
    ),
  ],
};

/** E-mail first (an address may hold digits), then IBAN and card before the looser phone formats. */
const ORDER: PatternName[] = ['email', 'iban', 'card', 'phone'];

export const patternMarker = (name: PatternName) => `[${name}]`;

/**
 * Characters of one string the patterns read: past them the rest of the string is replaced by
 * `UNSCANNED`, so a string's cost is bounded whatever its length.
 */
export const MAX_SCANNED_CHARS = 256 * 1024;
export const UNSCANNED = '[unscanned]';
/**
 * A match cut by the limit goes with the rest: the cut moves back over characters a match may
 * hold, up to the length of the longest IBAN, card or phone match (a longer run is cut as it is).
 */
const CUT_BACKOFF = 64;
const MATCH_CHARACTER = /[A-Za-z0-9@._%+() -]/;

/** `text` with every confirmed match of `patterns` replaced by its marker. */
export function maskPatterns(
  text: string,
  patterns: readonly PatternName[],
  maxScanned = MAX_SCANNED_CHARS,
): string {
  if (patterns.length === 0) return text;
  const cut = scanLimit(text, maxScanned);
  let out = cut < text.length ? text.slice(0, cut) : text;
  for (const name of ORDER) {
    if (!patterns.includes(name)) continue;
    for (const detector of DETECTORS[name]) out = detector(out, patternMarker(name));
  }
  return cut < text.length ? out + UNSCANNED : out;
}

function scanLimit(text: string, maxScanned: number): number {
  if (text.length <= maxScanned) return text.length;
  let cut = maxScanned;
  const floor = cut - CUT_BACKOFF;
  while (cut > floor && MATCH_CHARACTER.test(text.charAt(cut - 1))) cut--;
  // Never split a surrogate pair: half of one cannot be stored.
  const last = text.charCodeAt(cut - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut - 1 : cut;
}
