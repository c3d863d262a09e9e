import type { StageSummary } from '../../src/metrics/stage-summary.js';
import { makeInvoice } from '../simulation/reference-labeler.js';
import type { DemoService } from './demo-service.js';
import type { DemoStage } from './demo-setup.js';
import { type Answered, clerkDecidesLater, sendInvoices, type WorkflowPlan } from './simulated-workflow.js';

/**
 * The journey's traffic: invoices through the example service a round at a time (the clerk
 * decides those set aside, the SDK delivers), then a wait until the controller has stored and
 * compared every one; and what the service answered, kept per invoice for the phase tallies.
 */

export interface Traffic {
  /** Invoices sent so far (invoice numbers 0 .. sent − 1). */
  sent: number;
  /** What the service answered for each invoice. */
  answers: Map<number, Answered>;
}

export interface Round {
  first: number;
  count: number;
}

/** Sends invoices `traffic.sent` .. + n − 1 and waits until the controller has settled them. */
export async function sendRound(
  stage: DemoStage,
  service: DemoService,
  workflow: Omit<WorkflowPlan, 'decisions' | 'first'>,
  traffic: Traffic,
  n: number,
  strict = false,
): Promise<Round> {
  const plan = { ...workflow, first: traffic.sent, decisions: n };
  const report = await sendInvoices(plan);
  for (const [i, a] of report.decidedHow) traffic.answers.set(i, a);
  await clerkDecidesLater(plan, report.setAsideAt, report.answers, 8, traffic.answers);
  const round = { first: traffic.sent, count: n };
  traffic.sent += n;
  await settle(stage, service, traffic, strict);
  return round;
}

/** The summaries of every stage the use case has decisions in. */
export async function stageSummaries(stage: DemoStage): Promise<StageSummary[]> {
  const { useCase } = stage.applied.plan;
  const r = await stage.keys.viewer.getJson<{ stages: StageSummary[] }>(`/v1/use-cases/${useCase}/metrics`);
  return r.stages;
}

/**
 * Until the controller holds a decision for every invoice sent and owes no AI call, and no human
 * decision but for the AI's own decisions not audited (no person ever decides those): what the
 * next gate or guard judges. An audit's verdict comes back late, so it is waited for too. Not
 * `strict`, the calls the simulated AI has failed (it fails the same invoices on every attempt)
 * may still be owed: the controller retries them on its own schedule before it gives up (and not
 * at all once the use case is disabled), and until then they count nowhere, neither as samples
 * nor as errors.
 */
async function settle(
  stage: DemoStage,
  service: DemoService,
  traffic: Traffic,
  strict: boolean,
): Promise<void> {
  // Gives up only after this long without progress: a call whose job was lost under load comes
  // back once its claim's lease ends (the AI timeout × attempts + a margin) and the sweep finds it.
  const patienceMs = 180_000;
  let deadline = Date.now() + patienceMs;
  let last = { decisions: -1, pending: Number.POSITIVE_INFINITY };
  const sent = traffic.sent;
  const byAi = [...traffic.answers.values()].filter((a) => a.decidedBy === 'ai').length;
  for (;;) {
    await service.sg.flush(10_000);
    const stages = await stageSummaries(stage);
    const decisions = stages.reduce((n, s) => n + s.decisions, 0);
    const pendingAi = stages.reduce((n, s) => n + s.pendingAi, 0);
    const pendingHuman = stages.reduce((n, s) => n + s.pendingHuman, 0);
    const failing = strict
      ? 0
      : Object.values(stage.sim.stats().byRequest).filter((r) => r.decision === null).length;
    const pending =
      Math.max(0, pendingAi - failing) + Math.max(0, pendingHuman - (byAi - service.audits.length));
    if (decisions >= sent && pending === 0) return;
    if (decisions > last.decisions || pending < last.pending) {
      last = { decisions, pending };
      deadline = Date.now() + patienceMs;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out: no progress in ${patienceMs / 1000} s; the controller holds ${decisions} of ${sent} decisions, ${pending} still wait for the AI or a person`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** How the clerks used the suggestions of invoices in `rounds` (human-reviewed, and limited-autonomous's people). */
export interface SuggestionTally {
  invoices: number;
  /** Decided by the AI alone (limited-autonomous). */
  autonomous: number;
  /** Decided by a person who had a suggestion. */
  suggested: number;
  accepted: number;
  overridden: number;
  /** Decided by a person without a suggestion (none came in time, or the AI failed). */
  withoutSuggestion: number;
}

export function suggestionTally(traffic: Traffic, rounds: readonly Round[]): SuggestionTally {
  const t: SuggestionTally = {
    invoices: 0,
    autonomous: 0,
    suggested: 0,
    accepted: 0,
    overridden: 0,
    withoutSuggestion: 0,
  };
  for (const i of invoicesOf(rounds)) {
    const a = traffic.answers.get(i);
    if (!a) continue;
    t.invoices++;
    if (a.decidedBy === 'ai') t.autonomous++;
    else if (a.suggestion === undefined) t.withoutSuggestion++;
    else {
      t.suggested++;
      if (a.suggestion === a.decision) t.accepted++;
      else t.overridden++;
    }
  }
  return t;
}

/**
 * Why a person decided an invoice in limited-autonomous, from what the SDK handed the clerk and
 * the invoice's context: the plan's boundary (riskTier low), its minConfidence, or neither (the
 * rollout share, or a model version the stage was not earned with).
 */
export function escalationReasons(
  service: DemoService,
  traffic: Traffic,
  rounds: readonly Round[],
  minConfidence: number,
): Map<string, number> {
  const reasons = new Map<string, number>();
  for (const i of invoicesOf(rounds)) {
    const a = traffic.answers.get(i);
    if (!a || a.decidedBy === 'ai') continue;
    const invoice = makeInvoice(i);
    const handed = service.desk.handed.get(invoice.requestId);
    const reason =
      handed?.suggestion === undefined
        ? 'no suggestion (the AI failed or was late)'
        : invoice.context.riskTier !== 'low'
          ? `outside the boundary (riskTier ${invoice.context.riskTier})`
          : (handed.confidence ?? 0) < minConfidence
            ? `AI confidence under ${minConfidence}`
            : 'inside the boundary, not drawn by the rollout share';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return reasons;
}

export function* invoicesOf(rounds: readonly Round[]): Generator<number> {
  for (const r of rounds) for (let i = r.first; i < r.first + r.count; i++) yield i;
}
