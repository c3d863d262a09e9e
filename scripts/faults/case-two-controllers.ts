import { counterSum, metricsText } from './prometheus-text.js';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';
import { applyPlanApproved, CaseRun, startSim } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { startSdk, startStack } from './fault-stack.js';
import { settle, transitionsOf } from './ledger.js';
import type { SeededRandom } from './seeded-random.js';
import { TrafficDriver } from './traffic.js';
import { sleep, waitFor } from './waiting.js';
import { useCaseView } from './use-case-view.js';

const NAME = 'two-controllers';
const AUTO = 'faults-two-auto';
const MANUAL = 'faults-two-manual';
const RACE = 'faults-two-race';
/** Items per raced batch, drawn per batch from the run's seed. */
const RACE_BATCH = { min: 10, max: 30 };

export const twoControllers: FaultCase = {
  name: NAME,
  fault: 'two controller processes serve, work the queue and tick at once on one database and Redis',
  guarantee:
    'no decision, AI call or stage change counted twice: the same batch posted to both at the same instant is stored once, each owed call is made by one process, an automatic promotion happens once and a manual gate is announced once, though both processes tick (each tick slot is taken by one)',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 10, max: 80 });
    const stack = await startStack(ctx, { label: 'two', controllers: 2 });
    const [a, b] = stack.controllers as [(typeof stack.controllers)[0], (typeof stack.controllers)[0]];
    const minSamples = ctx.quick ? 100 : 200;
    const gate = (approval: string) => `  shadow:
    promoteWhen: { minSamples: ${minSamples}, agreementLowerBound: 0.5 }
    approval: ${approval}
  human-reviewed: {}`;
    await applyPlanApproved(stack, AUTO, faultPlan(AUTO, sim.url, { stages: gate('automatic') }));
    await applyPlanApproved(stack, MANUAL, faultPlan(MANUAL, sim.url, { stages: gate('manual') }));
    await applyPlanApproved(stack, RACE, faultPlan(RACE, sim.url));
    const sdkA = startSdk(ctx, a.url, stack.ingestKey);
    const sdkB = startSdk(ctx, b.url, stack.ingestKey);
    await Promise.all([sdkA.sdk.ready(), sdkB.sdk.ready()]);

    const traffic = new TrafficDriver({
      lanes: [
        { sdk: sdkA.sdk, useCase: AUTO },
        { sdk: sdkB.sdk, useCase: AUTO },
        { sdk: sdkA.sdk, useCase: MANUAL },
        { sdk: sdkB.sdk, useCase: MANUAL },
      ],
      perSecond: ctx.random.around(ctx.quick ? 80 : 120, 0.2),
      idPrefix: 'two',
      labels: LABELS,
      random: ctx.random.next,
    });
    traffic.start();
    const race = raceBatches([a.url, b.url], stack.ingestKey, ctx.random);

    await waitFor(
      'the automatic promotion and the manual gate’s announcement',
      async () => {
        const auto = (await useCaseView(stack.admin, AUTO)).stage === 'human-reviewed';
        const [row] = await stack.db.sql<Array<{ n: number }>>`
          select count(*)::int as n from audit_events where use_case = ${MANUAL} and action = 'gate.eligible'`;
        return auto && (row?.n ?? 0) > 0 ? true : undefined;
      },
      90_000,
    );
    await sleep(ctx.random.int(1_000, 3_000));
    await traffic.stop();
    const raced = await race.stop();
    const settledMs = await settle([sdkA.sdk, sdkB.sdk], stack.db.sql, [AUTO, MANUAL, RACE], 60_000);

    // The same bytes to both processes at once: one of them stores each item, the other answers duplicate.
    const raceIds = raced.items;
    const [raceRows] = await stack.db.sql<Array<{ rows: number; distinct: number; ended: number }>>`
      select count(*)::int as rows, count(distinct request_id)::int as distinct,
             count(*) filter (where ai_state in ('done', 'error'))::int as ended
      from decisions where use_case = ${RACE}`;
    facts.push(
      `${raced.batches} batches of ${RACE_BATCH.min}–${RACE_BATCH.max} (${raced.items} items) posted to both at once: accepted ${raced.accepted}, ` +
        `duplicates ${raced.duplicates}, statuses ${[...new Set(raced.statuses)].join('/')}; ` +
        `${raceRows?.rows ?? 0} rows, ${raceRows?.ended ?? 0} AI calls`,
    );
    checks.equal(raced.accepted, raceIds, 'raced items accepted (by either process)');
    checks.equal(raced.duplicates, raceIds, 'raced items answered as duplicates');
    checks.equal(raceRows?.rows ?? 0, raceIds, 'rows of the raced items');
    checks.equal(raceRows?.ended ?? 0, raceIds, 'AI calls of the raced items');
    checks.that(
      raced.statuses.every((s) => s === 202),
      `a raced post was not answered 202`,
    );

    const promotions = (await transitionsOf(stack.db.sql, AUTO)).filter((t) => t.to === 'human-reviewed');
    checks.equal(promotions.length, 1, 'automatic promotions recorded');
    checks.equal(
      (await transitionsOf(stack.db.sql, MANUAL)).filter((t) => t.to !== 'shadow').length,
      0,
      'stage changes of the manual use case',
    );
    const [eligible] = await stack.db.sql<Array<{ n: number }>>`
      select count(*)::int as n from audit_events where use_case = ${MANUAL} and action = 'gate.eligible'`;
    checks.equal(eligible?.n ?? 0, 1, 'gate.eligible announcements of the manual use case');

    const ticks = await stack.db.sql<Array<{ owner: string; n: number }>>`
      select owner, count(*)::int as n from engine_ticks group by owner order by owner`;
    const [metricsA, metricsB] = await Promise.all([metricsText(stack.admin.target.url), metricsText(b.url)]);
    const calls = [metricsA, metricsB].map((m) => counterSum(m, 'shadowgate_ai_calls_total'));
    const promoteCount = [metricsA, metricsB].reduce(
      (n, m) => n + counterSum(m, 'shadowgate_transitions_total', { use_case: AUTO, kind: 'promote' }),
      0,
    );
    facts.push(
      `ticks taken ${ticks.map((t) => t.n).join(' and ')} by ${ticks.length} processes; ` +
        `AI calls made ${calls.join(' and ')}; promotions counted in /metrics ${promoteCount}; settled in ${(settledMs / 1000).toFixed(1)} s`,
    );
    checks.that(
      calls.every((n) => n > 0),
      'one of the processes made no AI call',
    );
    checks.equal(promoteCount, 1, 'promotions counted in the two processes’ /metrics');

    return run.tally(stack, {
      traffic,
      useCases: [AUTO, MANUAL, RACE],
      alsoSent: raced.ids,
      sims: [sim],
      sdks: [sdkA, sdkB],
      // Only retries the database recorded (an AI call that timed out on a loaded machine).
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: false,
    });
  },
};

