import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DecideResult, type Mode, Shadowgate, type ShadowgateEvent } from '@shadowgate/sdk';
import { ControllerApi, isHeld } from '../../src/client/controller-api.js';
import { isSampled } from '../../src/contracts/sampling.js';
import { CALIBRATION_SALT } from '../../src/plans/judge-comparator.js';
import { count, decimal, duration, percent, usd } from '../../src/format/figures.js';
import type { StageSummary } from '../../src/metrics/stage-summary.js';
import { parseDurationMs } from '../../src/plans/duration.js';
import type { Plan } from '../../src/plans/plan-schema.js';
import { type SimulatedJudge, startSimulatedJudge } from '../simulation/simulated-judge.js';
import { agentReply, makeTicket, type SyntheticTicket } from '../simulation/support-tickets.js';
import type { SimStats } from '../simulation/simulated-ai-system.js';
import { demoSimOptions, planAiPort, pointPlanAt, readPlan, startDemoAiSystem } from './demo-ai-system.js';
import type { DemoOptions } from './demo-options.js';
import { shown } from './demo-setup.js';
import { planDifferences } from './journey-report.js';
import { sdkCounterLines } from './closing-report.js';
import { prepareDataDir, startEmbeddedController } from './embedded-controller.js';
import { DAY_MS, SimulatedClock } from './simulated-clock.js';
import { type Cleanup, say, step } from './steps.js';
import { textTable } from './text-table.js';

/**
 * `npm run demo -- --use-case support-reply-draft` (README "Choosing a comparator"): a drafting use
 * case, scored by a judge that must first show it agrees with people. A SIMULATED drafting AI
 * writes a reply to each synthetic support ticket (acceptable — token-f1 to the agent's reply at
 * least 0.5 — for --agreement of them); a SIMULATED judge scores each draft against the reply the
 * agent sent (right 95% of the time); the simulated agents, through the SDK inside a small support
 * desk, send their replies and rate the drafts the controller offers them (the calibration sample),
 * with the simulation's truth. The gate waits on the judge's calibration
 * (`judgeAgreementLowerBound`) after the AI's own figures already hold, then the release manager
 * promotes the use case to human-reviewed, where the agents get the drafts as suggestions.
 */

export const DRAFTING_PLAN_FILE = fileURLToPath(
  new URL('../../rollout-plans/support-reply-draft.yaml', import.meta.url),
);
/** The example plan with a larger calibration sample, so that fewer tickets calibrate the judge. */
export const DRAFTING_DEMO_PLAN_FILE = fileURLToPath(
  new URL('../../rollout-plans/support-reply-draft-demo.yaml', import.meta.url),
);
/** How often the simulated judge is right (its `accuracy`). */
export const DEMO_JUDGE_ACCURACY = 0.95;
/** Tickets per round; the controller's tick judges the gate after each. */
const ROUND = 250;
/** Tickets in human-reviewed, once promoted: the drafts handed to the agents. */
const REVIEWED_TICKETS = 250;
/** The demo's agents, who send the replies and rate the drafts offered to them. */
const AGENTS = ['agent-sam', 'agent-priya', 'agent-tomas', 'agent-mei'];
/** The SDK waits this long for a draft before the agent writes without it (a draft takes longer than a label). */
const SUGGESTION_DEADLINE_MS = 3_000;
/** How long the owed drafts, judgments and ratings may stay unchanged before the demo fails. */
const STALL_MS = 120_000;

/** What the demo reads of GET /v1/use-cases/:id: the stages' figures, the judge's, and the gate. */
interface DraftingDetail {
  stage: Mode;
  metrics: { stages: StageSummary[] };
  /** The gate's cohort's judge calibration: per judge version, the current one first. */
  judgeCalibration: { currentJudgeVersion: string | null; versions: CalibrationVersion[] } | null;
  /** The judge, measured apart from the AI: null before its first call. */
  judge: JudgeBlock | null;
  gate: { verdict: string; criteria?: Criterion[] } | null;
}
interface Criterion {
  name: string;
  status: string;
  required?: unknown;
  actual?: unknown;
}
interface JudgeBlock {
  done: number;
  owed: number;
  failed: number;
  totalCost: number;
  costPerJudgedDecision: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}
