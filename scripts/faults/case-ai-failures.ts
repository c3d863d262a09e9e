import { monitorEventLoopDelay } from 'node:perf_hooks';
import { counterSum, metricsText } from './prometheus-text.js';
import type { SimFailure } from '../simulation/simulated-answer.js';
import type { SimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import { applyPlanApproved, CaseRun, startSim } from './case-setup.js';
import { type FaultCase, formatMs } from './fault-case.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { startSdk, startStack } from './fault-stack.js';
import { readLedger, settle, transitionsOf } from './ledger.js';
import { percentile, TrafficDriver } from './traffic.js';
import { sleep, waitFor } from './waiting.js';
import { useCaseView } from './use-case-view.js';

const NAME = 'ai-failures';
const CONCURRENCY = 8;
const MAX_ATTEMPTS = 2;
/** What the SDK adds to the human path in shadow, at most: it never waits for Shadowgate or the AI. */
const MAX_OVERHEAD_MS = 50;

/** How long the reviewed use case's SDK waits for a suggestion: less than the AI's own timeout. */
const SUGGESTION_DEADLINE_MS = 300;
const SHADOW_GUARD = '  shadow: { rollbackWhen: { window: 50, aiErrorRateAbove: 0.2, action: disable } }';
const REVIEWED_GUARD = `  shadow: {}
  human-reviewed: { rollbackWhen: { window: 30, aiErrorRateAbove: 0.2 } }`;

interface Failure {
  failure: SimFailure;
  useCase: string;
  /** The error kind the controller counts (shadowgate_ai_errors_total). */
  kind: string;
  stage: 'shadow' | 'human-reviewed';
  /** Where the guard sends the use case. */
  tripsTo: 'disabled' | 'shadow';
}

/**
 * One use case per failure, each with a simulated AI of its own. Four run in shadow, where the
 * SDK never waits for the AI; the fifth in human-reviewed, where it waits for a suggestion at
 * most its deadline, however long the AI takes.
 */
const FAILURES: Failure[] = [
  {
    failure: 'http-500',
    useCase: 'faults-ai-500',
    kind: 'http-status',
    stage: 'shadow',
    tripsTo: 'disabled',
  },
  { failure: 'timeout', useCase: 'faults-ai-timeout', kind: 'timeout', stage: 'shadow', tripsTo: 'disabled' },
  {
    failure: 'malformed-json',
    useCase: 'faults-ai-malformed',
    kind: 'bad-output',
    stage: 'shadow',
    tripsTo: 'disabled',
  },
  { failure: 'huge', useCase: 'faults-ai-huge', kind: 'too-large', stage: 'shadow', tripsTo: 'disabled' },
  {
    failure: 'timeout',
    useCase: 'faults-ai-reviewed',
    kind: 'timeout',
    stage: 'human-reviewed',
    tripsTo: 'shadow',
  },
];

export const aiFailures: FaultCase = {
  name: NAME,
  fault:
    'the AI system answers 500s, times out, sends malformed JSON or answers 10 MB from mid-run on (four use cases in shadow, one in human-reviewed)',
  guarantee:
    'each failure is counted as an AI error of its kind (aiErrorRate, shadowgate_ai_errors_total); the plan’s guard trips (in shadow: window 50, aiErrorRateAbove 0.2, action disable; in human-reviewed: window 30, rollback to shadow); the live path never waits on the AI in shadow, and in human-reviewed no longer than the suggestion deadline; once the AI recovers and the use cases are enabled every owed call is made; nothing lost',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const stack = await startStack(ctx, { label: 'ai' });
    const sims: SimulatedAiSystem[] = [];
    for (const f of FAILURES) {
      const sim = await startSim(ctx, { min: 10, max: 60 });
      sims.push(sim);
      await applyPlanApproved(
        stack,
        f.useCase,
        faultPlan(f.useCase, sim.url, {
          concurrency: CONCURRENCY,
          timeoutMs: 500,
          maxAttempts: MAX_ATTEMPTS,
          stages: f.stage === 'shadow' ? SHADOW_GUARD : REVIEWED_GUARD,
        }),
      );
      if (f.stage !== 'shadow') {
        await stack.admin.postJson(`/v1/use-cases/${f.useCase}/promote`, {
          reason: 'fault suite: start reviewed',
          force: true,
        });
      }
    }
    const url = stack.controllers[0]!.url;
    const handle = startSdk(ctx, url, stack.ingestKey);
    const reviewing = startSdk(ctx, url, stack.ingestKey, { suggestionDeadlineMs: SUGGESTION_DEADLINE_MS });
    const sdkFor = (f: Failure) => (f.stage === 'shadow' ? handle : reviewing).sdk;
    await Promise.all([handle.sdk.ready(), reviewing.sdk.ready()]);
    for (const f of FAILURES) {
      await waitFor(
        `the SDK to see ${f.useCase} in ${f.stage}`,
        () => (sdkFor(f).modeOf(f.useCase, { requestId: 'probe' }) === f.stage ? true : undefined),
        10_000,
      );
    }

    const traffic = new TrafficDriver({
      lanes: FAILURES.map((f) => ({ sdk: sdkFor(f), useCase: f.useCase })),
      perSecond: ctx.random.around(ctx.quick ? 80 : 120, 0.2),
      idPrefix: 'ai',
      labels: LABELS,
      random: ctx.random.next,
    });
    // A timer of the suite's own process fires late when its event loop stalls: measured, so a late
    // deadline is not blamed on the SDK.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    traffic.start();
    // How much healthy traffic precedes the fault (and so fills the guard's window) varies by seed.
    await sleep(ctx.random.int(1_500, 3_000));
    const faultAt = Date.now();
    FAILURES.forEach((f, i) => {
      sims[i]!.setOptions({ failure: f.failure });
    });

    const stageOf = async (id: string) => (await useCaseView(stack.admin, id)).stage;
    const tripped = new Map<string, number>();
    await waitFor(
      'every guard to trip',
      async () => {
        for (const f of FAILURES) {
          if (!tripped.has(f.useCase) && (await stageOf(f.useCase)) === f.tripsTo) {
            tripped.set(f.useCase, Date.now() - faultAt);
          }
        }
        if (tripped.size === FAILURES.length) return true;
        throw new Error(
          `still running: ${FAILURES.filter((f) => !tripped.has(f.useCase))
            .map((f) => f.useCase)
            .join(', ')}`,
        );
      },
      60_000,
    );
    await sleep(ctx.random.int(1_000, 2_000));
    await traffic.stop();
    lag.disable();
    for (const sim of sims) sim.setOptions({ failure: 'none' });
    const lagMs = lag.max / 1e6;
    facts.push(`the suite's own event loop lagged at most ${formatMs(lagMs)} ms`);

    // The live path during the fault: the SDK's own time on top of the human's.
    const inShadow = new Set(FAILURES.filter((f) => f.stage === 'shadow').map((f) => f.useCase));
    const duringFault = traffic.records.filter((r) => r.at >= faultAt && inShadow.has(r.useCase));
    const before = traffic.records.filter((r) => r.at < faultAt && inShadow.has(r.useCase));
    const total = (rs: typeof before, p: number) =>
      formatMs(
        percentile(
          rs.map((r) => r.totalMs),
          p,
        ),
      );
    const maxOverhead = Math.max(0, ...duringFault.map((r) => r.totalMs - r.humanMs));
    facts.push(
      `shadow, decide during the fault p50/p99 ${total(duringFault, 50)}/${total(duringFault, 99)} ms ` +
        `(before it ${total(before, 50)}/${total(before, 99)} ms, the human path alone p50 ` +
        `${formatMs(
          percentile(
            duringFault.map((r) => r.humanMs),
            50,
          ),
        )} ms): the SDK added at most ` +
        `${formatMs(maxOverhead)} ms over ${duringFault.length} decisions`,
    );
    checks.atMost(Math.round(maxOverhead), MAX_OVERHEAD_MS, 'ms decide added to the human path in shadow');

    const reviewed = traffic.records.filter(
      (r) => r.at >= faultAt && r.useCase === 'faults-ai-reviewed' && r.mode === 'human-reviewed',
    );
    const waited = Math.max(0, ...reviewed.map((r) => r.totalMs - r.humanMs));
    facts.push(
      `human-reviewed, decide during the fault p50/p99 ${total(reviewed, 50)}/${total(reviewed, 99)} ms: ` +
        `waited for a suggestion at most ${formatMs(waited)} ms (deadline ${SUGGESTION_DEADLINE_MS} ms, ` +
        `the AI's timeout 500 ms) over ${reviewed.length} decisions`,
    );
    checks.that(reviewed.length > 0, 'no human-reviewed decision during the fault');
    checks.atMost(
      Math.round(waited),
      Math.round(SUGGESTION_DEADLINE_MS + MAX_OVERHEAD_MS + lagMs),
      'ms a reviewed decide waited (deadline + 50 ms + the event loop lag)',
    );

    const metrics = await metricsText(stack.admin.target.url);
    for (const f of FAILURES) {
      const view = await useCaseView(stack.admin, f.useCase);
      const shadow = view.metrics.stages.find((s) => s.stage === f.stage);
      const calls = shadow?.cohorts.reduce((n, c) => n + c.aiCalls, 0) ?? 0;
      const errors = shadow?.cohorts.reduce((n, c) => n + c.aiErrors, 0) ?? 0;
      const rate = shadow?.cohorts.find((c) => c.aiErrors > 0)?.aiErrorRate ?? null;
      const ofKind = counterSum(metrics, 'shadowgate_ai_errors_total', { use_case: f.useCase, kind: f.kind });
      const guard = (await transitionsOf(stack.db.sql, f.useCase)).find(
        (t) => t.to === f.tripsTo && t.actor === 'system',
      );
      facts.push(
        `${f.failure} in ${f.stage}: ${f.tripsTo} ${((tripped.get(f.useCase) ?? 0) / 1000).toFixed(1)} s into the fault; ` +
          `${errors} of ${calls} AI calls failed (aiErrorRate ${rate?.toFixed(3) ?? '-'}), ` +
          `${ofKind} attempts counted as ${f.kind}; ${guard?.reason ?? 'no transition'}`,
      );
      checks.that(errors > 0, `${f.useCase}: no AI error counted in ${f.stage}`);
      checks.that(rate !== null && rate > 0, `${f.useCase}: aiErrorRate is ${rate}`);
      checks.that(ofKind > 0, `${f.useCase}: no failed attempt counted with kind ${f.kind}`);
      checks.that(
        guard?.reason.includes('aiErrorRateAbove') === true,
        `${f.useCase}: no guard transition to ${f.tripsTo} by the system`,
      );
    }

    // The AI has recovered: enabling the use cases lets the calls still owed be made.
    for (const f of FAILURES.filter((f) => f.tripsTo === 'disabled')) {
      await stack.admin.postJson(`/v1/use-cases/${f.useCase}/enable`, { reason: 'the AI system recovered' });
    }
    const useCases = FAILURES.map((f) => f.useCase);
    const settledMs = await settle([handle.sdk, reviewing.sdk], stack.db.sql, useCases, 60_000);
    facts.push(`enabled again and settled in ${(settledMs / 1000).toFixed(1)} s`);
    // Compared once settled: before, a call of the human-reviewed use case (rolled back to shadow,
    // still working) may end in error between reading the rows and reading the view.
    for (const f of FAILURES) {
      const ledger = await readLedger(stack.db.sql, [f.useCase], traffic.decidedIds(f.useCase));
      const view = await useCaseView(stack.admin, f.useCase);
      checks.equal(
        view.metrics.stages.flatMap((s) => s.cohorts).reduce((n, c) => n + c.aiErrors, 0),
        ledger.aiErrors,
        `${f.useCase}: AI errors in GET /v1/use-cases/:id against rows`,
      );
    }

    return run.tally(stack, {
      traffic,
      useCases,
      sims,
      sdks: [handle, reviewing],
      // A transient failure (500, timeout) is attempted up to maxAttempts times by design, and a
      // call whose retry was pending when the AI recovered is answered on it: every repeat the AI
      // saw must be an attempt the database recorded (a claim), none beyond.
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: false,
    });
  },
};