interface RaceTally {
  batches: number;
  items: number;
  ids: string[];
  accepted: number;
  duplicates: number;
  statuses: number[];
}

/** Posts the same batch to every controller at the same instant, one batch every 50–150 ms, until stopped. */
function raceBatches(urls: string[], key: string, random: SeededRandom): { stop(): Promise<RaceTally> } {
  const tally: RaceTally = { batches: 0, items: 0, ids: [], accepted: 0, duplicates: 0, statuses: [] };
  let running = true;
  const loop = (async () => {
    for (let batch = 0; running; batch++) {
      const size = random.int(RACE_BATCH.min, RACE_BATCH.max);
      const decisions = Array.from({ length: size }, (_, i) => {
        const invoice = makeInvoice(100_000 + tally.items + i);
        return {
          useCase: RACE,
          requestId: `race-${batch}-${i}`,
          input: invoice.input,
          context: invoice.context,
          human: { decision: referenceLabel(invoice.input, LABELS), decidedBy: 'clerk-race', handlingMs: 40 },
        };
      });
      const body = JSON.stringify({ decisions });
      tally.ids.push(...decisions.map((d) => d.requestId));
      const answers = await Promise.all(
        urls.map(async (url) => {
          const response = await fetch(`${url}/v1/decisions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          return {
            status: response.status,
            body: (await response.json()) as { accepted?: number; duplicates?: number },
          };
        }),
      );
      tally.batches++;
      tally.items += size;
      for (const answer of answers) {
        tally.statuses.push(answer.status);
        tally.accepted += answer.body.accepted ?? 0;
        tally.duplicates += answer.body.duplicates ?? 0;
      }
      await sleep(random.int(50, 150));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return tally;
    },
  };
}
