import type { StageSummary } from '../../src/metrics/stage-summary.js';
import type { ShadowCallCounters } from '../../src/shadow/shadow-worker.js';
import type { MeasuredProgress } from './progress.js';

/**
 * What the demo watches while the shadow loop runs. AI calls done come from
 * the in-process worker's counters (free to read); samples and agreement from
 * the controller's metrics API, read again only after eight times as long as
 * the last read took (and at least `minRefreshMs`): on PGlite a metrics read
 * competes with the shadow calls for the one database connection, so the
 * display may take at most about a ninth of it.
 */
export class ShadowWatch {
  private last: { at: number; tookMs: number; stage: StageSummary | undefined } | null = null;
  private pending: Promise<StageSummary | undefined> | null = null;

  constructor(
    private readonly readStage: () => Promise<StageSummary | undefined>,
    private readonly counters: Pick<ShadowCallCounters, 'answered' | 'failed'>,
    private readonly minRefreshMs = 900,
  ) {}

  /** AI calls that ended in this process: answered, or failed after the last attempt. */
  aiCallsDone(): number {
    return this.counters.answered + this.counters.failed;
  }

  async measured(): Promise<MeasuredProgress> {
    const stale =
      !this.last || Date.now() - this.last.at >= Math.max(this.minRefreshMs, 8 * this.last.tookMs);
    const stage = stale ? await this.read() : this.last!.stage;
    return { ...measuredProgress(stage), aiCallsDone: this.aiCallsDone() };
  }

  /** Reads the stage now (and refreshes what `measured` shows). */
  read(): Promise<StageSummary | undefined> {
    const startedAt = Date.now();
    this.pending ??= this.readStage()
      .then((stage) => {
        this.last = { at: Date.now(), tookMs: Date.now() - startedAt, stage };
        return stage;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }

  async untilAiCallsDone(count: number, deadline: number): Promise<void> {
    while (this.aiCallsDone() < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out: ${count - this.aiCallsDone()} of ${count} AI calls have not ended`);
      }
      await sleep(100);
    }
  }

  /** Until every decision is stored and none waits for either side. */
  async untilSettled(decisions: number, deadline: number): Promise<StageSummary> {
    for (;;) {
      const stage = await this.read();
      if (stage && stage.decisions === decisions && stage.pendingAi === 0 && stage.pendingHuman === 0) {
        return stage;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out: ${stage?.pendingAi ?? '?'} AI calls and ${stage?.pendingHuman ?? '?'} human decisions still pending`,
        );
      }
      await sleep(500);
    }
  }
}

/** The controller's side of the progress line, from one stage's summary (the sample-weighted agreement of its cohorts). */
export function measuredProgress(stage: StageSummary | undefined): MeasuredProgress {
  if (!stage) return { aiCallsDone: 0, compared: 0, agreement: null };
  let agreed = 0;
  let samples = 0;
  for (const c of stage.cohorts) {
    if (c.agreement === null) continue;
    agreed += c.agreement * c.samples;
    samples += c.samples;
  }
  return {
    aiCallsDone: stage.cohorts.reduce((n, c) => n + c.aiCalls, 0),
    compared: stage.samples,
    agreement: samples > 0 ? agreed / samples : null,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
