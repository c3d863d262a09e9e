import type postgres from 'postgres';
import { type SimulatedAiSystem, startSimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import { applyPlanApproved, CaseRun, ownRedis, settleLane, startLane } from './case-setup.js';
import type { ControllerApi } from '../../src/client/controller-api.js';
import type { ChallengerView } from '../../src/promotion/challenger-view.js';
import type { Checks, FaultCase } from './fault-case.js';
import { faultPlan, type PlanOptions } from './fault-plans.js';
import { sleep, waitFor } from './waiting.js';

const NAME = 'challenger';
const USE_CASE = 'faults-challenger';
/**
 * Both plans' AI settings. A timeout well above the simulated AI's latency and three attempts: a
 * call that times out on a loaded machine is retried, not recorded as an error, so every challenger
 * call can be required to end answered.
 */
const PLAN: PlanOptions = {
  concurrency: 8,
  timeoutMs: 2_000,
  maxAttempts: 3,
  stages: '  shadow: {}\n  human-reviewed: {}',
  // Manual: the challenger is judged throughout but never swapped in, so it owes calls to the end.
  challenger: '{ approval: manual, margin: 0.02 }',
};
/** The challenger plan's calls in flight per process: room for its slower AI at the traffic's pace. */
const CHALLENGER_CONCURRENCY = 16;
/** The worker's lease on a claimed challenger call: timeoutMs × maxAttempts + 15 s. */
const LEASE_S = (PLAN.timeoutMs! * PLAN.maxAttempts!) / 1000 + 15;
/** How long the controller stays down after the kill, ms, drawn per run. */
const DOWN_MS = { min: 500, max: 2_500 };

export const challenger: FaultCase = {
  name: NAME,
  fault:
    'a human-reviewed use case with an active challenger (a second, slower simulated AI; manual approval, never swapped in): the controller is killed with SIGKILL and restarted, and Redis flushed, mid-run, in an order drawn per run',
  guarantee:
    'every decision stored while the challenger is active owes it exactly one call, and every one ends answered (done), scored against the human and paired with the champion once; the challenger AI is asked each request at most the attempts recorded; the champion keeps answering the suggestions and the challenger is not swapped in',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const latencyMs = { min: 20, max: 150 };
    const champion = await startSimulatedAiSystem({ latencyMs, agreement: 0.9, modelVersion: 'champion-1' });
    ctx.defer(() => champion.close());
    // Slower than the champion, so a fault finds challenger calls in flight (about a dozen at once).
    const rival = await startSimulatedAiSystem({
      latencyMs: { min: 50, max: 400 },
      agreement: 0.95,
      modelVersion: 'challenger-1',
      seed: 'challenger',
    });
    ctx.defer(() => rival.close());
    const redis = await ownRedis(ctx);
    const lane = await startLane(ctx, champion, {
      stack: { label: 'challenger', redisUrl: redis.url },
      useCase: USE_CASE,
      plan: PLAN,
      perSecond: ctx.random.around(ctx.quick ? 40 : 60, 0.2),
    });
    const { controller, handle, traffic, stack } = lane;
    const { sql } = stack.db;

    // The champion earns human-reviewed (forced: the gate is not what this case tests), then a
    // plan version points the use case at the second AI: it becomes the challenger.
    await stack.admin.postJson(`/v1/use-cases/${USE_CASE}/promote`, {
      reason: 'fault suite: the champion holds human-reviewed',
      force: true,
    });
    await waitFor(
      `the SDK to see ${USE_CASE} in human-reviewed`,
      () => (handle.sdk.modeOf(USE_CASE, { requestId: 'probe' }) === 'human-reviewed' ? true : undefined),
      10_000,
    );
    const applied = (await applyPlanApproved(
      stack,
      USE_CASE,
      faultPlan(USE_CASE, rival.url, { ...PLAN, concurrency: CHALLENGER_CONCURRENCY }),
    )) as {
      challenger?: { action: string } | null;
    };
    checks.that(
      applied.challenger?.action === 'challenger.started',
      `the plan with the second AI did not start a challenger (${JSON.stringify(applied.challenger)})`,
    );

    const phaseMs = ctx.quick ? 2_500 : 4_000;
    const killFirst = ctx.random.next() < 0.5;
    let killedAt = 0;
    traffic.start();
    for (const fault of killFirst ? ['kill', 'flush'] : ['flush', 'kill']) {
      await sleep(ctx.random.around(phaseMs, 0.4));
      const decided = traffic.records.length;
      const inFlight = rival.stats().pending;
      const owed = await owedChallengerCalls(sql);
      if (fault === 'kill') {
        const downMs = ctx.random.int(DOWN_MS.min, DOWN_MS.max);
        await controller.kill();
        killedAt = Date.now();
        await sleep(downMs);
        const restartAt = Date.now();
        await controller.start();
        facts.push(
          `SIGKILL after ${decided} decisions, ${inFlight} challenger calls in flight, ${owed} owed; ` +
            `down ${(downMs / 1000).toFixed(1)} s, ready again ${((Date.now() - restartAt) / 1000).toFixed(1)} s after the restart`,
        );
      } else {
        await redis.flushAll();
        facts.push(
          `FLUSHALL after ${decided} decisions, ${inFlight} challenger calls in flight, ${owed} owed`,
        );
      }
    }
    await sleep(ctx.random.around(phaseMs, 0.4));
    const trafficAfterKillS = (Date.now() - killedAt) / 1000;
    await traffic.stop();

    const settledMs = await settleLane(lane, 120_000);
    await settleChallenger(sql, 120_000);
    const recoveredS = (Date.now() - killedAt) / 1000;
    facts.push(
      `settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped, every challenger call done ` +
        `${recoveredS.toFixed(1)} s after the kill (lease ${LEASE_S} s, traffic ran ${trafficAfterKillS.toFixed(1)} s after it)`,
    );
    checks.atMost(
      Math.round(recoveredS),
      Math.ceil(trafficAfterKillS) + LEASE_S + 15,
      'seconds from the kill until no challenger call was owed (traffic after it + lease + 15)',
    );

    const modes = new Map<string, number>();
    for (const r of traffic.records) modes.set(r.mode, (modes.get(r.mode) ?? 0) + 1);
    const sdkStats = handle.sdk.stats();
    facts.push(
      `SDK decided in ${[...modes].map(([m, n]) => `${m} ×${n}`).join(', ')}; suggestions late ` +
        `${sdkStats.suggestionsLate}, failed ${sdkStats.suggestionsFailed} (the human decided without one)`,
    );
    await checkChallenger(sql, rival, checks, facts);
    await checkChampionKept(stack.admin, sql, checks, facts);

    return run.tally(stack, {
      traffic,
      useCases: [USE_CASE],
      sims: [champion],
      sdks: [handle],
      // The champion's suggestion calls interrupted by the kill are made again: the attempts recorded.
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      // Mirrored decisions outside shadow owe the champion nothing (the SDK mirrors when a suggestion failed).
      everyDecisionOwesACall: false,
    });
  },
};

