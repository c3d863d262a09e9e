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

interface Detector {
  regex: RegExp;
  /** Confirms a candidate; absent, every match is confirmed. */
  confirm?: (match: string) => boolean;
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
  email: [{ regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g }],
  // Printed upper case, either compact or in groups of four separated by single spaces.
  iban: [
    {
      regex:
        /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g,
      confirm: passesIbanCheck,
    },
  ],
  // 13 to 19 digits, optionally separated by single spaces or dashes.
  card: [
    {
      regex: /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])/g,
      confirm: (m) => passesLuhn(digitsOf(m)),
    },
  ],
  phone: [
    // International: +CC or 00CC, then groups (an area code may be in parentheses); 8–15 digits.
    {
      regex: /(?<![\w+])(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\w)/g,
      confirm: (m) => digitsOf(m).length >= 8 && digitsOf(m).length <= 17,
    },
    // North American: (202) 555-0143, 202-555-0143, 202.555.0143 (separators required).
    { regex: /(?<![\w+.-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])/g },
    // National with a trunk 0: 030 1234567, 06 12 34 56 78, 07911 123456; 9–12 digits.
    {
      regex: /(?<![\w+.-])0\d{1,4}(?:[ -]?\d{2,8}){1,4}(?![\w.-])/g,
      confirm: (m) => digitsOf(m).length >= 9 && digitsOf(m).length <= 12,
    },
  ],
};

/** E-mail first (an address may hold digits), then IBAN and card before the looser phone formats. */
const ORDER: PatternName[] = ['email', 'iban', 'card', 'phone'];

export const patternMarker = (name: PatternName) => `[${name}]`;

/** `text` with every confirmed match of `patterns` replaced by its marker. */
export function maskPatterns(text: string, patterns: readonly PatternName[]): string {
  let out = text;
  for (const name of ORDER) {
    if (!patterns.includes(name)) continue;
    for (const { regex, confirm } of DETECTORS[name]) {
      out = out.replace(regex, (match) => (!confirm || confirm(match) ? patternMarker(name) : match));
    }
  }
  return out;
}
