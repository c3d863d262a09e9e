import { CaseRun, ownUnleash, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { transitionsOf } from './ledger.js';
import { sleep, waitFor } from './waiting.js';
import { useCaseView } from './use-case-view.js';

const NAME = 'unleash-down';

export const unleashDown: FaultCase = {
  name: NAME,
  fault: 'Unleash stopped mid-run while the gate becomes eligible, then started again',
  guarantee:
    'the SDKs keep deciding in their last mode, the promotion still happens (once) in the database, the flag catches up when Unleash is back and the SDKs follow; nothing lost',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 10, max: 60 });
    const unleash = await ownUnleash(ctx);
    const minSamples = ctx.quick ? 150 : 300;
    const lane = await startLane(ctx, sim, {
      stack: {
        label: 'unleash',
        env: { UNLEASH_URL: unleash.url, UNLEASH_ADMIN_TOKEN: unleash.adminToken },
      },
      useCase: 'faults-unleash',
      plan: {
        stages: `  shadow:
    promoteWhen: { minSamples: ${minSamples}, agreementLowerBound: 0.5 }
    approval: automatic
  human-reviewed: {}`,
      },
      perSecond: ctx.random.around(ctx.quick ? 60 : 80, 0.2),
      sdk: { unleash: { url: `${unleash.url}/api`, apiKey: unleash.clientToken } },
    });
    const { stack, useCase, traffic } = lane;
    checks.that(lane.ready, 'the SDK did not get its flags from Unleash');

    traffic.start();
    await sleep(ctx.random.int(1_000, 3_000));
    await unleash.stop();
    const downAt = Date.now();

    const stage = async () => (await useCaseView(stack.admin, useCase)).stage;
    await waitFor(
      'the promotion to human-reviewed in the database',
      async () => ((await stage()) === 'human-reviewed' ? true : undefined),
      90_000,
    );
    const promotedAt = Date.now();
    await sleep(ctx.random.int(1_000, 3_000));
    await unleash.restart();
    const backAt = Date.now();
    const firstReviewed = await waitFor(
      'the SDK to decide in human-reviewed',
      () => traffic.records.find((r) => r.mode === 'human-reviewed'),
      30_000,
    );
    await sleep(ctx.random.int(1_000, 3_000));
    await traffic.stop();
    const settledMs = await settleLane(lane, 60_000);

    const during = traffic.records.filter((r) => r.at >= downAt && r.at < backAt);
    const afterPromotion = during.filter((r) => r.at >= promotedAt);
    const notShadow = during.filter((r) => r.mode !== 'shadow').length;
    const later = traffic.records.filter((r) => r.at > firstReviewed.at);
    const lagging = later.filter((r) => r.mode !== 'human-reviewed').length;
    facts.push(
      `Unleash down ${((backAt - downAt) / 1000).toFixed(1)} s: ${during.length} decisions, ` +
        `${afterPromotion.length} of them after the promotion, all in ${[...new Set(during.map((r) => r.mode))].join('/')}`,
    );
    facts.push(
      `promoted ${((promotedAt - downAt) / 1000).toFixed(1)} s into the outage; the SDK followed ` +
        `${((firstReviewed.at - backAt) / 1000).toFixed(1)} s after Unleash was back; settled in ${(settledMs / 1000).toFixed(1)} s`,
    );
    checks.equal(notShadow, 0, 'decisions during the outage in another mode than the last one (shadow)');
    checks.that(
      afterPromotion.length > 0,
      'no decision was made between the promotion and the end of the outage',
    );
    checks.equal(lagging, 0, 'decisions after the SDK followed that were not human-reviewed');

    const promotions = (await transitionsOf(stack.db.sql, useCase)).filter((t) => t.to === 'human-reviewed');
    checks.equal(promotions.length, 1, 'promotions to human-reviewed recorded');
    const promotion = promotions[0];
    checks.that(
      promotion !== undefined && promotion.at.getTime() >= downAt && promotion.at.getTime() <= backAt,
      'the promotion was not recorded while Unleash was down',
    );

    // A call that timed out on a loaded machine is retried by design, and the database counts the
    // attempt: those repeats are allowed, no other (a 20-repeat run saw one such retry).
    return tallyLane(run, lane, {
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: false,
    });
  },
};
