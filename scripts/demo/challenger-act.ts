import { sql } from 'drizzle-orm';
import { parseDocument } from 'yaml';
import { isHeld, type PlanApplied } from '../../src/client/controller-api.js';
import { count, criterionFigure, percent } from '../../src/format/figures.js';
import type { ChallengerView } from '../../src/promotion/challenger-view.js';
import type { Criterion } from '../../src/promotion/gate-types.js';
import type { DifferenceBounds } from '../../src/statistics/paired-difference.js';
import { makeInvoice } from '../simulation/reference-labeler.js';
import { type SimulatedAiSystem, startSimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import { DEMO_MODEL_VERSION, demoSimOptions, readPlan } from './demo-ai-system.js';
import type { DemoOptions } from './demo-options.js';
import { type DemoService, startDemoService } from './demo-service.js';
import { type DemoStage, shown } from './demo-setup.js';
import { clerkDecidesLater, sendInvoices, type WorkflowPlan } from './simulated-workflow.js';
import { type Cleanup, say, step } from './steps.js';
import { textTable } from './text-table.js';

/**
 * `npm run demo -- --challenger`: champion and challenger (README). The use case is moved to
 * limited-autonomous with its simulated AI (the champion); a plan version points it at a second
 * simulated AI that agrees with the clerks more often (the challenger, approval automatic). The
 * champion keeps answering and deciding; the challenger is asked the same invoices off the live
 * path and judged, round by round, until the controller's tick swaps it in.
 */

export const CHALLENGER_AGREEMENT = 0.99;
export const CHALLENGER_MODEL_VERSION = 'simulated-v2';
/** Invoices per round; the verdict is shown after each. */
const ROUND = 250;
/** Invoices sent after the swap, to show who answers then. */
const AFTER_SWAP = 100;
const MARGIN = 0.02;

interface Transition {
  stageVersion: number;
  from: string | null;
  to: string;
  actor: string;
  reason: string;
}

interface UseCaseView {
  stage: string;
  stageVersion: number;
  planVersion: number;
  earnedModelVersion: string | null;
  champion: { planVersion: number; aiConfig: string };
}

/** The evidence the swap was made on, as the audit log keeps it (`challenger.promoted`). */
interface SwapEvidence {
  verdict: string;
  criteria: Criterion[];
  paired: DifferenceBounds | null;
  cohort: { samples: number; agreement: number | null; modelVersion?: string | null } | null;
}

/**
 * The plan file as the challenger's plan version: `ai.url` at the second simulated AI, `challenger:
 * { approval: automatic }`, and the gates' `minDuration` (a week, two weeks: counted from the
 * challenger's start) left out so the demo ends in seconds. Everything else, comments included, as
 * in the file.
 */
export function challengerPlanText(
  text: string,
  source: string,
  aiUrl: string,
): { text: string; dropped: string[] } {
  const plan = readPlan(text, source);
  const doc = parseDocument(text);
  doc.setIn(['ai', 'url'], `${aiUrl}${new URL(plan.ai.url).pathname}`);
  const dropped: string[] = [];
  for (const stage of ['shadow', 'human-reviewed']) {
    const path = ['stages', stage, 'promoteWhen', 'minDuration'];
    const value = doc.getIn(path);
    if (value === undefined) continue;
    doc.deleteIn(path);
    dropped.push(`${stage} ${String(value)}`);
  }
  const challenger = doc.createNode({ approval: 'automatic', margin: MARGIN });
  challenger.flow = true;
  doc.set('challenger', challenger);
  const result = doc.toString();
  readPlan(result, source);
  return { text: result, dropped };
}

export async function challengerAct(
  opts: DemoOptions,
  stage: DemoStage,
  planFile: string,
  cleanup: Cleanup,
  out: (text?: string) => void,
): Promise<void> {
  const { useCase } = stage.applied.plan;
  const { keys, labels, embedded } = stage;

  // 1. The champion holds limited-autonomous. Its gates ask for weeks of evidence, so the demo forces it.
  const { release } = keys;
  for (let i = 0; i < 2; i++) {
    await step('could not promote the use case', () =>
      release.postJson(`/v1/use-cases/${useCase}/promote`, {
        reason: 'demo: the champion is taken to limited-autonomous without the weeks its gates ask for',
        force: true,
      }),
    );
  }
  const before = await keys.viewer.getJson<UseCaseView>(`/v1/use-cases/${useCase}`);
  out(
    say(
      'release manager',
      `promoted ${useCase} to human-reviewed, then to ${before.stage}, with force and a reason (the gates ask for`,
      'a week and two of evidence; a forced move is recorded as such): the simulated AI above is the champion',
    ),
  );

  // 2. The challenger: a second simulated AI, and a plan version pointing at it.
  const simOptions = {
    ...demoSimOptions({ ...opts, agreement: CHALLENGER_AGREEMENT }, labels),
    seed: 'demo-challenger',
    modelVersion: CHALLENGER_MODEL_VERSION,
  };
  const rival = await step('could not start the second simulated AI system', () =>
    startSimulatedAiSystem({ ...simOptions, host: '127.0.0.1', port: 0 }),
  );
  cleanup.add(() => rival.close());
  out(
    say(
      'simulated AI v2',
      `a second simulation on ${rival.url}/decide: gives the clerk's label for ${percent(CHALLENGER_AGREEMENT, 0)} of invoices,`,
      `fails ${percent(opts.errorRate, 0)} with HTTP 500, reports model version ${CHALLENGER_MODEL_VERSION}`,
    ),
  );
  const version2 = challengerPlanText(stage.applied.text, shown(planFile), rival.url);
  const answer = await step('could not apply the challenger plan version', () =>
    keys.owner.applyPlan(useCase, version2.text),
  );
  // An automatic swap and fewer criteria widen the AI's authority: the controller holds the plan
  // version for a release key's approval (README "Change control").
  let put: PlanApplied;
  if (isHeld(answer)) {
    const { id, rules } = answer.change;
    out(
      say(
        'product owner',
        `asked for the challenger's plan version: held as change ${id} for a release manager's approval, since it`,
        `widens the AI's authority (${rules.map((r) => ('path' in r ? r.path : r.rule)).join(', ')})`,
      ),
    );
    const approved = await step('could not approve the challenger plan version', () =>
      release.approveChange(id, 'demo: the challenger must still earn its authority beside the champion'),
    );
    put = approved.applied as PlanApplied;
    out(say('release manager', `approved change ${id} (a key other than the product owner's): applied`));
  } else {
    put = answer;
  }
  const started = (put as { challenger?: { action: string; details: { changes?: string[] } } | null })
    .challenger;
  out(
    say(
      'product owner',
      `applied plan version ${put.planVersion}: ai.url at the second simulated AI, challenger: { approval: automatic,`,
      `margin: ${MARGIN} }, and without minDuration (${version2.dropped.join(', ') || 'none'}) so the demo ends in seconds;`,
      started?.action === 'challenger.started'
        ? `the controller answered challenger.started (changes: ${(started.details.changes ?? []).join(', ')}): stage ${put.stage}, the champion still serves`
        : `the controller started no challenger (stage ${put.stage}): nothing to judge`,
    ),
  );
  if (started?.action !== 'challenger.started') return;

  // 3. Invoices through the example service, round by round, until the tick swaps the challenger in.
  const service = await step('could not start the example service', () =>
    startDemoService({
      controllerUrl: embedded.url,
      apiKey: keys.service.target.key,
      useCase,
      labels,
      batch: opts.batch,
      rememberAnswers: opts.decisions + AFTER_SWAP,
    }),
  );
  cleanup.add(service.stop);
  out(
    say(
      'example service',
      `on ${service.url}; ${useCase} is in ${before.stage}: for each invoice its SDK asks the controller for`,
      "a suggestion (the champion's) and lets it stand inside the boundary (low-risk, confident, 10% rollout);",
      'elsewhere the clerk decides, with the suggestion, and the SDK sends the decision back',
    ),
  );
  out(
    say(
      'controller',
      'stores each invoice and owes the challenger a call for it (challenger_calls), made off the live path;',
      'each tick judges the challenger: the shadow and human-reviewed gates on its own answers against the',
      `clerks, and its agreement minus the champion's on the same invoices, whose lower bound must reach −${MARGIN}`,
    ),
  );
  out();

  const workflow: WorkflowPlan = {
    serviceUrl: service.url,
    labels,
    decisions: ROUND,
    concurrency: opts.concurrency,
  };
  const viewChallenger = () => keys.viewer.getJson<ChallengerView>(`/v1/use-cases/${useCase}/challenger`);
  const actStarted = Date.now();
  let sent = 0;
  let swappedBy: number | null = null;
  while (sent < opts.decisions && swappedBy === null) {
    const n = Math.min(ROUND, opts.decisions - sent);
    await sendRound(workflow, sent, n, service);
    sent += n;
    const view = await step('could not read the challenger', () => settledView(viewChallenger));
    const c = view.challenger;
    const at = `${((Date.now() - actStarted) / 1000).toFixed(1)} s`;
    if (c === null) {
      swappedBy = sent;
      const ended = view.history[0];
      out(
        say(
          'controller',
          `${at}: ${count(sent)} invoices sent: the challenger was ${ended?.state ?? 'ended'} by ${ended?.endedBy ?? '?'} (${ended?.endReason ?? ''})`,
        ),
      );
      break;
    }
    out(
      say(
        'controller',
        `${at}: ${count(sent)} invoices sent: challenger ${c.verdict} · its agreement ${percent(c.cohort?.agreement, 2)} on ${count(c.cohort?.samples ?? 0)}`,
        `samples · paired with the champion on ${count(c.paired?.n ?? 0)}: mean ${signed(c.paired?.mean)}, bounds [${signed(c.paired?.lower)}, ${signed(c.paired?.upper)}]` +
          (c.verdict === 'inconclusive' ? ` · waiting on ${waitingOn(c.criteria)}` : ''),
      ),
    );
    if (c.verdict === 'blocked') break;
  }

  if (swappedBy === null) {
    const view = await viewChallenger();
    out();
    out(
      `The challenger was not swapped in after ${count(sent)} invoices: its verdict is ${view.challenger?.verdict ?? 'gone'}` +
        ' (more invoices with --decisions, or see GET /v1/use-cases/:id/challenger).',
    );
    await service.stop();
    return;
  }

  // 4. After the swap: who answers now.
  await sendRound(workflow, sent, AFTER_SWAP, service);
  await step('the example service did not stop', () => service.stop());
  const next = Array.from({ length: AFTER_SWAP }, (_, i) => makeInvoice(sent + i).requestId);
  const askedOf = (sim: SimulatedAiSystem) => {
    const { byRequest } = sim.stats();
    return next.filter((id) => byRequest[id] !== undefined).length;
  };
  const after = await keys.viewer.getJson<UseCaseView>(`/v1/use-cases/${useCase}`);
  const { transitions } = await keys.viewer.getJson<{ transitions: Transition[] }>(
    `/v1/use-cases/${useCase}/transitions`,
  );
  const moves = transitions.filter((t) => t.stageVersion > before.stageVersion);
  const evidence = await swapEvidence(stage, useCase);

  out();
  out('Champion and challenger: what the swap rested on (the audit event challenger.promoted)');
  out();
  if (evidence) {
    out(
      `  verdict ${evidence.verdict}: the challenger's agreement with the clerks ${percent(evidence.cohort?.agreement, 2)} on ${count(evidence.cohort?.samples ?? 0)} samples;`,
    );
    const p = evidence.paired;
    out(
      `  paired with the champion on ${count(p?.n ?? 0)} invoices both answered and a clerk decided: challenger − champion`,
    );
    out(
      `  agreement ${signed(p?.mean)}, ${percent(stage.applied.plan.confidence, 0)} bounds [${signed(p?.lower)}, ${signed(p?.upper)}] (the lower bound must be ≥ −${MARGIN})`,
    );
    out();
    for (const line of criteriaTable(evidence.criteria)) out(line);
    out();
  }
  out(
    `  swapped in by the controller's tick (approval automatic) within the first ${count(swappedBy)} invoices; the simulations'`,
  );
  out(
    `  own tallies: champion ${percent(stage.sim.stats().agreementRate, 2)}, challenger ${percent(rival.stats().agreementRate, 2)}.`,
  );
  out(
    `  Now: stage ${after.stage} (stage version ${after.stageVersion}; ${before.stageVersion} before the swap), champion plan version ${after.champion.planVersion},`,
  );
  out(`  the stage is earned with model ${after.earnedModelVersion ?? 'none'}.`);
  for (const t of moves) out(`  The stage moved since: ${t.from} → ${t.to} by ${t.actor} (${t.reason}).`);
  out(
    `  The next ${AFTER_SWAP} invoices: ${CHALLENGER_MODEL_VERSION} was asked for ${count(askedOf(rival))} of them, ${DEMO_MODEL_VERSION} (the champion before) for ${count(askedOf(stage.sim))}.`,
  );
  out();
}

/** Invoices first .. first + n − 1 through the service; the clerk decides those set aside; the SDK delivers. */
async function sendRound(workflow: WorkflowPlan, first: number, n: number, service: DemoService) {
  const plan = { ...workflow, first, decisions: n };
  const report = await step('the simulated workflow failed', () => sendInvoices(plan));
  await step('the simulated clerk failed', () => clerkDecidesLater(plan, report.setAsideAt, report.answers));
  await service.sg.flush(10_000);
}

/** The challenger's view once its calls for what was sent are made (bounded: the verdict is shown either way). */
async function settledView(read: () => Promise<ChallengerView>): Promise<ChallengerView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const view = await read();
    if (view.challenger === null || view.challenger.owedCalls === 0 || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function swapEvidence(stage: DemoStage, useCase: string): Promise<SwapEvidence | null> {
  const [row] = await stage.embedded.controller.database.rows<{ details: SwapEvidence | string }>(sql`
    select details from audit_events where use_case = ${useCase} and action = 'challenger.promoted'
    order by id desc limit 1`);
  if (!row) return null;
  return typeof row.details === 'string' ? (JSON.parse(row.details) as SwapEvidence) : row.details;
}

function criteriaTable(criteria: Criterion[]): string[] {
  return textTable(
    ['criterion', 'required', 'actual', 'status'],
    criteria.map((c) => {
      const plain = c.name.slice(c.name.indexOf('.') + 1);
      const figure = (v: number | string | null) =>
        c.name === 'championNonInferiority'
          ? typeof v === 'number'
            ? signed(v)
            : String(v ?? '-')
          : criterionFigure(plain, v);
      return [c.name, figure(c.required), figure(c.actual), c.status];
    }),
  );
}

function waitingOn(criteria: Criterion[]): string {
  const names = criteria.filter((c) => c.status !== 'holds').map((c) => c.name);
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
}

function signed(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}
