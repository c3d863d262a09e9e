/**
 * E-mail addresses in free text, found by expanding around each `@`: the local part is the run of
 * `[A-Za-z0-9._%+-]` just before it, the domain the longest `label(.label)*.tld` just after it
 * (labels `[A-Za-z0-9-]+`, a tld of two or more letters). The spans are those of the regular
 * expression `[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}` applied left to
 * right, found in time linear in the text: neither run may hold an `@`, so each character is read
 * by at most the `@` before it and the one after it (that expression backtracks through a long
 * run of local-part characters once per start, quadratic in the run).
 */

/** `[start, end)` of each address, in order and not overlapping. */
export function findEmailAddresses(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  // A local part never reaches back into the previous address.
  let previousEnd = 0;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > previousEnd && isLocalPart(text.charCodeAt(start - 1))) start--;
    if (start === at) continue;
    const end = domainEnd(text, at + 1);
    if (end === undefined) continue;
    spans.push([start, end]);
    previousEnd = end;
    at = end - 1;
  }
  return spans;
}

/** Where the domain starting at `from` ends: after the last tld that follows only whole labels. */
function domainEnd(text: string, from: number): number | undefined {
  let end: number | undefined;
  let i = labelEnd(text, from);
  if (i === from) return undefined;
  while (text.charCodeAt(i) === DOT) {
    const label = i + 1;
    let letters = label;
    while (isLetter(text.charCodeAt(letters))) letters++;
    if (letters - label >= 2) end = letters;
    i = labelEnd(text, letters);
    if (i === label) break;
  }
  return end;
}

function labelEnd(text: string, from: number): number {
  let i = from;
  while (isLabel(text.charCodeAt(i))) i++;
  return i;
}

const DOT = 0x2e;

const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLabel = (c: number) => isLetter(c) || isDigit(c) || c === 0x2d;
/** `.`, `_`, `%`, `+` beside the label characters. */
const isLocalPart = (c: number) => isLabel(c) || c === DOT || c === 0x5f || c === 0x25 || c === 0x2b;
