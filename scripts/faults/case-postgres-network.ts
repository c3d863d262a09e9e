import { CaseRun, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { probeIngest, summarizeStatuses } from './ingest-probe.js';
import { startTcpFaultProxy } from './tcp-fault-proxy.js';
import { sleep, waitFor } from './waiting.js';

const NAME = 'postgres-network';
const CONCURRENCY = 8;
const LATENCY_MS = 200;
/** Ingest must answer within this while PostgreSQL is out of reach (503, or 404 once back). */
const ANSWER_WITHIN_MS = 8_000;

export const postgresNetwork: FaultCase = {
  name: NAME,
  fault: `the network to PostgreSQL (a TCP proxy) adds ${LATENCY_MS} ms each way, then passes nothing for 10 s, then recovers`,
  guarantee:
    'the controller lives through it; while partitioned ingest answers (503 with Retry-After) instead of hanging, the SDK resends, and once the network is back every decision is stored once and every owed AI call made and compared once',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const pg = new URL(ctx.pgAdminUrl);
    const proxy = await startTcpFaultProxy({ targetHost: pg.hostname, targetPort: Number(pg.port || 5432) });
    ctx.defer(() => proxy.close());
    const perSecond = ctx.random.around(ctx.quick ? 50 : 80, 0.2);
    const lane = await startLane(ctx, sim, {
      stack: {
        label: 'pgnet',
        controllerDatabaseUrl: (url) => {
          const viaProxy = new URL(url);
          viaProxy.hostname = '127.0.0.1';
          viaProxy.port = String(proxy.port);
          return viaProxy.toString();
        },
      },
      useCase: 'faults-pgnet',
      plan: { concurrency: CONCURRENCY },
      perSecond,
      // The SDK's default: longer than the controller's wait for the database (5 s), so the SDK hears the 503.
      sdk: { requestTimeoutMs: 10_000 },
    });
    const { stack, controller, handle, traffic } = lane;

    const phaseMs = ctx.quick ? 3_000 : 5_000;
    const blackholeMs = ctx.quick ? 5_000 : 10_000;
    traffic.start();
    await sleep(ctx.random.around(phaseMs, 0.4));

    const slowFrom = traffic.records.length;
    proxy.delay(LATENCY_MS);
    const slowMs = ctx.random.around(phaseMs, 0.4);
    const slowProbes = await probeIngest(controller.url, stack.ingestKey, slowMs, ANSWER_WITHIN_MS);
    facts.push(
      `${LATENCY_MS} ms each way for ${(slowMs / 1000).toFixed(1)} s: ${traffic.records.length - slowFrom} decisions made, ` +
        `ingest answered ${summarizeStatuses(slowProbes.statuses)} (slowest ${Math.round(slowProbes.slowestMs)} ms)`,
    );
    checks.equal(
      slowProbes.unanswered,
      0,
      `ingest probes unanswered within ${ANSWER_WITHIN_MS} ms while slow`,
    );

    const before = traffic.records.length;
    const inFlight = sim.stats().pending;
    proxy.blackhole();
    const probes = await probeIngest(controller.url, stack.ingestKey, blackholeMs, ANSWER_WITHIN_MS);
    const held = proxy.stats().open;
    proxy.pass();
    const recovered = Date.now();
    facts.push(
      `blackhole of ${(blackholeMs / 1000).toFixed(1)} s after ${before} decisions, ${inFlight} AI calls in flight, ` +
        `${held} connections held at its end; ${traffic.records.length - before} decisions made meanwhile; ingest answered ` +
        `${summarizeStatuses(probes.statuses)} (slowest ${Math.round(probes.slowestMs)} ms)` +
        `${probes.retryAfter ? `, Retry-After: ${probes.retryAfter}` : ''}`,
    );
    checks.equal(
      probes.unanswered,
      0,
      `ingest probes unanswered within ${ANSWER_WITHIN_MS} ms while partitioned`,
    );
    checks.that(probes.statuses.includes(503), 'ingest never answered 503 while partitioned');
    checks.that(probes.retryAfter !== null, 'the 503 carried no Retry-After');

    // Back: a probe reaches the database again (404 for the unknown use case) within a bound.
    const backMs = await waitFor(
      'ingest to reach PostgreSQL again after the partition',
      async () => {
        const { statuses } = await probeIngest(controller.url, stack.ingestKey, 1, 5_000);
        return statuses[0] === 404 ? Date.now() - recovered : undefined;
      },
      30_000,
      200,
    );
    facts.push(`ingest reached PostgreSQL again ${(backMs / 1000).toFixed(1)} s after the network recovered`);
    await sleep(ctx.random.around(phaseMs / 2, 0.4));
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);
    checks.that(
      [...handle.retryReasons.keys()].some((r) => r.startsWith('HTTP 503')),
      'the SDK never resent after a 503 while PostgreSQL was out of reach',
    );

    return tallyLane(run, lane, {
      // Calls in flight whose answers could not be written (their lease lapses, they are made again).
      repeatsAllowed: (ledger) => ledger.retriedAttempts + CONCURRENCY,
      everyDecisionOwesACall: true,
    });
  },
};
