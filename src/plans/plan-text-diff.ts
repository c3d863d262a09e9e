import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

/** Unchanged lines shown around each change, as `diff -u` does. */
const DIFF_CONTEXT = 3;

/**
 * `diff -u` of two plan texts with `---`/`+++` headers, without a final newline; empty when equal.
 * What `shadowgate plan diff` prints and `GET /v1/changes/:id` answers for a pending plan.
 */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string): string {
  if (oldText === newText) return '';
  const patch = createTwoFilesPatch(oldLabel, newLabel, oldText, newText, undefined, undefined, {
    context: DIFF_CONTEXT,
    stripTrailingCr: true,
    headerOptions: FILE_HEADERS_ONLY,
  }).replace(/\n$/, '');
  // Texts can differ where lines (read without their CR) cannot show it.
  return patch.includes('\n@@ ') ? patch : `${patch}\n(the texts differ only in line endings)`;
}
