import { fileURLToPath } from 'node:url';
import { applyPlanApproved, CaseRun, startSim } from './case-setup.js';
import { FAST_LOOPS } from './controller-process.js';
import type { FaultCase } from './fault-case.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { startSdk, startStack } from './fault-stack.js';
import { settle, transitionsOf } from './ledger.js';
import { TrafficDriver } from './traffic.js';
import { sleep, waitFor } from './waiting.js';

const NAME = 'clock-skew';
const AUTO = 'faults-skew-auto';
const MANUAL = 'faults-skew-manual';
const RATE = 'faults-skew-rate';
/** The two hosts' clocks: one this far ahead, the other this far behind. */
const SKEW_MS = 30_000;
const PRELOAD = fileURLToPath(new URL('./clock-skew-preload.mjs', import.meta.url));
/** The gate's minDuration: a process trusting its own clock, 30 s ahead, would promote at once. */
const MIN_DURATION_S = 10;
const TICK_MS = Number(FAST_LOOPS.SHADOWGATE_TICK_MS);
/** The rate-limited use case: calls per second across both processes, and its own traffic. */
const RATE_PER_S = 20;
/** Bull's fixed window lets a second straddling two windows see up to two windows' worth; over the run the mean holds. */
const RATE_SLACK = 1.15;

