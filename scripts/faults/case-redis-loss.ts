import { CaseRun, ownRedis, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { sleep } from './waiting.js';

const NAME = 'redis-loss';
/** How long Redis stays down, ms, drawn per run. */
const OUTAGE_MS = { min: 2_000, max: 5_000 };

export const redisLoss: FaultCase = {
  name: NAME,
  fault: 'Redis flushed (every queued job gone) mid-run, later killed and restarted empty',
  guarantee:
    'the same as a controller kill: every decision stored once, every owed AI call made and compared once (PostgreSQL, not the queue, is the record of what is owed); ingest keeps answering while Redis is away; no call is repeated',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const redis = await ownRedis(ctx);
    const lane = await startLane(ctx, sim, {
      stack: { label: 'redis', redisUrl: redis.url },
      useCase: 'faults-redis',
      perSecond: ctx.random.around(ctx.quick ? 60 : 100, 0.2),
    });
    const { controller, handle, traffic } = lane;

    const phaseMs = ctx.quick ? 3_000 : 5_000;
    const outageMs = ctx.random.int(OUTAGE_MS.min, OUTAGE_MS.max);
    traffic.start();
    await sleep(ctx.random.around(phaseMs, 0.4));
    await redis.flushAll();
    facts.push(
      `FLUSHALL after ${traffic.records.length} decisions, ${sim.stats().pending} AI calls in flight`,
    );
    await sleep(ctx.random.around(phaseMs, 0.4));

    const before = traffic.records.length;
    const retriesBefore = handle.retries;
    await redis.kill();
    const readiness: number[] = [];
    const outageEnds = Date.now() + outageMs;
    while (Date.now() < outageEnds) {
      const response = await fetch(`${controller.url}/readyz`, { signal: AbortSignal.timeout(3_000) }).catch(
        () => null,
      );
      await response?.arrayBuffer();
      readiness.push(response?.status ?? 0);
      await sleep(250);
    }
    await redis.start();
    facts.push(
      `Redis down ${(outageMs / 1000).toFixed(1)} s: ${traffic.records.length - before} decisions made meanwhile, ` +
        `SDK resent ${handle.retries - retriesBefore} items, /readyz answered ${[...new Set(readiness)].join('/')}`,
    );
    checks.that(readiness.includes(503), '/readyz never answered 503 while Redis was down');
    // Ingest stores first and enqueues best effort: Redis away must not make the SDK resend.
    checks.equal(handle.retries - retriesBefore, 0, 'items the SDK resent while Redis was down');
    await sleep(ctx.random.around(phaseMs, 0.4));
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);

    return tallyLane(run, lane, {
      // Only retries the database recorded (an AI call that timed out on a loaded machine).
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: true,
    });
  },
};
