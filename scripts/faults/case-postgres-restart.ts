import { CaseRun, ownPostgres, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { sleep } from './waiting.js';

const NAME = 'postgres-restart';
const CONCURRENCY = 8;
/** How long PostgreSQL stays down, ms, drawn per run. */
const OUTAGE_MS = { min: 2_000, max: 5_000 };

export const postgresRestart: FaultCase = {
  name: NAME,
  fault: 'PostgreSQL stopped as in a crash (pg_ctl stop -m immediate) mid-run and started again',
  guarantee:
    'ingest answers 503 with Retry-After while the database is away, the SDK keeps resending, and every decision it was answered 202 for survives the crash: nothing lost, nothing stored twice; AI calls in flight, and answers whose relaxed commit the crash forgot, are made again',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const postgres = await ownPostgres(ctx);
    const perSecond = ctx.random.around(ctx.quick ? 60 : 100, 0.2);
    const lane = await startLane(ctx, sim, {
      stack: { label: 'pg', pgAdminUrl: postgres.adminUrl },
      useCase: 'faults-pg',
      plan: { concurrency: CONCURRENCY },
      perSecond,
    });
    const { stack, controller, handle, traffic } = lane;

    const phaseMs = ctx.quick ? 4_000 : 7_000;
    const outageMs = ctx.random.int(OUTAGE_MS.min, OUTAGE_MS.max);
    traffic.start();
    await sleep(ctx.random.around(phaseMs, 0.4));

    const before = traffic.records.length;
    const inFlight = sim.stats().pending;
    await postgres.crash();
    const probes = await probeIngest(controller.url, stack.ingestKey, outageMs);
    await postgres.start();
    facts.push(
      `PostgreSQL down ${(outageMs / 1000).toFixed(1)} s after ${before} decisions, ${inFlight} AI calls in flight; ` +
        `${traffic.records.length - before} decisions made meanwhile; ingest answered ${summarize(probes.statuses)}` +
        `${probes.retryAfter ? ` (Retry-After: ${probes.retryAfter})` : ''}`,
    );
    checks.that(probes.statuses.includes(503), 'ingest never answered 503 while PostgreSQL was down');
    checks.that(probes.retryAfter !== null, 'the 503 carried no Retry-After');
    await sleep(ctx.random.around(phaseMs, 0.4));
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);
    checks.that(
      [...handle.retryReasons.keys()].some((r) => r.startsWith('HTTP 503')),
      'the SDK never resent after a 503',
    );

    return tallyLane(run, lane, {
      // Calls in flight, plus answers committed without waiting for the WAL (docs/design.md)
      // in the moment before the crash: about a second of traffic at most.
      repeatsAllowed: CONCURRENCY + perSecond,
      everyDecisionOwesACall: true,
    });
  },
};

/** Posts a decision of an unknown use case during the outage: 503 while the database is away, 404 once back. */
async function probeIngest(
  url: string,
  key: string,
  durationMs: number,
): Promise<{ statuses: number[]; retryAfter: string | null }> {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  const ends = Date.now() + durationMs;
  for (let i = 0; Date.now() < ends; i++) {
    const response = await fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ useCase: 'faults-probe', requestId: `probe-${i}`, input: {} }),
      signal: AbortSignal.timeout(8_000),
    }).catch(() => null);
    await response?.arrayBuffer();
    statuses.push(response?.status ?? 0);
    if (response?.status === 503) retryAfter ??= response.headers.get('retry-after');
    await sleep(200);
  }
  return { statuses, retryAfter };
}

function summarize(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s === 0 ? 'no answer' : s} ×${n}`).join(', ');
}
