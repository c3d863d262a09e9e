/**
 * `npm run demo`: the journey (scripts/demo/journey-act.ts) — shadow, human-reviewed,
 * limited-autonomous, a degraded AI rolled back by a guard, the kill switch — ending with the
 * controller's tables, the transitions and the evidence report. `--stage shadow`: the shadow loop you can watch. Starts the real controller in
 * this process on the embedded defaults, a SIMULATED AI system, and the example
 * workflow service (scripts/example-workflow-service.ts's app) whose SDK mirrors
 * to the controller; a SIMULATED workflow sends it a few thousand invoices. Shows
 * progress and ends with the controller's per-stage tables and the SDK's counters.
 * `npm run demo -- --help` lists the options.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSampled } from '../src/contracts/sampling.js';
import type { StageSummary } from '../src/metrics/stage-summary.js';
import { makeInvoice } from './simulation/reference-labeler.js';
import { challengerAct } from './demo/challenger-act.js';
import { changeControlAct, type PlanVersionLine, planVersionLines } from './demo/change-control-act.js';
import { closingReport, sdkCounterLines, type UseCaseDetail } from './demo/closing-report.js';
import { DEMO_USAGE, type DemoOptions, parseDemoOptions, UsageError } from './demo/demo-options.js';
import { driftAct } from './demo/drift-act.js';
import { draftingDemo } from './demo/drafting-act.js';
import {
  DEMO_CLERK_MS,
  DEMO_EARLY_MIRROR_MS,
  DEMO_SET_ASIDE_RATE,
  type DemoService,
  startDemoService,
} from './demo/demo-service.js';
import { readPlan } from './demo/demo-ai-system.js';
import { type DemoStage, setUpDemo, shown } from './demo/demo-setup.js';
import { type JourneyResult, journeyAct } from './demo/journey-act.js';
import { checkLines, planDifferences, type TransitionLine, transitionLines } from './demo/journey-report.js';
import { DAY_MS, SimulatedClock } from './demo/simulated-clock.js';
import type { SimStats } from './simulation/simulated-ai-system.js';
import { Progress } from './demo/progress.js';
import { ShadowWatch } from './demo/shadow-watch.js';
import {
  clerkDecidesLater,
  quantile,
  resendInvoices,
  sendInvoices,
  type WorkflowPlan,
} from './demo/simulated-workflow.js';
import { Cleanup, say, step } from './demo/steps.js';
import { count, percent } from '../src/format/figures.js';

const PLAN_FILE = fileURLToPath(new URL('../rollout-plans/invoice-triage.yaml', import.meta.url));
const DEMO_PLAN_FILE = fileURLToPath(new URL('../rollout-plans/invoice-triage-demo.yaml', import.meta.url));
const DRIFT_PLAN_FILE = fileURLToPath(
  new URL('../rollout-plans/invoice-triage-drift-demo.yaml', import.meta.url),
);
/** Invoices the simulated workflow sends a second time, as a client that timed out would. */
const RESEND = 100;

/** Set while `--keep` waits for Ctrl-C, which then ends the demo normally. */
let keeping = false;
/** Set once Ctrl-C stops the demo midway: what fails after it is a consequence, not news. */
let interrupted = false;

const out = (text = '') => process.stdout.write(`${text}\n`);

