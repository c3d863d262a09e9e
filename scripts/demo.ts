/**
 * `npm run demo`: the shadow loop you can watch. Starts the real controller in
 * this process on the embedded defaults, a SIMULATED AI system and a SIMULATED
 * invoice workflow that mirrors a few thousand decisions over the HTTP API,
 * shows progress, and ends with the controller's per-stage tables.
 * `npm run demo -- --help` lists the options.
 */
import { fileURLToPath } from 'node:url';
import type { StageSummary } from '../src/metrics/stage-summary.js';
import { closingReport, type UseCaseDetail } from './demo/closing-report.js';
import { DEMO_USAGE, type DemoOptions, parseDemoOptions, UsageError } from './demo/demo-options.js';
import { type DemoStage, setUpDemo } from './demo/demo-setup.js';
import { Progress } from './demo/progress.js';
import { ShadowWatch } from './demo/shadow-watch.js';
import { mirrorInvoices, sendLateDecisions, type WorkflowPlan } from './demo/simulated-workflow.js';
import { Cleanup, say, step } from './demo/steps.js';
import { percent, whole } from './demo/text-table.js';

const PLAN_FILE = fileURLToPath(new URL('../rollout-plans/invoice-triage.yaml', import.meta.url));

/** Set while `--keep` waits for Ctrl-C, which then ends the demo normally. */
let keeping = false;
/** Set once Ctrl-C stops the demo midway: what fails after it is a consequence, not news. */
let interrupted = false;

const out = (text = '') => process.stdout.write(`${text}\n`);

async function demo(opts: DemoOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = Date.now();
  out('Shadowgate demo: one use case (invoice triage) in shadow mode, all on this machine.');
  out('In shadow mode people keep deciding; each decision is mirrored to the AI system on the side,');
  out('and the controller compares the two. The controller is the real one; the AI system and the');
  out('invoice workflow are simulations.');
  out();

  const stage = await setUpDemo(opts, PLAN_FILE, cleanup, out);
  await runWorkflow(opts, stage, cleanup);

  const tally = stage.sim.stats();
  out(
    say(
      'simulated AI',
      `own tally: ${whole(tally.answeredRequests)} invoices answered, ${whole(tally.agreedWithReference)} with the clerk's label (${percent(tally.agreementRate, 2)});`,
      `${whole(tally.distinctRequests - tally.answeredRequests)} invoices failed on every attempt (${whole(tally.errors)} calls)`,
    ),
  );
  out(`Done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
  out();

  const useCase = stage.applied.plan.useCase;
  const detail = await stage.keys.viewer.get<UseCaseDetail>(`/v1/use-cases/${useCase}`);
  for (const line of closingReport(detail, tally.agreementRate)) out(line);
  out();

  if (opts.keep) await keepRunning(stage.embedded.url, stage.embedded.adminKey, useCase);
}

/** The simulated workflow and clerk at work, with the progress line, until every decision is compared or failed. */
async function runWorkflow(opts: DemoOptions, stage: DemoStage, cleanup: Cleanup): Promise<void> {
  const { keys, labels } = stage;
  const { useCase } = stage.applied.plan;
  const workflow: WorkflowPlan = { useCase, labels, decisions: opts.decisions, batch: opts.batch };
  const lateCount = Math.floor(opts.decisions / 10);
  out(
    say(
      'simulated workflow',
      `mirrors ${whole(opts.decisions)} synthetic invoices, ${opts.batch} per POST /v1/decisions; ${whole(opts.decisions - lateCount)} carry`,
      `the simulated clerk's decision, ${whole(lateCount)} are sent before the clerk decides (see below)`,
    ),
  );
  out();

  const watch = new ShadowWatch(async () => {
    const r = await keys.viewer.get<{ stages: StageSummary[] }>(
      `/v1/use-cases/${useCase}/metrics?stage=shadow`,
    );
    return r.stages.find((s) => s.stage === 'shadow');
  }, stage.embedded.controller.worker.counters);
  const sent = { sent: 0, aiCallsOwed: 0 };
  const progress = new Progress(process.stdout, async () => ({
    ...sent,
    total: opts.decisions,
    ...(await watch.measured()),
  }));
  progress.start();
  cleanup.add(() => progress.stop());
  const deadline = Date.now() + 60_000 + opts.decisions * (opts.latencyMs + 30);

  const mirrored = await step('the simulated workflow failed', () =>
    mirrorInvoices(keys.workflow, workflow, (p) => Object.assign(sent, p)),
  );
  const { resend } = mirrored;
  progress.say(
    say(
      'simulated workflow',
      `resent its first batch as a retrying client would: accepted ${resend.accepted}, duplicates: ${resend.duplicates}, AI calls owed ${resend.aiCallsOwed}`,
      `all ${whole(mirrored.sent)} mirrored; the controller owes ${whole(mirrored.aiCallsOwed)} calls to the simulated AI`,
    ),
  );

  // The clerk decides an invoice once the AI has answered its batch, as a late human decision usually arrives.
  const batchEnd = (i: number) =>
    Math.min(mirrored.aiCallsOwed, (Math.floor(i / opts.batch) + 1) * opts.batch);
  const late = await step('the simulated clerk failed', () =>
    sendLateDecisions(keys.workflow, workflow, mirrored.late, (i) =>
      watch.untilAiCallsDone(batchEnd(i), deadline),
    ),
  );
  progress.say(
    say(
      'simulated clerk',
      `sent the ${whole(late.sent)} late decisions (POST /v1/decisions/${useCase}/:requestId/human): ${whole(late.comparedOnArrival)}`,
      `compared on arrival, the AI having answered first; ${whole(late.notCompared)} not (the AI was still at it, or failed)`,
    ),
  );
  await step('the AI calls did not finish', () => watch.untilAiCallsDone(mirrored.aiCallsOwed, deadline));
  await step('the comparisons did not finish', () => watch.untilSettled(opts.decisions, deadline));
  await progress.stop();
}

async function keepRunning(url: string, adminKey: string, useCase: string): Promise<void> {
  keeping = true;
  out(`The controller keeps running at ${url} (admin key ${adminKey}); Ctrl-C stops it.`);
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
