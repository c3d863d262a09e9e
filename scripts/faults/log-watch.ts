/**
 * Reads a controller's log as it is written (pino JSON lines) and keeps the lines that say the
 * database refused what the code asked: a column, table or function the schema does not have,
 * a constraint the code did not expect, and every error-level line. A rolling upgrade must
 * produce none.
 */

/** SQLSTATE classes and messages of a schema the code does not match. */
const SCHEMA_TROUBLE =
  /\b(42703|42P01|42883|42804|23502|23514|column .* does not exist|relation .* does not exist|function .* does not exist|violates (not-null|check) constraint|is of type .* but expression)/i;
/** Enough to show what went wrong; the count is kept in full. */
const KEEP_LINES = 20;
const MAX_LINE = 2_000;

export class LogWatch {
  /** Error-level lines (pino level 50 and above), and any line naming a schema mismatch. */
  readonly troubles: string[] = [];
  count = 0;
  private partial = '';

  readonly onOutput = (chunk: string): void => {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = (lines.pop() ?? '').slice(-MAX_LINE);
    for (const line of lines) this.line(line);
  };

  private line(line: string): void {
    let level = 0;
    try {
      level = Number((JSON.parse(line) as { level?: unknown }).level) || 0;
    } catch {
      // Not JSON: a stack trace or a runtime's own message, judged by its words alone.
    }
    if (level >= 50 || SCHEMA_TROUBLE.test(line)) {
      this.count++;
      if (this.troubles.length < KEEP_LINES) this.troubles.push(line.slice(0, MAX_LINE));
    }
  }
}
