import { performance } from 'node:perf_hooks';
import type { Mode, Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';

/** One use case served through one SDK instance; the driver spreads decisions over its lanes in turn. */
export interface TrafficLane {
  sdk: Shadowgate;
  useCase: string;
}

export interface TrafficOptions {
  lanes: TrafficLane[];
  /** Decisions started per second, at a steady pace. */
  perSecond: number;
  /** Makes the request ids of a case its own. */
  idPrefix: string;
  labels: string[];
  /** How long the simulated human takes, ms (uniform in the range). */
  humanMs?: { min: number; max: number };
  /** Draws the human's delays and the tick sizes; a case passes its seeded generator's. */
  random?: () => number;
}

export interface DecisionRecord {
  requestId: string;
  useCase: string;
  lane: number;
  mode: Mode;
  decidedBy: 'human' | 'ai';
  /** Date.now() when decide was called. */
  at: number;
  /** decide, start to end, ms. */
  totalMs: number;
  /** The human path alone, ms (0 when the AI decided). */
  humanMs: number;
}

const TICK_MS = 20;
const MAX_PER_TICK = 50;

/**
 * A workflow deciding through the real SDK at a steady rate: each decision is a synthetic
 * invoice, decided by a simulated human (the reference label, after a few milliseconds),
 * and mirrored by the SDK as it would be in production.
 */
export class TrafficDriver {
  readonly records: DecisionRecord[] = [];
  /** decide calls that threw (the SDK promises none: only a human path's own error may propagate). */
  readonly thrown: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private issued = 0;
  private startedAt = 0;

  constructor(private readonly options: TrafficOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.startedAt = performance.now();
    this.schedule();
  }

  /** The next tick comes after TICK_MS ± half, so decisions arrive in batches of varying size. */
  private schedule(): void {
    this.timer = setTimeout(
      () => {
        this.tick();
        if (this.timer !== undefined) this.schedule();
      },
      TICK_MS * (0.5 + this.random()),
    );
  }

  /** Stops starting decisions and waits for those under way. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The request ids of the decisions that returned, per use case. */
  decidedIds(useCase: string): string[] {
    return this.records.filter((r) => r.useCase === useCase).map((r) => r.requestId);
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.options.perSecond);
    const count = Math.min(due - this.issued, MAX_PER_TICK);
    for (let i = 0; i < count; i++) this.launch(this.issued++);
  }

  private launch(n: number): void {
    const { lanes, labels, idPrefix } = this.options;
    const laneIndex = n % lanes.length;
    const lane = lanes[laneIndex]!;
    const invoice = makeInvoice(n);
    const requestId = `${idPrefix}-${n}`;
    const human = this.options.humanMs ?? { min: 2, max: 8 };
    const run = async () => {
      let humanMs = 0;
      const at = Date.now();
      const started = performance.now();
      try {
        const out = await lane.sdk.decide(
          lane.useCase,
          { requestId, input: invoice.input, context: invoice.context },
          async () => {
            const humanStarted = performance.now();
            await new Promise((resolve) =>
              setTimeout(resolve, human.min + this.random() * (human.max - human.min)),
            );
            const label = referenceLabel(invoice.input, labels);
            humanMs = performance.now() - humanStarted;
            return label;
          },
          { decidedBy: 'clerk-faults' },
        );
        this.records.push({
          requestId,
          useCase: lane.useCase,
          lane: laneIndex,
          mode: out.mode,
          decidedBy: out.decidedBy,
          at,
          totalMs: performance.now() - started,
          humanMs,
        });
      } catch (error) {
        this.thrown.push(`${requestId}: ${(error as Error)?.message ?? String(error)}`);
      }
    };
    const promise = run().finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }
}

/** The p-th percentile (0–100) of `values`, nearest rank; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