/** One judge version's agreement with the agents' ratings (the gate's cohort's `judgeCalibration`). */
interface CalibrationVersion {
  judgeVersion: string;
  rated: number;
  agreement: number | null;
  agreementLowerBound: number | null;
  kappa: number | null;
}

interface Sent {
  ticket: SyntheticTicket;
  result: DecideResult<string> & { rate?: boolean };
  stage: Mode;
}

export async function draftingDemo(
  opts: DemoOptions,
  cleanup: Cleanup,
  out: (text?: string) => void,
): Promise<{ keep: { url: string; adminKey: string; useCase: string; viewerKey: string } | null }> {
  const startedAt = Date.now();
  out('Shadowgate demo: a drafting use case (support replies), all on this machine. The AI drafts a reply');
  out('to each support ticket; the agent edits and sends it. Two good replies are rarely the same text, so');
  out('a judge scores each draft against the reply the agent sent; and since a judge can be wrong too, the');
  out(
    'agents rate a sample of the drafts, and no gate passes until the judge agrees with them. The controller',
  );
  out('and the SDK are real; the drafting AI, the judge, the tickets and the agents are simulations.');
  out();

  const planText = readFileSync(DRAFTING_DEMO_PLAN_FILE, 'utf8');
  const [example, filePlan] = await step('the drafting demo cannot run its plans', () => [
    readPlan(readFileSync(DRAFTING_PLAN_FILE, 'utf8'), shown(DRAFTING_PLAN_FILE)),
    readPlan(planText, shown(DRAFTING_DEMO_PLAN_FILE)),
  ]);
  const judgeSpec = judgeOf(filePlan, shown(DRAFTING_DEMO_PLAN_FILE));
  const differences = planDifferences(example, filePlan);
  out(
    say(
      'demo plan',
      `${shown(DRAFTING_DEMO_PLAN_FILE)} is ${shown(DRAFTING_PLAN_FILE)} with ${differences.length === 0 ? 'no value changed' : 'these values changed:'}`,
      ...differences.map((d) => `  ${d}`),
      "every gate criterion, bound and duration is the example plan's",
    ),
  );

  const clock = new SimulatedClock();
  const dataDir = await step('could not prepare the data directory', () => prepareDataDir(opts.dataDir));
  const embedded = await step('could not start the controller', () =>
    startEmbeddedController(dataDir, { SHADOWGATE_SWEEP_MS: '1000' }, { clock: clock.now, tick: false }),
  );
  cleanup.add(embedded.stop);
  out(
    say(
      'controller',
      `listening on ${embedded.url} (embedded PGlite in ${shown(dataDir)}/pglite, in-process queue);`,
      `its JSON logs go to ${shown(embedded.logFile)}; its tick (gates, guards) runs when the demo says so,`,
      'on a clock the demo moves openly',
    ),
  );

  const simOptions = { ...demoSimOptions(opts, []), seed: 'demo-drafts' };
  const { sim, movedFrom } = await step('could not start the simulated drafting AI', () =>
    startDemoAiSystem(simOptions, opts.aiPort ?? planAiPort(filePlan)),
  );
  cleanup.add(() => sim.close());
  const latency = simOptions.latencyMs as { min: number; max: number };
  out(
    say(
      'simulated AI',
      `a simulation, no model behind it, listening on ${sim.url}/decide: drafts a reply to each ticket,`,
      `acceptable (token-f1 to the agent's reply ≥ 0.5) for ${percent(opts.agreement, 0)} of tickets, answers in ${latency.min}–${latency.max} ms,`,
      `fails ${percent(opts.errorRate, 1)} of tickets with HTTP 500`,
      ...(movedFrom === null ? [] : [`(port ${movedFrom} was taken, so it took port ${sim.port})`]),
    ),
  );
  const judge = await step('could not start the simulated judge', () =>
    startSimulatedJudge({ accuracy: DEMO_JUDGE_ACCURACY, judgeVersion: 'sim-judge-1', costPerCall: 0.002 }),
  );
  cleanup.add(() => judge.close());
  out(
    say(
      'simulated judge',
      `a simulation, no model behind it, listening on ${judge.url}: scores a draft 1 when it is acceptable`,
      `(the same truth: token-f1 to the agent's reply ≥ 0.5), else 0, and is wrong ${percent(1 - DEMO_JUDGE_ACCURACY, 0)} of the time (by a hash`,
      'of the request id). Nobody tells the controller that: it has to find out from the agents',
    ),
  );

  const pointed = pointPlanAt(planText, shown(DRAFTING_DEMO_PLAN_FILE), sim.url);
  const applied = pointJudgeAt(pointed.text, judgeSpec.url, judge.url);
  const plan = readPlan(applied, shown(DRAFTING_DEMO_PLAN_FILE));
  const { useCase } = plan;

  const admin = new ControllerApi({ url: embedded.url, key: embedded.adminKey });
  const keys = await step('could not create the API keys', async () => {
    const make = (name: string, role: 'owner' | 'release' | 'ingest' | 'viewer') =>
      admin.createKey(name, role).then((key) => admin.withKey(key));
    return {
      owner: await make('demo product owner', 'owner'),
      release: await make('demo release manager', 'release'),
      service: await make('demo support desk', 'ingest'),
      viewer: await make('demo progress display', 'viewer'),
    };
  });
  const put = await step('could not apply the rollout plan', async () => {
    const answer = await keys.owner.applyPlan(useCase, applied);
    if (isHeld(answer)) throw new Error(`held for approval as change ${answer.change.id}`);
    return answer;
  });
  out(
    say(
      'product owner',
      `applied ${shown(DRAFTING_DEMO_PLAN_FILE)}: use case ${useCase} ${put.created ? 'created' : 'updated'}, plan version ${put.planVersion},`,
      `stage ${put.stage} (its ai.url and comparator.url rewritten to the two simulations for this run)`,
    ),
  );

  const events = new Map<ShadowgateEvent['type'], { count: number; first: string }>();
  const sg = new Shadowgate({
    url: embedded.url,
    apiKey: keys.service.target.key,
    appName: 'demo-support-desk',
    refreshIntervalMs: 1_000,
    suggestionDeadlineMs: SUGGESTION_DEADLINE_MS,
    buffer: { batchSize: opts.batch },
    onEvent: (e) => {
      const seen = events.get(e.type);
      if (seen) seen.count++;
      else events.set(e.type, { count: 1, first: JSON.stringify(e).slice(0, 200) });
    },
  });
  cleanup.add(() => sg.close());
  await sg.ready();
  out(
    say(
      'support desk',
      "the demo's support desk, in this process: for each ticket sg.decide lets the agent write the reply",
      `(with the AI's draft once the use case is human-reviewed); the SDK mirrors ticket and reply to the`,
      'controller. When the controller offers a draft for rating, the agent rates it with',
      'sg.rateSuggestion(useCase, requestId, {acceptable, by}), acceptable as the simulation knows it is',
    ),
  );
  out(
    say(
      'demo clock',
      `the controller's tick runs after each round of ${ROUND} tickets, the clock moved on by its interval (${duration(embedded.tickMs)});`,
      "the plan's minDuration is met by moving the clock on once, said when it happens",
    ),
  );
  out();

  const sent: Sent[] = [];
  const rated = new Set<string>();
  /** The judge's calibration as the gate last read it in each stage (for the closing table). */
  const calibrationAt = new Map<Mode, CalibrationVersion | null>();
  const ratings = { offered: 0, acceptable: 0 };
  const calibrationRate = judgeSpec.calibrationRate;
  const agentOf = (requestId: string) => AGENTS[requestIdHash(requestId) % AGENTS.length]!;

  const detail = () => keys.viewer.getJson<DraftingDetail>(`/v1/use-cases/${useCase}`);
  const tick = async () => {
    clock.advance(embedded.tickMs);
    return step('the tick failed', () => embedded.controller.engine.tick(clock.now()));
  };

  /** A round: n tickets through the desk, then every draft judged and every offered draft rated. */
  const round = async (n: number, stageNow: Mode): Promise<void> => {
    const first = sent.length;
    const tickets = Array.from({ length: n }, (_, i) => makeTicket(first + i));
    let next = 0;
    const worker = async () => {
      while (next < tickets.length) {
        const ticket = tickets[next++]!;
        const result = await sg.decide<typeof ticket.input, string, typeof ticket.context>(
          useCase,
          { requestId: ticket.requestId, input: ticket.input, context: ticket.context },
          // The agent sends its own reply, having read the draft or not (it edits what it is given).
          async () => agentReply(ticket.input),
          { decidedBy: agentOf(ticket.requestId) },
        );
        sent.push({ ticket, result, stage: stageNow });
      }
    };
    await step('the support desk failed', () =>
      Promise.all(Array.from({ length: Math.min(opts.concurrency, tickets.length) }, worker)),
    );
    await step('the controller did not settle', () => settle(sg, detail, sim, judge, sent.length));
    // The agents rate what is offered to them: in human-reviewed the suggestion answer says so
    // (`rate`); in shadow no suggestion comes back, so the desk draws the same sample from the
    // plan's calibrationRate (the controller draws it the same way, by request id).
    for (const s of sent.slice(first)) {
      const offered = s.result.rate ?? isSampled(s.ticket.requestId, calibrationRate, CALIBRATION_SALT);
      if (!offered || rated.has(s.ticket.requestId)) continue;
      const truth = sim.stats().byRequest[s.ticket.requestId];
      if (!truth || truth.decision === null) continue; // no draft to rate (the AI failed)
      rated.add(s.ticket.requestId);
      ratings.offered++;
      if (truth.agreed) ratings.acceptable++;
      sg.rateSuggestion(useCase, s.ticket.requestId, {
        acceptable: truth.agreed === true,
        by: agentOf(s.ticket.requestId),
      });
    }
    await step('the ratings were not delivered', async () => {
      if (!(await sg.flush(30_000))) throw new Error('the SDK still holds ratings after 30 s');
    });
    await step('the ratings were not folded', () => untilRated(detail, rated.size));
  };

  // Phase 1: shadow, until the gate is eligible (the judge's calibration last).
  const when = plan.stages.shadow.promoteWhen;
  out(
    say(
      'phase 1 · shadow',
      'agents write every reply; the AI drafts on the side and the judge scores each draft against the reply',
      `sent. The gate: ${count(when?.minSamples ?? 0)} judged drafts, ${when?.minDuration ?? 'no minimum duration'}, the judge's mean score (agreement) ≥ ${percent(when?.agreementLowerBound, 0)} and`,
      `the judge's agreement with the agents ≥ ${percent(judgeBar(plan), 0)} (both as 95% lower bounds); ${percent(calibrationRate, 0)} of drafts are offered for rating`,
    ),
  );
  const limit = opts.decisions;
  let movedClock = false;
  let eligible = false;
  const journey: string[] = [];
  while (sent.length < limit) {
    await round(Math.min(ROUND, limit - sent.length), 'shadow');
    if (!movedClock && when?.minDuration !== undefined) {
      movedClock = true;
      const days = Math.ceil(parseDurationMs(when.minDuration) / DAY_MS);
      clock.advance(days * DAY_MS);
      out(
        say(
          'simulated clock',
          `+${days} d: the plan's shadow minDuration is ${when.minDuration}, counted in simulated time; the samples are real`,
        ),
      );
    }
    await tick();
    const d = await detail();
    calibrationAt.set(d.stage, calibrationOf(d));
    const line = progressLine(d, sent.length, ratings.offered);
    journey.push(line);
    out(say('controller', line));
    if (d.gate?.verdict === 'eligible') {
      eligible = true;
      break;
    }
  }
  if (!eligible) {
    const d = await detail();
    out(
      say(
        'demo',
        `the gate was ${d.gate?.verdict ?? 'not judged'} after ${count(sent.length)} tickets (${waiting(d).join(', ') || 'nothing'}):`,
        'more with --decisions, or a higher --agreement',
      ),
    );
  } else {
    const reason = "demo: the shadow gate holds, the judge's calibration included";
    await step('could not promote the use case', () =>
      keys.release.postJson(`/v1/use-cases/${useCase}/promote`, { reason }),
    );
    out(
      say(
        'release manager',
        `promoted ${useCase} to human-reviewed (POST /v1/use-cases/:id/promote): the gate holds, the judge's`,
        'calibration included. The agents now get the AI’s draft to edit before they send',
      ),
    );
    await seeModeOf(sg, useCase, 'human-reviewed', out);
    out();
    out(
      say(
        'phase 2 · human-reviewed',
        `${count(REVIEWED_TICKETS)} tickets: the SDK asks for the draft, the agent edits and sends it; the judge scores each draft`,
        'and the suggestion answer says which drafts to offer for rating',
      ),
    );
    for (let n = 0; n < REVIEWED_TICKETS; n += ROUND) {
      await round(Math.min(ROUND, REVIEWED_TICKETS - n), 'human-reviewed');
      await tick();
    }
    const reviewed = sent.filter((s) => s.stage === 'human-reviewed');
    const drafted = reviewed.filter((s) => s.result.suggestion !== undefined);
    const offered = reviewed.filter((s) => s.result.rate === true);
    out(
      say(
        'support desk',
        `the agents had a draft for ${count(drafted.length)} of ${count(reviewed.length)} tickets (the others: the AI failed or was late),`,
        `and the controller offered ${count(offered.length)} of them for rating (its calibration sample)`,
      ),
    );
  }
  out();

  const done = await detail();
  calibrationAt.set(done.stage, calibrationOf(done));
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  out(
    `Done in ${seconds} s (${count(sent.length)} tickets; the simulated clock ran ${(clock.aheadMs / DAY_MS).toFixed(1)} days ahead by the end).`,
  );
  out();
  for (const line of closingLines(done, calibrationAt, sim.stats(), judge, sent, ratings)) out(line);
  out();
  await step('the support desk did not stop', () => sg.close());
  for (const line of sdkCounterLines(sg.stats(), events))
    out(line.replace("the example service's SDK", "the support desk's SDK"));
  out();
  out(
    eligible
      ? `The judge earned the agents' trust before the AI was promoted: ${useCase} ends ${done.stage}.`
      : `The drafting demo stopped short: ${useCase} ends ${done.stage}.`,
  );
  out();
  return {
    keep: opts.keep
      ? { url: embedded.url, adminKey: embedded.adminKey, useCase, viewerKey: keys.viewer.target.key }
      : null,
  };
}

