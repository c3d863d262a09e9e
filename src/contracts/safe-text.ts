/**
 * Text from people and programs the controller does not trust, made safe to show. Control
 * characters move a terminal's cursor, rewrite its clipboard (OSC 52) or hide what follows, and
 * the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) show text in another
 * order than it is stored. None has any business in a name or a reason: fields people type refuse
 * them (`refuseControls`), and every output that is not JSON drops them (`withoutControls`,
 * `oneLine`). Pure; linear in the text.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is matched
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is matched
const CONTROL_BUT_TEXT_BREAKS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** What a reader sees as a line break or a gap: each becomes one space in a single line. */
const BREAKS = /\r\n|[\t\n\v\f\r\u0085\u2028\u2029]/g;

/** Which controls a field may hold: none, or the tabs and line breaks of text typed on several lines. */
export type ControlPolicy = 'line' | 'text';

const pattern = (policy: ControlPolicy) => (policy === 'line' ? CONTROL : CONTROL_BUT_TEXT_BREAKS);
const global = (re: RegExp) => new RegExp(re.source, 'g');
const STRIP_ALL = global(CONTROL);
const STRIP_BUT_TEXT_BREAKS = global(CONTROL_BUT_TEXT_BREAKS);

export function hasControls(text: string, policy: ControlPolicy = 'line'): boolean {
  return pattern(policy).test(text);
}

/** The text without control characters; `text` keeps tab, line feed and carriage return. */
export function withoutControls(text: string, policy: ControlPolicy = 'line'): string {
  return text.replace(policy === 'line' ? STRIP_ALL : STRIP_BUT_TEXT_BREAKS, '');
}

/** The text on one line: line breaks and tabs become spaces, other control characters go. */
export function oneLine(text: string): string {
  return withoutControls(text.replace(BREAKS, ' '));
}

/** The problem a zod refinement reports for a field that holds a control character, or null. */
export function controlProblem(text: string, policy: ControlPolicy): string | null {
  const found = pattern(policy).exec(text);
  if (!found) return null;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  const allowed = policy === 'text' ? ' (tabs and line breaks are allowed)' : '';
  return `contains the control character U+${code} at position ${found.index}: only printable text${allowed}`;
}

/** For `z.string().superRefine(...)`: refuses a control character the policy does not allow. */
export function refuseControls(policy: ControlPolicy) {
  return (text: string, ctx: { addIssue(issue: { code: 'custom'; message: string }): void }): void => {
    const problem = controlProblem(text, policy);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}