async function demo(opts: DemoOptions, cleanup: Cleanup): Promise<void> {
  if (opts.useCase === 'support-reply-draft') {
    const { keep } = await draftingDemo(opts, cleanup, out);
    if (keep) await keepRunning(keep.url, keep.adminKey, keep.useCase, keep.viewerKey);
    return;
  }
  if (opts.challenger) return challengerDemo(opts, cleanup);
  if (opts.drift) return driftDemo(opts, cleanup);
  if (opts.stage === 'journey') return journeyDemo(opts, cleanup);
  const startedAt = Date.now();
  out('Shadowgate demo: one use case (invoice triage) in shadow mode, all on this machine.');
  out('In shadow mode people keep deciding; each decision is mirrored to the AI system on the side,');
  out('and the controller compares the two. The controller is real, and so is the SDK inside the');
  out(
    'example invoice service; the AI system, the clerks and the workflow feeding the service are simulations.',
  );
  out(
    'At the end the product owner widens what the AI may later decide alone; no key can do that by itself,',
  );
  out('so the controller holds the change until a release manager approves it.');
  out();

  const stage = await setUpDemo(opts, PLAN_FILE, cleanup, out);
  const service = await runWorkflow(opts, stage, cleanup);

  const tally = stage.sim.stats();
  out(
    say(
      'simulated AI',
      `own tally: ${count(tally.answeredRequests)} invoices answered, ${count(tally.agreedWithReference)} with the clerk's label (${percent(tally.agreementRate, 2)});`,
      `${count(tally.distinctRequests - tally.answeredRequests)} invoices failed on every attempt (${count(tally.errors)} calls)`,
    ),
  );
  out();
  await changeControlAct(stage, out);
  out(`Done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
  out();

  const useCase = stage.applied.plan.useCase;
  const detail = await stage.keys.viewer.getJson<UseCaseDetail>(`/v1/use-cases/${useCase}`);
  for (const line of closingReport(detail, tally.agreementRate)) out(line);
  out();
  const report = await stage.keys.viewer.getJson<{ plan: { history: PlanVersionLine[] } }>(
    `/v1/use-cases/${useCase}/report`,
    { format: 'json' },
  );
  for (const line of planVersionLines(report.plan.history)) out(line);
  out();
  for (const line of sdkCounterLines(service.sg.stats(), service.events)) out(line);
  out();

  if (opts.keep) await keepRunning(stage.embedded.url, stage.embedded.adminKey, useCase);
}

/** The default: the whole journey of one use case, on a simulated clock the demo moves openly. */
async function journeyDemo(opts: DemoOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = Date.now();
  out(
    'Shadowgate demo: one use case (invoice triage) from shadow mode to the kill switch, all on this machine.',
  );
  out(
    'People decide while the AI is measured (shadow); the AI earns suggesting to them (human-reviewed), then',
  );
  out(
    'deciding low-risk invoices alone (limited-autonomous); then it degrades, a guard rolls it back, and a release',
  );
  out('manager disables it. The controller and the SDK inside the example invoice service are real; the AI');
  out('system, the clerks and the workflow feeding the service are simulations.');
  out();
  const example = readPlan(readFileSync(PLAN_FILE, 'utf8'), shown(PLAN_FILE));
  const ours = readPlan(readFileSync(DEMO_PLAN_FILE, 'utf8'), shown(DEMO_PLAN_FILE));
  const differences = planDifferences(example, ours);
  out(
    say(
      'demo plan',
      `${shown(DEMO_PLAN_FILE)} is ${shown(PLAN_FILE)} with ${differences.length === 0 ? 'no value changed' : 'these values changed:'}`,
      ...differences.map((d) => `  ${d}`),
      "every gate criterion, floor, duration and guard is the example plan's",
    ),
  );
  const clock = new SimulatedClock();
  const stage = await setUpDemo(opts, DEMO_PLAN_FILE, cleanup, out, { clock: clock.now, tick: false });
  const { tickMs } = stage.embedded;
  out();
  const journey = await journeyAct(opts, stage, clock, tickMs, cleanup, out);
  await step('the example service did not stop', () => journey.service.stop());
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  out(
    `Done in ${seconds} s (${count(journey.traffic.sent)} invoices; the simulated clock ran ${(clock.aheadMs / DAY_MS).toFixed(1)} days ahead by the end).`,
  );
  out();

  const useCase = stage.applied.plan.useCase;
  const detail = await stage.keys.viewer.getJson<UseCaseDetail & { stage: string }>(
    `/v1/use-cases/${useCase}`,
  );
  const tally = stage.sim.stats();
  const shadowTally = tallyOf(tally, journey, 'shadow');
  for (const line of closingReport(detail, shadowTally)) out(line);
  out();
  out("Check against the simulation's own tally, per stage (the same invoices as the controller compared)");
  out();
  for (const line of checkLines(
    detail.metrics.stages,
    tally,
    journey.service,
    journey.traffic,
    journey.phases,
  )) {
    out(line);
  }
  out();
  const { transitions } = await stage.keys.viewer.getJson<{ transitions: TransitionLine[] }>(
    `/v1/use-cases/${useCase}/transitions`,
  );
  for (const line of transitionLines(transitions)) out(line);
  out();
  const report = await stage.keys.viewer.getJson<{ plan: { history: PlanVersionLine[] } }>(
    `/v1/use-cases/${useCase}/report`,
    { format: 'json' },
  );
  for (const line of planVersionLines(report.plan.history)) out(line);
  out();
  for (const line of sdkCounterLines(journey.service.sg.stats(), journey.service.events)) out(line);
  out();
  const markdown = await stage.keys.viewer.getText(
    `/v1/use-cases/${useCase}/report`,
    { format: 'markdown' },
    'text/markdown',
  );
  const reportFile = join(stage.embedded.dataDir, 'report.md');
  writeFileSync(reportFile, markdown);
  out(`The evidence report (GET /v1/use-cases/:id/report) is in ${shown(reportFile)}.`);
  out(
    journey.stoppedShort === null
      ? `The journey went the whole way: ${useCase} ends ${detail.stage}.`
      : `The journey stopped short: ${journey.stoppedShort}.`,
  );
  out();
  if (opts.keep) {
    await keepRunning(stage.embedded.url, stage.embedded.adminKey, useCase, stage.keys.viewer.target.key);
  }
}

/** The simulation's tally over the invoices sent in one stage (all compared: shadow). */
function tallyOf(sim: SimStats, journey: JourneyResult, stage: string): number | null {
  let answered = 0;
  let agreed = 0;
  for (const phase of journey.phases.filter((p) => p.stage === stage)) {
    for (const r of phase.rounds) {
      for (let i = r.first; i < r.first + r.count; i++) {
        const s = sim.byRequest[makeInvoice(i).requestId];
        if (!s || s.decision === null) continue;
        answered++;
        if (s.agreed) agreed++;
      }
    }
  }
  return answered === 0 ? null : agreed / answered;
}

/** `--challenger`: champion and challenger instead of the shadow loop (scripts/demo/challenger-act.ts). */
async function challengerDemo(opts: DemoOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = Date.now();
  out('Shadowgate demo: champion and challenger. One use case (invoice triage) in limited-autonomous, where');
  out(
    'its AI (the champion) decides low-risk invoices alone; a plan version points it at another AI. That one',
  );
  out(
    '(the challenger) does not take over: it is asked the same invoices on the side and judged against the',
  );
  out(
    'clerks and against the champion, until the controller swaps it in. The AIs and the clerks are simulations.',
  );
  out();
  const stage = await setUpDemo(opts, PLAN_FILE, cleanup, out);
  await challengerAct(opts, stage, PLAN_FILE, cleanup, out);
  out(`Done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
  if (opts.keep) await keepRunning(stage.embedded.url, stage.embedded.adminKey, stage.applied.plan.useCase);
}

/** `--drift`: a region shift trips the human-reviewed drift guard (scripts/demo/drift-act.ts). */
async function driftDemo(opts: DemoOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = Date.now();
  out(
    'Shadowgate demo: drift. One use case (invoice triage) earns its stage on the invoices of its time; then',
  );
  out('the traffic moves away from them (the region mix shifts) while the AI agrees as often as before. The');
  out(
    "drift guard compares the stage's traffic with the traffic that earned it and rolls the use case back.",
  );
  out(
    'The controller and the SDK inside the example invoice service are real; the AI system, the clerks and',
  );
  out('the workflow feeding the service are simulations.');
  out();
  const journeyPlan = readPlan(readFileSync(DEMO_PLAN_FILE, 'utf8'), shown(DEMO_PLAN_FILE));
  const ours = readPlan(readFileSync(DRIFT_PLAN_FILE, 'utf8'), shown(DRIFT_PLAN_FILE));
  out(
    say(
      'demo plan',
      `${shown(DRIFT_PLAN_FILE)} is ${shown(DEMO_PLAN_FILE)} (the journey's) with these values changed:`,
      ...planDifferences(journeyPlan, ours).map((d) => `  ${d}`),
    ),
  );
  const clock = new SimulatedClock();
  const stage = await setUpDemo(opts, DRIFT_PLAN_FILE, cleanup, out, { clock: clock.now, tick: false });
  const useCase = stage.applied.plan.useCase;
  if (opts.keep) {
    out(
      say(
        'dashboard',
        `watch it at ${stage.embedded.url}/#${useCase} with the viewer key ${stage.keys.viewer.target.key}`,
        '(the page reads the drift view each 30 s, and at once on its refresh button)',
      ),
    );
  }
  out();
  const drift = await driftAct(opts, stage, clock, stage.embedded.tickMs, cleanup, out);
  await step('the example service did not stop', () => drift.service.stop());
  out(`Done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${count(drift.sent.length)} invoices).`);
  out();

  const detail = await stage.keys.viewer.getJson<UseCaseDetail & { stage: string }>(
    `/v1/use-cases/${useCase}`,
  );
  const byRequest = stage.sim.stats().byRequest;
  let answered = 0;
  let agreed = 0;
  for (const i of drift.shadowInvoices) {
    const s = byRequest[makeInvoice(i).requestId];
    if (!s || s.decision === null) continue;
    answered++;
    if (s.agreed) agreed++;
  }
  for (const line of closingReport(detail, answered === 0 ? null : agreed / answered)) out(line);
  out();
  const { transitions } = await stage.keys.viewer.getJson<{ transitions: TransitionLine[] }>(
    `/v1/use-cases/${useCase}/transitions`,
  );
  for (const line of transitionLines(transitions)) out(line);
  out();
  for (const line of sdkCounterLines(drift.service.sg.stats(), drift.service.events)) out(line);
  out();
  out(
    drift.stoppedShort === null
      ? `The drift guard tripped ${count(drift.trippedAfter)} invoices after the shift and rolled ${useCase} back: it ends ${detail.stage}.`
      : `The drift act stopped short: ${drift.stoppedShort}.`,
  );
  out();
  if (opts.keep) {
    out(
      "The dashboard's drift panel shows shadow's visit now (the figures the guard tripped on are above, and",
    );
    out('its transition, with the checks, is in the Transitions panel).');
    await keepRunning(stage.embedded.url, stage.embedded.adminKey, useCase, stage.keys.viewer.target.key);
  }
}

/**
 * The example service, the simulated workflow and its clerk at work, with the progress
 * line, until every decision is compared or failed. Returns the stopped service.
 */
async function runWorkflow(opts: DemoOptions, stage: DemoStage, cleanup: Cleanup): Promise<DemoService> {
  const { keys, labels } = stage;
  const { useCase } = stage.applied.plan;
  const service = await step('could not start the example service', () =>
    startDemoService({
      controllerUrl: stage.embedded.url,
      apiKey: keys.service.target.key,
      useCase,
      labels,
      batch: opts.batch,
      rememberAnswers: opts.decisions,
    }),
  );
  cleanup.add(service.stop);
  out(
    say(
      'example service',
      `the app of scripts/example-workflow-service.ts, in this process on ${service.url};`,
      `its SDK read the flags from the controller's /api with the ingest key: ${useCase} is in ${service.mode}`,
      ...(service.flagsFetched
        ? []
        : ['(the flags had not arrived in time: the SDK decides in shadow until they do)']),
      'and in shadow sg.decide lets the clerk decide, and the SDK mirrors the invoice and the decision',
      `in the background, at most ${opts.batch} per POST /v1/decisions`,
    ),
  );
  const workflow: WorkflowPlan = {
    serviceUrl: service.url,
    labels,
    decisions: opts.decisions,
    concurrency: opts.concurrency,
  };
  const { sampleRate } = stage.applied.plan.stages.shadow;
  let owed = 0;
  for (let i = 0; i < opts.decisions; i++) if (isSampled(makeInvoice(i).requestId, sampleRate)) owed++;
  out(
    say(
      'simulated workflow',
      `sends ${count(opts.decisions)} synthetic invoices to POST /invoices, ${opts.concurrency} at a time; the service's simulated`,
      `clerk decides most at once (in ${DEMO_CLERK_MS} ms) and sets about ${percent(DEMO_SET_ASIDE_RATE, 0)} aside for later (the service answers 202)`,
    ),
  );
  out();

  const watch = new ShadowWatch(async () => {
    const r = await keys.viewer.getJson<{ stages: StageSummary[] }>(
      `/v1/use-cases/${useCase}/metrics?stage=shadow`,
    );
    return r.stages.find((s) => s.stage === 'shadow');
  }, stage.embedded.controller.worker.counters);
  let sent = 0;
  const progress = new Progress(process.stdout, async () => ({
    sent,
    total: opts.decisions,
    mirrored: service.sg.stats().sent,
    aiCallsOwed: owed,
    awaitingClerk: service.desk.awaiting,
    ...(await watch.measured()),
  }));
  progress.start();
  cleanup.add(() => progress.stop());
  const deadline = Date.now() + 60_000 + opts.decisions * (opts.latencyMs + 30);

  const first = await step('the simulated workflow failed', () =>
    sendInvoices(workflow, (p) => {
      sent = p.sent;
    }),
  );
  progress.say(
    say(
      'simulated workflow',
      `all ${count(first.sent)} sent: ${count(first.decided)} decided at once (200), ${count(first.setAside)} set aside by the clerk (202); the service`,
      `answered in ${quantile(first.answerMs, 0.5).toFixed(0)} ms at the median, ${quantile(first.answerMs, 0.95).toFixed(0)} ms at p95, the clerk's ${DEMO_CLERK_MS} ms included (this one process`,
      'also runs the controller and the AI; npm run bench measures what the SDK itself adds)',
    ),
  );

  const resend = await step('the simulated workflow failed to resend', () =>
    resendInvoices(workflow, RESEND, first.answers),
  );
  progress.say(
    say(
      'simulated workflow',
      `resent its first ${count(resend.resent)} invoices as a retrying client would: ${count(resend.same)} got the same decision as the`,
      `first time, ${count(resend.stillWithClerk)} are still with the clerk (202 again), ${count(resend.different)} a different one; the service answered`,
      `${resend.replayed === resend.resent ? 'all' : `${count(resend.replayed)} of`} ${count(resend.resent)} from memory (Idempotent-Replayed): no clerk decided twice, nothing was mirrored twice`,
    ),
  );

  const clerk = await step('the simulated clerk failed', () =>
    clerkDecidesLater(workflow, first.setAsideAt, first.answers),
  );
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  progress.say(
    say(
      'simulated clerk',
      `decided the ${count(clerk.decided)} invoices set aside (POST /invoices/:requestId/decision on the service),`,
      `${seconds(clerk.waitedMs.min)}–${seconds(clerk.waitedMs.max)} s after the service took them; the SDK had mirrored each of these invoices`,
      `alone after ${seconds(DEMO_EARLY_MIRROR_MS)} s (earlyMirrorMs), so the AI answered before the clerk; the decisions followed on their own`,
    ),
  );

  await step('the example service did not stop', () => service.stop());
  const stats = service.sg.stats();
  progress.say(
    say(
      'example service',
      `stopped; sg.close() delivered what its SDK still held (${count(stats.sent)} items sent in all: one per invoice,`,
      `plus the late decision of each invoice whose early mirror had already gone out; ${count(stats.buffered)} left)`,
    ),
  );
  await step('the AI calls did not finish', () => watch.untilAiCallsDone(owed, deadline));
  await step('the comparisons did not finish', () => watch.untilSettled(opts.decisions, deadline));
  await progress.stop();
  return service;
}

async function keepRunning(
  url: string,
  adminKey: string,
  useCase: string,
  viewerKey?: string,
): Promise<void> {
  keeping = true;
  out(`The controller keeps running at ${url} (admin key ${adminKey}); Ctrl-C stops it.`);
  if (viewerKey) out(`  The dashboard: open ${url}/ and paste the viewer key ${viewerKey}`);
  out(`  curl -H 'Authorization: Bearer ${adminKey}' ${url}/v1/use-cases/${useCase}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out('\nStopping the controller and the simulated AI system.');
}

async function main(): Promise<number> {
  let opts: DemoOptions;
  try {
    opts = parseDemoOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`demo: ${error.message} (npm run demo -- --help lists the options)`);
    return 2;
  }
  if (opts.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const cleanup = new Cleanup();
  const onSignal = () => {
    if (keeping || interrupted) return; // --keep waits for the signal itself
    interrupted = true;
    process.stderr.write('\ndemo: interrupted; stopping what it started\n');
    void cleanup.run().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await demo(opts, cleanup);
    return 0;
  } catch (error) {
    await cleanup.run();
    if (interrupted) return 130;
    console.error(`demo failed: ${(error as Error).message.split('\n').join(' ')}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

const code = await main();
process.exitCode = code;
// Everything started is stopped by now; this only guards against a handle left open.
setTimeout(() => process.exit(code), 3000).unref();