export const clockSkew: FaultCase = {
  name: NAME,
  fault: `two controllers on one database and Redis whose clocks are ${SKEW_MS / 1000} s ahead and ${SKEW_MS / 1000} s behind`,
  guarantee:
    'time shared between processes is the database’s: each tick slot is taken once (no more ticks than the interval allows), the automatic promotion is recorded once and not before the gate’s minDuration by the database’s clock, with a truthful timestamp, the manual gate announced once; a claimed call is not taken over by the other process (leases are PostgreSQL’s now()); the per-use-case rate limit holds across both',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 400 });
    const rateSim = await startSim(ctx, { min: 10, max: 60 });
    // From before the controllers start: the first ticks while the second is still starting (on a
    // loaded machine that took long enough to exceed the slack when counted from after the start).
    const startedAt = Date.now();
    const stack = await startStack(ctx, {
      label: 'skew',
      controllers: 2,
      envOf: (i) => ({
        NODE_OPTIONS: `--import=${PRELOAD}`,
        FAULTS_CLOCK_SKEW_MS: String(i === 0 ? SKEW_MS : -SKEW_MS),
      }),
    });
    const runningAt = Date.now();
    const [a, b] = stack.controllers as [(typeof stack.controllers)[0], (typeof stack.controllers)[0]];
    const minSamples = ctx.quick ? 60 : 100;
    const gate = (approval: string, extra = '') => `  shadow:
    promoteWhen: { minSamples: ${minSamples}, agreementLowerBound: 0.5${extra} }
    approval: ${approval}
  human-reviewed: {}`;
    await applyPlanApproved(
      stack,
      AUTO,
      faultPlan(AUTO, sim.url, { stages: gate('automatic', `, minDuration: ${MIN_DURATION_S}s`) }),
    );
    const autoApplied = Date.now();
    await applyPlanApproved(stack, MANUAL, faultPlan(MANUAL, sim.url, { stages: gate('manual') }));
    await applyPlanApproved(stack, RATE, faultPlan(RATE, rateSim.url, { rateLimitPerSecond: RATE_PER_S }));
    const sdkA = startSdk(ctx, a.url, stack.ingestKey);
    const sdkB = startSdk(ctx, b.url, stack.ingestKey);
    await Promise.all([sdkA.sdk.ready(), sdkB.sdk.ready()]);

    const traffic = new TrafficDriver({
      lanes: [AUTO, MANUAL].flatMap((useCase) => [
        { sdk: sdkA.sdk, useCase },
        { sdk: sdkB.sdk, useCase },
      ]),
      perSecond: ctx.random.around(ctx.quick ? 50 : 70, 0.2),
      idPrefix: 'skew',
      labels: LABELS,
      random: ctx.random.next,
    });
    // Above the limit, so the limiter is what sets the pace of its calls.
    const rateTraffic = new TrafficDriver({
      lanes: [
        { sdk: sdkA.sdk, useCase: RATE },
        { sdk: sdkB.sdk, useCase: RATE },
      ],
      perSecond: ctx.random.around(RATE_PER_S * 1.3, 0.1),
      idPrefix: 'skew-rate',
      labels: LABELS,
      random: ctx.random.next,
    });
    traffic.start();
    rateTraffic.start();
    const rateWatch = watchRate(() => rateSim.stats().calls);

    // The promotion, seen from the suite (whose clock is the host's, as the database's is).
    const promotedSeenAt = await waitFor(
      'the automatic promotion',
      async () => {
        const [row] = await stack.db.sql<Array<{ stage: string }>>`
          select stage from use_cases where id = ${AUTO}`;
        return row?.stage === 'human-reviewed' ? Date.now() : undefined;
      },
      60_000,
      100,
    );
    await waitFor(
      'the manual gate’s announcement',
      async () => {
        const [row] = await stack.db.sql<Array<{ n: number }>>`
          select count(*)::int as n from audit_events where use_case = ${MANUAL} and action = 'gate.eligible'`;
        return (row?.n ?? 0) > 0 ? true : undefined;
      },
      60_000,
    );
    const rateRunMs = ctx.quick ? 6_000 : 10_000;
    await sleep(Math.max(ctx.random.int(1_000, 3_000), rateRunMs - (Date.now() - runningAt)));
    await traffic.stop();
    await rateTraffic.stop();
    const settledMs = await settle([sdkA.sdk, sdkB.sdk], stack.db.sql, [AUTO, MANUAL, RATE], 60_000);
    const rate = rateWatch.stop();

    // Ticks: one per slot of the database's clock, so no more than the time allows. Each host's own
    // clock would give slots 120 apart and both would tick every interval.
    const elapsedMs = Date.now() - startedAt;
    const [ticks] = await stack.db.sql<Array<{ n: number; owners: number; span: number }>>`
      select count(*)::int as n, count(distinct owner)::int as owners,
             (max(slot) - min(slot) + 1)::int as span from engine_ticks`;
    const allowedTicks = Math.ceil(elapsedMs / TICK_MS) + 4;
    checks.atMost(ticks?.n ?? 0, allowedTicks, `ticks taken in ${(elapsedMs / 1000).toFixed(1)} s`);
    checks.atMost(ticks?.span ?? 0, allowedTicks, 'tick slots from the first to the last');

    const promotions = (await transitionsOf(stack.db.sql, AUTO)).filter((t) => t.to === 'human-reviewed');
    checks.equal(promotions.length, 1, 'automatic promotions recorded');
    const [created] = await stack.db.sql<Array<{ at: Date }>>`
      select created_at as at from use_cases where id = ${AUTO}`;
    const promotion = promotions[0];
    if (promotion && created) {
      const afterS = (promotion.at.getTime() - created.at.getTime()) / 1000;
      const offS = (promotion.at.getTime() - promotedSeenAt) / 1000;
      facts.push(
        `promoted ${afterS.toFixed(1)} s after the use case was created (minDuration ${MIN_DURATION_S} s, ` +
          `${((promotedSeenAt - autoApplied) / 1000).toFixed(1)} s as the suite saw it); its recorded time is ${offS.toFixed(1)} s from when the suite saw it`,
      );
      // By the suite's own clock too (the plan was applied a moment after the row was created).
      const seenS = (promotedSeenAt - autoApplied) / 1000;
      checks.that(
        seenS >= MIN_DURATION_S - 1,
        `promoted ${seenS.toFixed(1)} s after the plan was applied, before minDuration`,
      );
      checks.that(
        afterS >= MIN_DURATION_S - 0.5,
        `promoted ${afterS.toFixed(1)} s after creation, before minDuration`,
      );
      // The suite polls every 100 ms; a loaded machine may take a second more. A host clock would be 30 s off.
      checks.that(
        Math.abs(offS) <= 5,
        `the promotion's recorded time is ${offS.toFixed(1)} s from when it happened`,
      );
    }
    const [eligible] = await stack.db.sql<Array<{ n: number }>>`
      select count(*)::int as n from audit_events where use_case = ${MANUAL} and action = 'gate.eligible'`;
    checks.equal(eligible?.n ?? 0, 1, 'gate.eligible announcements of the manual use case');

    const meanRate = rate.calls / Math.max(1, rate.seconds);
    facts.push(
      `ticks taken ${ticks?.n ?? 0} by ${ticks?.owners ?? 0} processes over ${ticks?.span ?? 0} slots in ${(elapsedMs / 1000).toFixed(1)} s (at most ${allowedTicks}); ` +
        `rate-limited use case: ${rate.calls} calls in ${rate.seconds.toFixed(1)} s, ${meanRate.toFixed(1)}/s (limit ${RATE_PER_S}/s), busiest second ${rate.busiestSecond}; settled in ${(settledMs / 1000).toFixed(1)} s`,
    );
    checks.that(rate.calls > 0, 'the rate-limited use case made no call');
    checks.atMost(
      Math.round(meanRate * 10) / 10,
      RATE_PER_S * RATE_SLACK,
      'mean AI calls per second of the rate-limited use case',
    );
    checks.atMost(
      rate.busiestSecond,
      RATE_PER_S * 2 + 2,
      'AI calls of the rate-limited use case in its busiest second',
    );

    checks.equal(rateTraffic.thrown.length, 0, 'decide calls of the rate-limited traffic that threw');
    // Leases are PostgreSQL's now(): one computed on the host clock of the process behind would
    // have lapsed 13 s before it was written, and the other process's sweep (every second) would
    // take over its calls in flight, each a recorded attempt. Retries after a timeout stay rare.
    const [attempts] = await stack.db.sql<Array<{ retried: number; calls: number }>>`
      select coalesce(sum(greatest(ai_attempts - 1, 0)), 0)::int as retried,
             count(*) filter (where ai_attempts > 0)::int as calls from decisions`;
    const retried = attempts?.retried ?? 0;
    facts.push(`${retried} attempts beyond the first recorded over ${attempts?.calls ?? 0} calls`);
    checks.atMost(
      retried,
      Math.max(5, Math.ceil((attempts?.calls ?? 0) * 0.02)),
      'attempts beyond the first',
    );

    return run.tally(stack, {
      traffic,
      alsoSent: rateTraffic.records.map((r) => r.requestId),
      useCases: [AUTO, MANUAL, RATE],
      sims: [sim, rateSim],
      sdks: [sdkA, sdkB],
      // Only the retries the database recorded (a call that timed out on a loaded machine).
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: false,
    });
  },
};

/** Samples a call counter every 100 ms while the rate-limited use case is busy. */
function watchRate(calls: () => number) {
  const samples: Array<{ at: number; calls: number }> = [];
  const timer = setInterval(() => samples.push({ at: Date.now(), calls: calls() }), 100);
  return {
    stop() {
      clearInterval(timer);
      const first = samples.find((s) => s.calls > 0);
      // Up to when the last call was counted: the samples after it would dilute the mean.
      const final = samples.at(-1)?.calls ?? 0;
      const last = samples.find((s) => s.calls === final);
      if (!first || !last) return { calls: 0, seconds: 0, busiestSecond: 0 };
      let busiestSecond = 0;
      let j = 0;
      for (let i = 0; i < samples.length; i++) {
        while (samples[i]!.at - samples[j]!.at > 1_000) j++;
        busiestSecond = Math.max(busiestSecond, samples[i]!.calls - samples[j]!.calls);
      }
      // From the sample before the first call: the calls counted then were made after it.
      const from = samples[Math.max(0, samples.indexOf(first) - 1)]!;
      return { calls: last.calls - from.calls, seconds: (last.at - from.at) / 1000, busiestSecond };
    },
  };
}