async function owedChallengerCalls(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`
    select count(*)::int as n from challenger_calls where use_case = ${USE_CASE} and state = 'owed'`;
  return row?.n ?? 0;
}

/**
 * Waits (bounded) until no challenger call is owed, none answered waits for its score, and none
 * scored waits to be paired with a champion answer that exists.
 */
async function settleChallenger(sql: postgres.Sql, timeoutMs: number): Promise<void> {
  await waitFor(
    'no challenger call owed, unscored or unpaired',
    async () => {
      const [row] = await sql<Array<{ owed: number; unscored: number; unpaired: number }>>`
        select count(*) filter (where cc.state = 'owed')::int as owed,
               count(*) filter (where cc.state = 'done' and cc.score is null and d.human_decision is not null)::int
                 as unscored,
               count(*) filter (where cc.score is not null and not cc.paired
                 and (d.score is not null or d.ai_state = 'error'))::int as unpaired
        from challenger_calls cc
        left join decisions d on d.use_case = cc.use_case and d.request_id = cc.request_id
        where cc.use_case = ${USE_CASE}`;
      if (!row) return undefined;
      if (row.owed === 0 && row.unscored === 0 && row.unpaired === 0) return true;
      throw new Error(
        `${row.owed} challenger calls owed, ${row.unscored} unscored, ${row.unpaired} unpaired`,
      );
    },
    timeoutMs,
    500,
  );
}

