import { CaseRun, settleLane, startLane, startSim } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { postDecisions, summarizeStatuses } from './ingest-probe.js';
import { startTcpFaultProxy } from './tcp-fault-proxy.js';
import { sleep } from './waiting.js';

const NAME = 'redis-network';
const CONCURRENCY = 8;
const LATENCY_MS = 200;
/** Ingest stores first and enqueues best effort: a silent Redis may slow an answer this much at most. */
const ANSWER_WITHIN_MS = 3_000;

export const redisNetwork: FaultCase = {
  name: NAME,
  fault: `the network to Redis (a TCP proxy) adds ${LATENCY_MS} ms each way, then passes nothing for 10 s, then recovers`,
  guarantee:
    "ingest keeps answering 202 without the SDK resending (PostgreSQL is the record of what is owed; the sweep re-enqueues), bull's workers resume without a restart, and every decision is stored once and every owed AI call made and compared once, repeated no more than the attempts the database recorded",
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const redis = new URL(ctx.redisUrl);
    const proxy = await startTcpFaultProxy({
      targetHost: redis.hostname,
      targetPort: Number(redis.port || 6379),
    });
    ctx.defer(() => proxy.close());
    const viaProxy = new URL(ctx.redisUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const lane = await startLane(ctx, sim, {
      // The queue's keys are on the machine's Redis under the case's prefix; only the controller goes through the proxy.
      stack: { label: 'redisnet', controllerRedisUrl: viaProxy.toString() },
      useCase: 'faults-redisnet',
      plan: { concurrency: CONCURRENCY },
      perSecond: ctx.random.around(ctx.quick ? 40 : 60, 0.2),
    });
    const { stack, controller, handle, traffic, useCase } = lane;

    const phaseMs = ctx.quick ? 3_000 : 4_000;
    const blackholeMs = ctx.quick ? 5_000 : 10_000;
    traffic.start();
    await sleep(ctx.random.around(phaseMs, 0.4));

    const retriesBefore = handle.retries;
    const slowFrom = traffic.records.length;
    proxy.delay(LATENCY_MS);
    const slowMs = ctx.random.around(phaseMs, 0.4);
    const slow = await postDecisions(controller.url, stack.ingestKey, useCase, 'redisnet-slow', slowMs);
    facts.push(
      `${LATENCY_MS} ms each way for ${(slowMs / 1000).toFixed(1)} s: ${traffic.records.length - slowFrom} decisions made, ` +
        `ingest answered ${summarizeStatuses(slow.statuses)} (slowest ${Math.round(slow.slowestMs)} ms)`,
    );

    const before = traffic.records.length;
    const aiBefore = sim.stats().calls;
    proxy.blackhole();
    const silent = await postDecisions(
      controller.url,
      stack.ingestKey,
      useCase,
      'redisnet-silent',
      blackholeMs,
    );
    const held = proxy.stats().open;
    const aiDuring = sim.stats().calls - aiBefore;
    proxy.pass();
    facts.push(
      `blackhole of ${(blackholeMs / 1000).toFixed(1)} s after ${before} decisions, ${held} connections held at its end: ` +
        `${traffic.records.length - before} decisions made meanwhile, ${aiDuring} AI calls made; ingest answered ` +
        `${summarizeStatuses(silent.statuses)} (slowest ${Math.round(silent.slowestMs)} ms)`,
    );
    for (const [what, posts] of [
      ['slow', slow],
      ['partitioned', silent],
    ] as const) {
      checks.that(
        posts.statuses.every((s) => s === 202),
        `ingest answered ${summarizeStatuses(posts.statuses)} while Redis was ${what}, not 202 each time`,
      );
      checks.atMost(
        Math.round(posts.slowestMs),
        ANSWER_WITHIN_MS,
        `ms the slowest ingest took while Redis was ${what}`,
      );
    }
    // Ingest stores first and enqueues best effort: a silent Redis must not make the SDK resend.
    checks.equal(handle.retries - retriesBefore, 0, 'items the SDK resent while Redis was slow or silent');

    const aiAfterRecovery = sim.stats().calls;
    await sleep(ctx.random.around(phaseMs / 2, 0.4));
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(
      `settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped; ${sim.stats().calls - aiAfterRecovery} AI calls made after recovery`,
    );

    return run.tally(stack, {
      traffic,
      useCases: [useCase],
      sims: [sim],
      sdks: [handle],
      alsoSent: [...slow.requestIds, ...silent.requestIds],
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: true,
    });
  },
};
