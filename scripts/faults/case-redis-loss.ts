import { startSimulatedAiSystem } from '../../src/simulation/simulated-ai-system.js';
import { Checks, type FaultCase } from './fault-case.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { startSdk, startStack } from './fault-stack.js';
import { settle } from './ledger.js';
import { startOwnRedis } from './redis-server.js';
import { tally } from './tally.js';
import { TrafficDriver } from './traffic.js';
import { sleep } from './waiting.js';

const NAME = 'redis-loss';
const OUTAGE_MS = 3_000;

export const redisLoss: FaultCase = {
  name: NAME,
  fault: 'Redis flushed (every queued job gone) mid-run, later killed and restarted empty',
  guarantee:
    'the same as a controller kill: every decision stored once, every owed AI call made and compared once (PostgreSQL, not the queue, is the record of what is owed); ingest keeps answering while Redis is away; no call is repeated',
  async run(ctx) {
    const startedAt = Date.now();
    const checks = new Checks();
    const facts: string[] = [];
    const sim = await startSimulatedAiSystem({ latencyMs: { min: 20, max: 150 }, agreement: 0.9 });
    ctx.defer(() => sim.close());
    // A redis-server of the case's own: flushing or killing the machine's would hit everyone on it.
    const redis = await startOwnRedis();
    ctx.defer(() => redis.close());
    const stack = await startStack(ctx, { label: 'redis', redisUrl: redis.url });
    const controller = stack.controllers[0]!;
    const useCase = 'faults-redis';
    await stack.admin.applyPlan(useCase, faultPlan(useCase, sim.url));
    const handle = startSdk(ctx, controller.url, stack.ingestKey);
    await handle.sdk.ready();

    const phaseMs = ctx.quick ? 3_000 : 5_000;
    const traffic = new TrafficDriver({
      lanes: [{ sdk: handle.sdk, useCase }],
      perSecond: ctx.quick ? 60 : 100,
      idPrefix: 'redis',
      labels: LABELS,
    });
    traffic.start();
    await sleep(phaseMs);
    await redis.flushAll();
    facts.push(
      `FLUSHALL after ${traffic.records.length} decisions, ${sim.stats().pending} AI calls in flight`,
    );
    await sleep(phaseMs);

    const before = traffic.records.length;
    const retriesBefore = handle.retries;
    await redis.kill();
    const readiness: number[] = [];
    const outageEnds = Date.now() + OUTAGE_MS;
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
      `Redis down ${OUTAGE_MS / 1000} s: ${traffic.records.length - before} decisions made meanwhile, ` +
        `SDK resent ${handle.retries - retriesBefore} items, /readyz answered ${[...new Set(readiness)].join('/')}`,
    );
    checks.that(readiness.includes(503), '/readyz never answered 503 while Redis was down');
    // Ingest stores first and enqueues best effort: Redis away must not make the SDK resend.
    checks.equal(handle.retries - retriesBefore, 0, 'items the SDK resent while Redis was down');
    await sleep(phaseMs);
    await traffic.stop();
    const settledMs = await settle([handle.sdk], stack.db.sql, [useCase], 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);

    const { result } = await tally({
      name: NAME,
      startedAt,
      traffic,
      db: stack.db,
      admin: stack.admin,
      useCases: [useCase],
      sims: [sim],
      sdks: [handle],
      checks,
      facts,
      repeatsAllowed: 0,
      everyDecisionOwesACall: true,
    });
    return result;
  },
};