interface CallRow {
  request_id: string;
  challenger_id: number;
  state: string;
  attempts: number;
  answer: string | null;
  scored: boolean;
  paired: boolean;
}

/**
 * The challenger's ledger: one call per stored decision, each answered, scored and paired once,
 * its answer the challenger AI's own, and the challenger AI asked no request more often than the
 * attempts PostgreSQL recorded for it.
 */
async function checkChallenger(
  sql: postgres.Sql,
  rival: SimulatedAiSystem,
  checks: Checks,
  facts: string[],
): Promise<void> {
  const decisions = await sql<Array<{ request_id: string; champion_scored: boolean }>>`
    select request_id, score is not null as champion_scored from decisions where use_case = ${USE_CASE}`;
  const calls = await sql<CallRow[]>`
    select request_id, challenger_id, state, attempts, decision #>> '{}' as answer,
           score is not null as scored, paired
    from challenger_calls where use_case = ${USE_CASE}`;
  const challengers = await sql<
    Array<{
      id: number;
      state: string;
      plan_version: number;
      champion_plan_version: number;
      n: number | null;
    }>
  >`
    select id, state, plan_version, champion_plan_version, (paired ->> 'n')::int as n
    from challengers where use_case = ${USE_CASE}`;

  checks.equal(challengers.length, 1, 'challengers of the use case');
  const active = challengers[0];
  checks.that(
    active?.state === 'active' && active.plan_version === 2 && active.champion_plan_version === 1,
    `the challenger is not the active one of plan version 2 beside champion 1: ${JSON.stringify(active)}`,
  );

  const callsOf = new Map<string, CallRow[]>();
  for (const c of calls) callsOf.set(c.request_id, [...(callsOf.get(c.request_id) ?? []), c]);
  const stored = new Set(decisions.map((d) => d.request_id));
  const without = decisions.filter((d) => !callsOf.has(d.request_id)).map((d) => d.request_id);
  const twice = [...callsOf].filter(([, list]) => list.length > 1).map(([id]) => id);
  const orphans = calls.filter((c) => !stored.has(c.request_id)).map((c) => c.request_id);
  checks.equal(
    without.length,
    0,
    `stored decisions owing the challenger no call (e.g. ${without.slice(0, 5).join(', ')})`,
  );
  checks.equal(
    twice.length,
    0,
    `decisions owing the challenger more than one call (e.g. ${twice.slice(0, 5).join(', ')})`,
  );
  checks.equal(
    orphans.length,
    0,
    `challenger calls without a stored decision (e.g. ${orphans.slice(0, 5).join(', ')})`,
  );

  const byState = (state: string) => calls.filter((c) => c.state === state).length;
  const done = byState('done');
  checks.equal(byState('owed'), 0, 'challenger calls still owed');
  checks.equal(byState('error'), 0, 'challenger calls ended in error');
  checks.equal(done, calls.length, 'challenger calls answered (state done) of those owed');
  checks.equal(
    calls.filter((c) => !c.scored).length,
    0,
    'challenger answers without a score (every decision has its human side)',
  );
  const championScored = new Set(decisions.filter((d) => d.champion_scored).map((d) => d.request_id));
  const pairs = calls.filter((c) => c.paired && championScored.has(c.request_id)).length;
  checks.equal(
    calls.filter((c) => !c.paired && championScored.has(c.request_id)).length,
    0,
    'challenger answers with a champion answer and no pair',
  );
  checks.equal(active?.n ?? 0, pairs, 'pairs in the paired confidence sequence against pairs marked folded');

  // What the challenger AI saw against what PostgreSQL recorded.
  const { byRequest } = rival.stats();
  const overAsked: string[] = [];
  const notAsked: string[] = [];
  const otherAnswer: string[] = [];
  let recordedRetries = 0;
  for (const c of calls) {
    const seen = byRequest[c.request_id];
    recordedRetries += Math.max(0, c.attempts - 1);
    if (!seen || seen.calls === 0) {
      notAsked.push(c.request_id);
      continue;
    }
    if (seen.calls > c.attempts)
      overAsked.push(`${c.request_id} (${seen.calls} calls, ${c.attempts} attempts)`);
    if (c.state === 'done' && seen.decision !== c.answer) otherAnswer.push(c.request_id);
  }
  const unowed = Object.keys(byRequest).filter((id) => !callsOf.has(id));
  const repeats = Object.values(byRequest).reduce((sum, r) => sum + Math.max(0, r.calls - 1), 0);
  checks.equal(
    overAsked.length,
    0,
    `requests asked of the challenger AI more often than the attempts recorded (e.g. ${overAsked.slice(0, 3).join(', ')})`,
  );
  checks.equal(
    notAsked.length,
    0,
    `challenger calls recorded but never made (e.g. ${notAsked.slice(0, 5).join(', ')})`,
  );
  checks.equal(
    otherAnswer.length,
    0,
    `challenger calls whose recorded answer is not the challenger AI's (e.g. ${otherAnswer.slice(0, 5).join(', ')})`,
  );
  checks.equal(
    unowed.length,
    0,
    `requests the challenger AI was asked that owe it no call (e.g. ${unowed.slice(0, 5).join(', ')})`,
  );

  facts.push(
    `challenger calls: owed ${calls.length} for ${decisions.length} stored decisions, done ${done}, ` +
      `scored ${calls.filter((c) => c.scored).length}, paired with the champion ${pairs}; ` +
      `challenger AI asked ${Object.keys(byRequest).length} requests, repeats ${repeats} ` +
      `(attempts recorded beyond the first: ${recordedRetries})`,
  );
}

