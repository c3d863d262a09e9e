import postgres from 'postgres';
import { CaseRun, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { sleep } from './waiting.js';

const NAME = 'postgres-terminate';
const CONCURRENCY = 8;
/** The pause between two rounds of terminations, ms, drawn per round. */
const PAUSE_MS = { min: 1_000, max: 3_000 };

export const postgresTerminate: FaultCase = {
  name: NAME,
  fault:
    "every 1–3 s under load, pg_terminate_backend of each of the controller's connections to its database",
  guarantee:
    'the controller lives through it (postgres.js patched, porsager/postgres#1208); a transaction cut mid-way rolls back and is retried (ingest answers 503, the SDK resends): nothing lost, nothing stored twice, every owed AI call made and compared once, repeated at most once per call in flight at a cut',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const lane = await startLane(ctx, sim, {
      stack: { label: 'pgterm' },
      useCase: 'faults-pgterm',
      plan: { concurrency: CONCURRENCY },
      perSecond: ctx.random.around(ctx.quick ? 60 : 100, 0.2),
    });
    const { stack, controller, handle, traffic } = lane;
    const admin = postgres(ctx.pgAdminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    ctx.defer(() => admin.end({ timeout: 2 }));

    const faultMs = ctx.quick ? 7_000 : 15_000;
    traffic.start();
    await sleep(ctx.random.around(ctx.quick ? 2_000 : 3_000, 0.4));

    const before = traffic.records.length;
    const rounds: number[] = [];
    const ends = Date.now() + faultMs;
    while (Date.now() < ends) {
      // Only the backends of this case's own database, and not this session's.
      const cut = await admin<{ terminated: boolean }[]>`
        select pg_terminate_backend(pid) as terminated from pg_stat_activity
        where datname = ${stack.db.name} and pid <> pg_backend_pid()`;
      rounds.push(cut.filter((r) => r.terminated).length);
      await sleep(ctx.random.int(PAUSE_MS.min, PAUSE_MS.max));
    }
    const terminated = rounds.reduce((a, b) => a + b, 0);
    facts.push(
      `${rounds.length} rounds in ${(faultMs / 1000).toFixed(0)} s terminated ${terminated} backends (${rounds.join(', ')}); ` +
        `${traffic.records.length - before} decisions made meanwhile`,
    );
    checks.that(terminated > 0, 'no backend was terminated');

    const health = await fetch(`${controller.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(
      () => null,
    );
    await health?.arrayBuffer();
    checks.equal(health?.status ?? 0, 200, 'GET /healthz after the terminations (the process lives)');

    await sleep(ctx.random.around(ctx.quick ? 1_500 : 3_000, 0.4));
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(`settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped`);

    const cutRounds = rounds.filter((n) => n > 0).length;
    return tallyLane(run, lane, {
      // A call whose answer was being written when its connection was cut is made again once its
      // lease lapses: at most the calls in flight at each round, plus the retries recorded.
      repeatsAllowed: (ledger) => ledger.retriedAttempts + CONCURRENCY * cutRounds,
      everyDecisionOwesACall: true,
    }).then((result) => {
      if (handle.retries === 0) result.facts.push('the SDK resent nothing');
      return result;
    });
  },
};
