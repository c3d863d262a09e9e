import { startSimulatedAiSystem } from '../../src/simulation/simulated-ai-system.js';
import { Checks, type FaultCase } from './fault-case.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { startSdk, startStack } from './fault-stack.js';
import { settle } from './ledger.js';
import { startOwnPostgres } from './postgres-cluster.js';
import { tally } from './tally.js';
import { TrafficDriver } from './traffic.js';
import { sleep } from './waiting.js';

const NAME = 'postgres-restart';
const CONCURRENCY = 8;
const OUTAGE_MS = 3_000;

export const postgresRestart: FaultCase = {
  name: NAME,
  fault: 'PostgreSQL stopped as in a crash (pg_ctl stop -m immediate) mid-run and started again',
  guarantee:
    'ingest answers 503 with Retry-After while the database is away, the SDK keeps resending, and every decision it was answered 202 for survives the crash: nothing lost, nothing stored twice; AI calls in flight, and answers whose relaxed commit the crash forgot, are made again',
  async run(ctx) {
    const startedAt = Date.now();
    const checks = new Checks();
    const facts: string[] = [];
    const sim = await startSimulatedAiSystem({ latencyMs: { min: 20, max: 150 }, agreement: 0.9 });
    ctx.defer(() => sim.close());
    // A cluster of the case's own: crashing the machine's PostgreSQL would hit everyone on it.
    const postgres = await startOwnPostgres();
    ctx.defer(() => postgres.destroy());
    const stack = await startStack(ctx, { label: 'pg', pgAdminUrl: postgres.adminUrl });
    const controller = stack.controllers[0]!;
    const useCase = 'faults-pg';
    await stack.admin.applyPlan(useCase, faultPlan(useCase, sim.url, { concurrency: CONCURRENCY }));
    const handle = startSdk(ctx, controller.url, stack.ingestKey);
    await handle.sdk.ready();

    const phaseMs = ctx.quick ? 4_000 : 7_000;
    const perSecond = ctx.quick ? 60 : 100;
    const traffic = new TrafficDriver({
      lanes: [{ sdk: handle.sdk, useCase }],
      perSecond,
      idPrefix: 'pg',
      labels: LABELS,
    });
    traffic.start();
    await sleep(phaseMs);

    const before = traffic.records.length;
    const inFlight = sim.stats().pending;
    await postgres.crash();
    const probes = await probeIngest(controller.url, stack.ingestKey, OUTAGE_MS);
    await postgres.start();
    facts.push(
      `PostgreSQL down ${OUTAGE_MS / 1000} s after ${before} decisions, ${inFlight} AI calls in flight; ` +
        `${traffic.records.length - before} decisions made meanwhile; ingest answered ${summarize(probes.statuses)}` +
        `${probes.retryAfter ? ` (Retry-After: ${probes.retryAfter})` : ''}`,
    );
    checks.that(probes.statuses.includes(503), 'ingest never answered 503 while PostgreSQL was down');
    checks.that(probes.retryAfter !== null, 'the 503 carried no Retry-After');
    await sleep(phaseMs);
    await traffic.stop();
    const settledMs = await settle([handle.sdk], stack.db.sql, [useCase], 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);
    checks.that(
      [...handle.retryReasons.keys()].some((r) => r.startsWith('HTTP 503')),
      'the SDK never resent after a 503',
    );

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
      // Calls in flight, plus answers committed without waiting for the WAL (README "Design")
      // in the moment before the crash: about a second of traffic at most.
      repeatsAllowed: CONCURRENCY + perSecond,
      everyDecisionOwesACall: true,
    });
    return result;
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