/** The champion answered every suggestion, the stage did not move and the challenger was not swapped in. */
async function checkChampionKept(
  admin: ControllerApi,
  sql: postgres.Sql,
  checks: Checks,
  facts: string[],
): Promise<void> {
  const [versions] = await sql<Array<{ champion: number; other: number }>>`
    select count(*) filter (where ai_model_version = 'champion-1')::int as champion,
           count(*) filter (where ai_model_version is not null and ai_model_version <> 'champion-1')::int as other
    from decisions where use_case = ${USE_CASE}`;
  checks.equal(versions?.other ?? -1, 0, 'suggestions answered by another model than the champion');
  const view = await admin.getJson<{ stage: string } & Omit<ChallengerView, 'history'>>(
    `/v1/use-cases/${USE_CASE}`,
  );
  checks.that(view.stage === 'human-reviewed', `the stage moved to ${view.stage}`);
  checks.equal(view.champion?.planVersion ?? -1, 1, 'the champion’s plan version');
  checks.that(view.challenger !== null, 'no active challenger at the end (manual approval: never swapped)');
  checks.equal(view.challenger?.owedCalls ?? -1, 0, 'owedCalls in GET /v1/use-cases/:id');
  const p = view.challenger?.paired;
  facts.push(
    `champion answered ${versions?.champion ?? 0} suggestions; challenger verdict ${view.challenger?.verdict ?? '-'}` +
      (p ? `, paired n ${p.n}, mean ${p.mean.toFixed(3)}, bounds [${p.lower}, ${p.upper}]` : ''),
  );
}
