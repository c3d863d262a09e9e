import { referenceLabel } from './reference-labeler.js';
import { stableIndex, stableUnit } from './stable-hash.js';
import { agentReply, isTicketInput, simulatedDraft } from './support-tickets.js';

/**
 * What the simulated AI system does with one call, as a pure function of its
 * options, the request id, the input and the attempt number. Nothing here is
 * a model: the "AI" returns the reference label with probability `agreement`
 * (the reference label: see `referenceLabel`, which a test can set per request
 * with an input field `referenceLabel`), or, with `alwaysAnswer`, one label
 * whatever the request. For text decisions (drafts), an input field `draft` holding text is the
 * answer, whatever the labels: the test that sends it knows what the AI drafted.
 */

export type SimFailure = 'none' | 'http-500' | 'timeout' | 'malformed-json' | 'huge' | 'wrong-label';
export type SimRange = number | { min: number; max: number };

export interface SimAnswerOptions {
  /** Labels the simulated AI chooses from. */
  labels: string[];
  /** Probability of returning the reference label (for a support ticket: of an acceptable draft). */
  agreement: number;
  latencyMs: SimRange;
  /** Fraction of calls answered with HTTP 500. */
  errorRate: number;
  /**
   * false (default): the same requests fail on every attempt, so errors show
   * in the error rate; true: drawn per attempt, so a retry usually succeeds.
   */
  transientErrors: boolean;
  failure: SimFailure;
  /** Fixed, a range, or null for a spread that is higher when the AI agrees. */
  confidence: SimRange | null;
  seed: string;
  /**
   * The "majority trap": when set, the AI answers this label to every request it answers
   * (`agreement` is then ignored). On traffic where 90% of the requests are `approve`, an AI that
   * always answers `approve` agrees 90% of the time and catches none of the other labels. Must be
   * one of `labels`.
   */
  alwaysAnswer?: string;
  /**
   * An AI that fails on the hard cases: requests whose reference label is in this list are
   * answered HTTP 500 on every attempt, so the controller's call fails for good. Each must be one
   * of `labels`; empty or unset: no such failures.
   */
  failOnReference?: string[];
}

export type SimOutcome =
  | {
      kind: 'answer';
      decision: string;
      reference: string;
      agreed: boolean;
      confidence: number;
      latencyMs: number;
    }
  | { kind: 'http-500' | 'malformed-json' | 'huge' | 'wrong-label'; latencyMs: number }
  | { kind: 'timeout' };

/** A label that is in no plan's label list, for the `wrong-label` failure. */
export const WRONG_LABEL = 'sim-unknown-label';

export function simulateOutcome(
  o: SimAnswerOptions,
  requestId: string,
  input: unknown,
  attempt: number,
): SimOutcome {
  const u = (what: string, ...more: Array<string | number>) => stableUnit(o.seed, requestId, what, ...more);
  if (o.failure === 'timeout') return { kind: 'timeout' };
  const latencyMs = pick(o.latencyMs, u('latency'));
  if (o.failure !== 'none') return { kind: o.failure, latencyMs };
  const errorDraw = o.transientErrors ? u('error', attempt) : u('error');
  if (errorDraw < o.errorRate) return { kind: 'http-500', latencyMs };

  const draft = draftOf(input);
  if (draft !== null) {
    return { kind: 'answer', decision: draft, reference: draft, agreed: true, confidence: 0.9, latencyMs };
  }
  if (isTicketInput(input)) {
    const { draft, acceptable } = simulatedDraft(input, requestId, o.agreement, o.seed);
    const confidence = acceptable ? 0.7 + 0.29 * u('confidence') : 0.45 + 0.4 * u('confidence');
    return {
      kind: 'answer',
      decision: draft,
      reference: agentReply(input),
      agreed: acceptable,
      confidence: round(confidence, 3),
      latencyMs,
    };
  }
  const reference = referenceLabel(input, o.labels);
  if (o.failOnReference?.includes(reference)) return { kind: 'http-500', latencyMs };
  const others = o.labels.filter((l) => l !== reference);
  let decision: string;
  if (o.alwaysAnswer !== undefined) decision = o.alwaysAnswer;
  else if (others.length === 0 || u('agree') < o.agreement) decision = reference;
  else decision = others[stableIndex(others.length, o.seed, requestId, 'other')]!;
  const agreed = decision === reference;
  const spread = u('confidence');
  const confidence =
    o.confidence === null
      ? agreed
        ? 0.7 + 0.29 * spread
        : 0.45 + 0.4 * spread
      : pick(o.confidence, spread, 2);
  return { kind: 'answer', decision, reference, agreed, confidence: round(confidence, 3), latencyMs };
}

/** The draft an input asks the simulated AI to answer (`input.draft`, text), else null. */
function draftOf(input: unknown): string | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null;
  const draft = (input as Record<string, unknown>).draft;
  return typeof draft === 'string' ? draft : null;
}

function pick(range: SimRange, unit: number, digits = 0): number {
  if (typeof range === 'number') return range;
  return round(range.min + unit * (range.max - range.min), digits);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