/** The plan's judge: its url and calibration rate; a plan without one is not this demo's. */
function judgeOf(plan: Plan, source: string): { url: string; calibrationRate: number } {
  const c = plan.comparator as { type: string; url?: string; calibrationRate?: number };
  if (c.type !== 'judge' || typeof c.url !== 'string') {
    throw new Error(`${source} must have a judge comparator for the drafting demo, not ${c.type}`);
  }
  return { url: c.url, calibrationRate: c.calibrationRate ?? 0.05 };
}

/** The plan text with only `comparator.url` rewritten, checked by reading it back. */
function pointJudgeAt(text: string, from: string, to: string): string {
  if (from === to) return text;
  const rewritten = text.replace(from, to);
  const again = readPlan(rewritten, shown(DRAFTING_DEMO_PLAN_FILE));
  if (judgeOf(again, shown(DRAFTING_DEMO_PLAN_FILE)).url !== to) {
    throw new Error(`could not point ${shown(DRAFTING_DEMO_PLAN_FILE)}'s comparator.url at ${to}`);
  }
  return rewritten;
}

function judgeBar(plan: Plan): number {
  const bar = (plan.stages.shadow.promoteWhen as { judgeAgreementLowerBound?: number } | undefined)
    ?.judgeAgreementLowerBound;
  return bar ?? 0.8;
}

