import { count, percent } from '../../src/format/figures.js';
import type { StageSummary } from '../../src/metrics/stage-summary.js';
import type { SimStats } from '../simulation/simulated-ai-system.js';
import { makeInvoice } from '../simulation/reference-labeler.js';
import type { DemoService } from './demo-service.js';
import { invoicesOf, type Round, type Traffic } from './journey-traffic.js';
import { textTable } from './text-table.js';

/** The journey's closing lines beyond the shared tables: transitions, guard evidence, the checks. */

/** A stage change as `GET /v1/use-cases/:id/transitions` lists it. */
export interface TransitionLine {
  fromStage: string | null;
  toStage: string;
  stageVersion: number;
  actor: string;
  reason: string;
  forced: boolean;
  snapshot: unknown;
  approvedBy?: string[] | null;
}

/** The guard verdict a guard's transition keeps as its evidence. */
export interface GuardEvidence {
  window: number;
  checks: Array<{ name: string; threshold: number; actual: number | null; samples: number; trips: boolean }>;
}

export function guardCheckLines(guard: GuardEvidence | undefined): string[] {
  if (!guard) return ['  (no guard verdict in the transition)'];
  return textTable(
    ['check', 'threshold', 'actual', 'over the last', 'trips'],
    guard.checks.map((c) => [
      c.name,
      String(c.threshold),
      c.actual === null ? '-' : c.actual.toFixed(3),
      count(c.samples),
      c.trips ? 'yes' : 'no',
    ]),
  );
}

export function transitionLines(transitions: readonly TransitionLine[]): string[] {
  return [
    'How the use case moved (GET /v1/use-cases/:id/transitions: who, why, who approved)',
    '',
    ...textTable(
      ['version', 'from → to', 'actor', 'approved by', 'reason'],
      [...transitions]
        .sort((a, b) => a.stageVersion - b.stageVersion)
        .map((t) => [
          String(t.stageVersion),
          `${t.fromStage ?? '(created)'} → ${t.toStage}${t.forced ? ' (forced)' : ''}`,
          t.actor,
          t.approvedBy?.length ? t.approvedBy.join(', ') : '-',
          t.reason.length > 90 ? `${t.reason.slice(0, 89)}…` : t.reason,
        ]),
    ),
  ];
}

/**
 * The controller's agreement per stage against the simulation's own tally for the same invoices:
 * those where a person decided (or audited) and the AI answered, as the controller compares them.
 */
export function checkLines(
  stages: readonly StageSummary[],
  sim: SimStats,
  service: DemoService,
  traffic: Traffic,
  phases: ReadonlyArray<{ stage: string; rounds: Round[] }>,
): string[] {
  const audited = new Set(service.audits.map((a) => a.requestId));
  const lines: string[] = [];
  for (const stage of ['shadow', 'human-reviewed', 'limited-autonomous']) {
    const summary = stages.find((s) => s.stage === stage);
    if (!summary || summary.samples === 0) continue;
    let answered = 0;
    let agreed = 0;
    for (const phase of phases.filter((p) => p.stage === stage)) {
      for (const i of invoicesOf(phase.rounds)) {
        const { requestId } = makeInvoice(i);
        const a = traffic.answers.get(i);
        if (a?.decidedBy === 'ai' && !audited.has(requestId)) continue;
        const r = sim.byRequest[requestId];
        if (!r || r.decision === null) continue;
        answered++;
        if (r.agreed) agreed++;
      }
    }
    const measured = weightedAgreement(summary);
    lines.push(
      `  ${stage}: the controller measured ${percent(measured, 2)} on ${count(summary.samples)} samples; the simulation's own tally for those invoices is ${percent(answered === 0 ? null : agreed / answered, 2)} on ${count(answered)}`,
    );
  }
  return lines;
}

function weightedAgreement(stage: StageSummary): number | null {
  let agreed = 0;
  let samples = 0;
  for (const c of stage.cohorts) {
    if (c.agreement === null) continue;
    agreed += c.agreement * c.samples;
    samples += c.samples;
  }
  return samples === 0 ? null : agreed / samples;
}

/** Paths where the demo plan differs from the example plan, with both values (`ai.url` aside). */
export function planDifferences(example: unknown, demo: unknown, path = ''): string[] {
  if (path === 'ai.url') return [];
  if (isObject(example) && isObject(demo)) {
    const keys = [...new Set([...Object.keys(example), ...Object.keys(demo)])];
    return keys.flatMap((k) => planDifferences(example[k], demo[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(example) === JSON.stringify(demo)
    ? []
    : [
        `${path}: ${JSON.stringify(example) ?? 'unset'} in the example plan, ${JSON.stringify(demo) ?? 'unset'} here`,
      ];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
