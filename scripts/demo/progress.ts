import { count, percent } from '../../src/format/figures.js';

/**
 * What the demo shows while it runs: what the workflow sent, what the example
 * service's SDK delivered and the service's clerk still holds, and what the controller reports.
 */
export interface ProgressSnapshot {
  /** Invoices the simulated workflow sent to the service (retries not counted). */
  sent: number;
  total: number;
  /** Decisions the SDK delivered to the controller (its `sent` counter). */
  mirrored: number;
  /** AI calls the controller will owe once every invoice is mirrored. */
  aiCallsOwed: number;
  /** AI calls that ended, answered or failed for good. */
  aiCallsDone: number;
  compared: number;
  agreement: number | null;
  /** Invoices the service's clerk set aside and has not decided yet. */
  awaitingClerk: number;
}

export type MeasuredProgress = Pick<ProgressSnapshot, 'aiCallsDone' | 'compared' | 'agreement'>;

export function progressLine(s: ProgressSnapshot, elapsedMs: number): string {
  return [
    `  ${(elapsedMs / 1000).toFixed(1).padStart(5)} s`,
    `sent ${count(s.sent)}/${count(s.total)}`,
    `SDK sent ${count(s.mirrored)}`,
    `AI calls done ${count(s.aiCallsDone)}/${count(s.aiCallsOwed)}`,
    `compared ${count(s.compared)}`,
    `agreement ${percent(s.agreement)}`,
    `awaiting clerk ${count(s.awaitingClerk)}`,
  ].join(' | ');
}

interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Prints the progress line about once a second: rewritten in place on a
 * terminal, else as a new line whenever it changed. `say` prints other lines
 * without tearing the progress line.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private shown = '';
  private reading: Promise<void> | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly out: Out,
    private readonly read: () => Promise<ProgressSnapshot>,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (!this.stopped) this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  say(line: string): void {
    if (this.out.isTTY && this.shown !== '') this.out.write('\r\x1b[2K');
    this.out.write(`${line}\n`);
    if (this.out.isTTY && this.shown !== '') this.out.write(this.shown);
  }

  /** Stops the timer and prints the last snapshot, so a run always ends with a progress line. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reading;
    await this.tick(true);
    if (this.out.isTTY && this.shown !== '') this.out.write('\n');
    this.shown = '';
  }

  private async tick(final = false): Promise<void> {
    if (this.reading && !final) return;
    const reading = this.read().then(
      (snapshot) => this.show(progressLine(snapshot, Date.now() - this.startedAt)),
      () => {}, // a missed reading is skipped; the next one catches up
    );
    this.reading = reading;
    await reading;
    this.reading = null;
  }

  private show(line: string): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.shown = line;
      return;
    }
    // without a terminal only the counts decide whether a line is new, not the clock
    const counts = line.slice(line.indexOf('|'));
    if (counts !== this.shown) this.out.write(`${line}\n`);
    this.shown = counts;
  }
}