function requestIdHash(requestId: string): number {
  let h = 0;
  for (const ch of requestId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

const waiting = (d: DraftingDetail) =>
  (d.gate?.criteria ?? []).filter((c) => c.status !== 'holds').map((c) => c.name);

/** The calibration of the judge version that scored the newest drafts (the one the gate counts). */
function calibrationOf(d: DraftingDetail): CalibrationVersion | null {
  return d.judgeCalibration?.versions[0] ?? null;
}

/** One line per round: the AI's figures by the judge, the judge's by the agents, the gate. */
function progressLine(d: DraftingDetail, sent: number, offered: number): string {
  const shadow = d.metrics.stages.find((s) => s.stage === d.stage);
  const c = shadow?.cohorts.at(-1);
  const cal = calibrationOf(d);
  const gate = d.gate?.verdict ?? 'none';
  const notYet = waiting(d);
  return (
    `${d.stage}: ${count(sent)} tickets · ${count(shadow?.samples ?? 0)} judged · AI agreement (judge) ${percent(c?.agreement, 1)}` +
    ` · judge vs agents ${percent(cal?.agreement, 1)} on ${count(cal?.rated ?? 0)} of ${count(offered)} rated, bound ${decimal(cal?.agreementLowerBound)}` +
    ` · gate ${gate}${gate === 'eligible' ? '' : ` (not yet: ${notYet.join(', ') || 'nothing'})`}`
  );
}

/**
 * The closing table: per stage, the AI's agreement by the judge beside the judge's agreement with
 * the agents (the version that scored the newest drafts), then the simulations' own tallies.
 */
function closingLines(
  d: DraftingDetail,
  calibrationAt: ReadonlyMap<Mode, CalibrationVersion | null>,
  simStats: SimStats,
  judge: SimulatedJudge,
  sent: Sent[],
  ratings: { offered: number; acceptable: number },
): string[] {
  const rows = d.metrics.stages
    .filter((s) => s.samples > 0)
    .map((s) => {
      const c = s.cohorts.at(-1);
      const cal = calibrationAt.get(s.stage);
      return [
        s.stage,
        count(s.samples),
        percent(c?.agreement, 1),
        decimal(c?.agreementLowerBound ?? null),
        cal ? `${cal.judgeVersion}` : '-',
        count(cal?.rated ?? 0),
        percent(cal?.agreement, 1),
        decimal(cal?.agreementLowerBound ?? null),
        decimal(cal?.kappa ?? null),
      ];
    });
  const judged = d.judge;
  let answered = 0;
  let acceptable = 0;
  for (const s of sent) {
    const r = simStats.byRequest[s.ticket.requestId];
    if (!r || r.decision === null) continue;
    answered++;
    if (r.agreed) acceptable++;
  }
  // The judge's own tally: each draft it scored, right when its score is the truth.
  let scored = 0;
  let right = 0;
  for (const [requestId, r] of Object.entries(judge.stats().byRequest)) {
    const t = simStats.byRequest[requestId];
    if (r.score === null || !t || t.agreed === null) continue;
    scored++;
    if ((r.score === 1) === t.agreed) right++;
  }
  return [
    'What the controller measured (GET /v1/use-cases/:id): the AI by the judge, the judge by the agents',
    '',
    ...textTable(
      [
        'stage',
        'judged',
        'AI agreement',
        'bound',
        'judge version',
        'ratings',
        'judge vs agents',
        'bound',
        'kappa',
      ],
      rows,
    ),
    "  AI agreement: the mean of the judge's scores, the share of drafts it found sendable after light edits.",
    "  judge vs agents: how often the judge's verdict matched the agents' rating of the same draft, over the",
    "  plan version's ratings as the gate last read them in that stage. Both bounds are 95% anytime-valid lower",
    '  bounds; the gate holds the second against judgeAgreementLowerBound: until it is met, no judged figure',
    '  promotes anything.',
    ...(judged
      ? [
          `  The judge: ${count(judged.done)} calls done, ${count(judged.owed)} owed, ${count(judged.failed)} failed; ${usd(judged.totalCost)} in all, p95 ${judged.latencyP95Ms === null ? '-' : `${Math.round(judged.latencyP95Ms)} ms`},`,
          `  ${usd(judged.costPerJudgedDecision)} per judged draft, measured apart from the AI's cost.`,
        ]
      : []),
    '',
    "Check against the simulations' own tallies",
    '',
    `  drafts acceptable by the truth (token-f1 ≥ 0.5): ${percent(answered === 0 ? null : acceptable / answered, 1)} of ${count(answered)};`,
    `  the judge was right on ${percent(scored === 0 ? null : right / scored, 1)} of the ${count(scored)} drafts it scored;`,
    `  the agents rated ${count(ratings.offered)} drafts, ${count(ratings.acceptable)} acceptable.`,
    `  A judge right ${percent(DEMO_JUDGE_ACCURACY, 0)} of the time measures an AI acceptable p of the time at about`,
    `  p × ${DEMO_JUDGE_ACCURACY} + (1 − p) × ${decimal(1 - DEMO_JUDGE_ACCURACY, 2)}: below p, which the plan's agreementLowerBound allows for.`,
  ];
}

/** Until the SDK reads `mode` from the flag (it polls each second), bounded. */
async function seeModeOf(sg: Shadowgate, useCase: string, mode: Mode, out: (text?: string) => void) {
  const started = Date.now();
  const probe = { requestId: 'demo-mode-probe', context: { channel: 'email', tier: 'standard' } };
  while (sg.modeOf(useCase, probe) !== mode) {
    if (Date.now() - started > 120_000)
      throw new Error(`the support desk's SDK did not see ${mode} within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  out(
    say(
      'support desk',
      `its SDK read ${mode} from the flag ${((Date.now() - started) / 1000).toFixed(1)} s later, without a restart`,
    ),
  );
}

/**
 * Until the controller holds a decision for every ticket sent, owes no draft (but those the
 * simulated AI fails on every attempt) and no judge call: what the next tick judges. Fails when
 * nothing moves for STALL_MS (a loaded machine is slow, not stuck).
 */
async function settle(
  sg: Shadowgate,
  detail: () => Promise<DraftingDetail>,
  sim: { stats(): { calls: number; byRequest: Record<string, { decision: string | null }> } },
  judge: SimulatedJudge,
  sent: number,
): Promise<void> {
  let last = '';
  let movedAt = Date.now();
  for (;;) {
    await sg.flush(10_000);
    const d = await detail();
    const decisions = d.metrics.stages.reduce((n, s) => n + s.decisions, 0);
    const pendingAi = d.metrics.stages.reduce((n, s) => n + s.pendingAi, 0);
    const pendingHuman = d.metrics.stages.reduce((n, s) => n + s.pendingHuman, 0);
    const failing = Object.values(sim.stats().byRequest).filter((r) => r.decision === null).length;
    const owedJudge = d.judge?.owed ?? 0;
    const pending = Math.max(0, pendingAi - failing) + pendingHuman + owedJudge;
    if (decisions >= sent && pending === 0) return;
    const now = `${decisions}/${pendingAi}/${pendingHuman}/${owedJudge}/${sim.stats().calls}/${judge.stats().calls}`;
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS) {
      throw new Error(
        `the controller holds ${decisions} of ${sent} decisions; ${pendingAi} wait for the AI (the simulation fails ${failing}), ${pendingHuman} for a person, ${owedJudge} for the judge, unchanged for ${STALL_MS / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Until the judge's calibration counts every rating given whose draft the judge has scored. */
async function untilRated(detail: () => Promise<DraftingDetail>, given: number): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const d = await detail();
    const n = (d.judgeCalibration?.versions ?? []).reduce((sum, v) => sum + v.rated, 0);
    if (n >= given) return;
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS) {
      throw new Error(
        `the judge's calibration counts ${n} of the ${given} ratings given, unchanged for ${STALL_MS / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
