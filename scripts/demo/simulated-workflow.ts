import type { IngestResult } from '../../src/contracts/decision-contracts.js';
import { makeInvoice, referenceLabel } from '../../src/simulation/reference-labeler.js';
import { stableUnit } from '../../src/simulation/stable-hash.js';
import type { ApiClient } from './api-client.js';

/**
 * A SIMULATED invoice workflow service: synthetic invoices, decided by a
 * simulated clerk (the reference labeler), mirrored to the controller over
 * its HTTP API in batches, as a real service would. Every tenth invoice is
 * mirrored before the clerk has decided; the clerk's decision for it is sent
 * later through the late-human endpoint.
 */

export interface WorkflowPlan {
  useCase: string;
  labels: string[];
  decisions: number;
  batch: number;
}

export interface MirrorProgress {
  sent: number;
  aiCallsOwed: number;
}

export interface MirrorReport extends MirrorProgress {
  accepted: number;
  duplicates: number;
  /** Invoices mirrored without the clerk's decision; `sendLateDecisions` sends it. */
  late: number[];
  /** What resending the first batch, as a retrying client would, returned. */
  resend: IngestResult & { size: number };
}

export interface LateReport {
  sent: number;
  /** The AI had answered already, so the decision was compared as it arrived. */
  comparedOnArrival: number;
  /** Not compared on arrival: the AI call was still running (it compares when the AI answers) or had failed. */
  notCompared: number;
}

/** Invoices numbered i with i % 10 === 9 are the late ones: 10%, spread over every batch. */
export function decidedLate(i: number): boolean {
  return i % 10 === 9;
}

/** The simulated clerk: the reference label, a clerk name and a handling time, all fixed per invoice. */
export function clerkDecision(i: number, labels: string[]) {
  const invoice = makeInvoice(i);
  return {
    decision: referenceLabel(invoice.input, labels),
    decidedBy: `simulated-clerk-${1 + Math.floor(stableUnit('clerk', i) * 6)}`,
    handlingMs: Math.round(30_000 + stableUnit('handling', i) * 210_000),
  };
}

function mirrored(plan: WorkflowPlan, i: number) {
  const invoice = makeInvoice(i);
  return {
    useCase: plan.useCase,
    requestId: invoice.requestId,
    input: invoice.input,
    context: invoice.context,
    ...(decidedLate(i) ? {} : { human: clerkDecision(i, plan.labels) }),
  };
}

/** Mirrors every invoice in batches, then resends the first batch to show that a retry changes nothing. */
export async function mirrorInvoices(
  api: ApiClient,
  plan: WorkflowPlan,
  onProgress: (p: MirrorProgress) => void = () => {},
): Promise<MirrorReport> {
  const totals = { sent: 0, accepted: 0, duplicates: 0, aiCallsOwed: 0 };
  const late: number[] = [];
  let first: { decisions: unknown[] } | null = null;
  for (let start = 0; start < plan.decisions; start += plan.batch) {
    const size = Math.min(plan.batch, plan.decisions - start);
    const indexes = Array.from({ length: size }, (_, k) => start + k);
    const body = { decisions: indexes.map((i) => mirrored(plan, i)) };
    first ??= body;
    const result = await api.post<IngestResult>('/v1/decisions', body);
    totals.sent += size;
    totals.accepted += result.accepted;
    totals.duplicates += result.duplicates;
    totals.aiCallsOwed += result.aiCallsOwed;
    late.push(...indexes.filter(decidedLate));
    onProgress({ sent: totals.sent, aiCallsOwed: totals.aiCallsOwed });
  }
  const again = await api.post<IngestResult>('/v1/decisions', first);
  return { ...totals, late, resend: { ...again, size: first?.decisions.length ?? 0 } };
}

/**
 * The clerk's late decisions, a few requests at a time, each once `ready(i)`
 * resolves (the demo waits until the AI has likely answered, so most arrive
 * second, as late decisions do in a real workflow).
 */
export async function sendLateDecisions(
  api: ApiClient,
  plan: WorkflowPlan,
  late: number[],
  ready: (i: number) => Promise<void> = async () => {},
  parallel = 8,
): Promise<LateReport> {
  const report: LateReport = { sent: 0, comparedOnArrival: 0, notCompared: 0 };
  let next = 0;
  const sender = async () => {
    while (next < late.length) {
      const i = late[next++]!;
      await ready(i);
      const path = `/v1/decisions/${plan.useCase}/${makeInvoice(i).requestId}/human`;
      const outcome = await api.post<{ compared: boolean }>(path, clerkDecision(i, plan.labels));
      report.sent++;
      if (outcome.compared) report.comparedOnArrival++;
      else report.notCompared++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, late.length) }, sender));
  return report;
}
