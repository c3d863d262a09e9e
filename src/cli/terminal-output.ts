import { withoutControls } from '../contracts/safe-text.js';

/**
 * Everything the CLI writes goes through here. What it prints comes from the controller, and from
 * there from owners, release managers, ingest clients and AI systems: a control character in it
 * could move the cursor over lines already printed, retitle the window or write the clipboard
 * (OSC 52), and a bidi override could show text reordered. So every write drops them all but
 * line feeds and tabs; a carriage return becomes a line feed, so nothing is overwritten.
 */
export function terminalText(text: string): string {
  return withoutControls(text.replace(/\r\n?/g, '\n'), 'text');
}

export function print(text: string): void {
  const safe = terminalText(text);
  process.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

export function printError(text: string): void {
  const safe = terminalText(text);
  process.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Characters JSON.stringify leaves raw that a terminal acts on: DEL, C1 and the bidi controls. */
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `--json` output: the same data once parsed, with every control character written as a `\u`
 * escape (JSON.stringify escapes only those below U+0020), so it prints as it is.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function printJson(value: unknown): void {
  print(jsonText(value));
}
