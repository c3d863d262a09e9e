import { randomBytes } from 'node:crypto';
import { ControllerApi } from '../../src/client/controller-api.js';
import { applyPlanApproved, CaseRun, startSim } from './case-setup.js';
import { type ControllerProcess, controllerProcess, ROOT } from './controller-process.js';
import type { CaseContext, FaultCase } from './fault-case.js';
import { createFaultDatabase } from './fault-database.js';
import { faultPlan, LABELS } from './fault-plans.js';
import { ADMIN_KEY, type Stack, startSdk } from './fault-stack.js';
import { settle, transitionsOf } from './ledger.js';
import { LogWatch } from './log-watch.js';
import { materialisePreviousRelease } from './previous-release.js';
import { deletePrefix } from './redis-server.js';
import { TrafficDriver } from './traffic.js';
import { freePort, sleep } from './waiting.js';
import { useCaseView } from './use-case-view.js';

const NAME = 'rolling-upgrade';
const SHADOW = 'faults-upgrade-shadow';
const AUTO = 'faults-upgrade-auto';
/** Time the old release serves alone, then both together, then the new one alone, ms (drawn per run). */
const OLD_ALONE_MS = { min: 3_000, max: 6_000 };
const BOTH_MS = { min: 8_000, max: 12_000 };
const NEW_ALONE_MS = { min: 2_000, max: 4_000 };

export const rollingUpgrade: FaultCase = {
  name: NAME,
  fault:
    'the previous release serves and works the queue on a fresh database, the new release starts on the same database and queue (migrating it forward) and both serve at once, then the previous one is stopped',
  guarantee:
    'migrations stay backward compatible for one release: both releases store, call and compare every decision once (traffic split between them), the automatic promotion is recorded once, neither logs a schema error, and the new release reads what the old one wrote (keys, plans, rows)',
  async run(ctx) {
    const run = new CaseRun(NAME);
    const { checks, facts } = run;
    const release = await materialisePreviousRelease(ROOT);
    facts.push(
      `previous release ${release.commit.slice(0, 10)} (${release.chosenBy}); ` +
        (release.install === 'kept'
          ? `installed by an earlier run in ${release.dir}`
          : `extracted and installed (${release.install}) in ${release.seconds.toFixed(1)} s`),
    );
    const sim = await startSim(ctx, { min: 10, max: 80 });
    const { stack, old, neu, oldLog, newLog } = await upgradeStack(ctx, release);
    // Past what the previous release alone sees (~6–9 s of traffic), so the gate opens while both tick.
    const minSamples = ctx.quick ? 400 : 600;
    await applyPlanApproved(stack, SHADOW, faultPlan(SHADOW, sim.url));
    await applyPlanApproved(
      stack,
      AUTO,
      faultPlan(AUTO, sim.url, {
        stages: `  shadow:
    promoteWhen: { minSamples: ${minSamples}, agreementLowerBound: 0.5 }
    approval: automatic
  human-reviewed: {}`,
      }),
    );
    stack.ingestKey = await stack.admin.createKey('faults-upgrade', 'ingest');
    const perSecond = ctx.random.around(ctx.quick ? 60 : 90, 0.2);
    const sdkOld = startSdk(ctx, old.url, stack.ingestKey);
    checks.that(await sdkOld.sdk.ready(), 'the SDK got no flags from the previous release');
    const lanesOf = (sdk: typeof sdkOld.sdk) => [
      { sdk, useCase: SHADOW },
      { sdk, useCase: AUTO },
    ];
    const alone = new TrafficDriver({
      lanes: lanesOf(sdkOld.sdk),
      perSecond,
      idPrefix: 'upgrade-old',
      labels: LABELS,
      random: ctx.random.next,
    });
    alone.start();
    await sleep(ctx.random.int(OLD_ALONE_MS.min, OLD_ALONE_MS.max));

    // The new release migrates the database forward while the old one keeps serving.
    const newStarted = Date.now();
    const phases = { bothFrom: 0, oldStopped: 0 };
    await neu.start();
    facts.push(
      `the new release migrated and was ready in ${((Date.now() - newStarted) / 1000).toFixed(1)} s while the previous one served`,
    );
    stack.admin = new ControllerApi({ url: neu.url, key: ADMIN_KEY }, { timeoutMs: 15_000 });
    const sdkNew = startSdk(ctx, neu.url, stack.ingestKey);
    checks.that(await sdkNew.sdk.ready(), 'the SDK got no flags from the new release');
    await alone.stop();
    const both = new TrafficDriver({
      lanes: [...lanesOf(sdkOld.sdk), ...lanesOf(sdkNew.sdk)],
      perSecond,
      idPrefix: 'upgrade-both',
      labels: LABELS,
      random: ctx.random.next,
    });
    phases.bothFrom = Date.now();
    both.start();
    await sleep(ctx.random.int(BOTH_MS.min, BOTH_MS.max));
    await both.stop();

    // The rollout's last step: the old process's traffic is drained, then it is stopped.
    if (!(await sdkOld.sdk.flush(30_000)))
      checks.that(false, 'the SDK of the previous release did not flush');
    const stoppedAt = Date.now();
    await old.terminate(15_000);
    phases.oldStopped = Date.now();
    facts.push(`the previous release exited ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after SIGTERM`);
    const after = new TrafficDriver({
      lanes: lanesOf(sdkNew.sdk),
      perSecond,
      idPrefix: 'upgrade-new',
      labels: LABELS,
      random: ctx.random.next,
    });
    after.start();
    await sleep(ctx.random.int(NEW_ALONE_MS.min, NEW_ALONE_MS.max));
    await after.stop();
    const settledMs = await settle([sdkOld.sdk, sdkNew.sdk], stack.db.sql, [SHADOW, AUTO], 60_000);

    const byPhase = { old: alone.records.length, both: both.records.length, new: after.records.length };
    const promotions = (await transitionsOf(stack.db.sql, AUTO)).filter((t) => t.to === 'human-reviewed');
    const [ticks] = await stack.db.sql<Array<{ owners: number }>>`
      select count(distinct owner)::int as owners from engine_ticks`;
    const stage = (await useCaseView(stack.admin, AUTO)).stage;
    facts.push(
      `decided ${byPhase.old} with the previous release alone, ${byPhase.both} with both (split between them), ` +
        `${byPhase.new} with the new one alone; AUTO ${stage}, promoted ${promotions.length}× ${promotions.map((p) => phaseOf(p.at.getTime(), phases)).join(', ')}; ` +
        `ticks taken by ${ticks?.owners ?? 0} processes; settled in ${(settledMs / 1000).toFixed(1)} s`,
    );
    checks.that(byPhase.old > 0 && byPhase.both > 0 && byPhase.new > 0, 'a phase decided nothing');
    checks.equal(promotions.length, 1, 'automatic promotions recorded');
    for (const [who, log] of [
      ['the previous release', oldLog],
      ['the new release', newLog],
    ] as const) {
      checks.equal(
        log.count,
        0,
        `error or schema lines logged by ${who} (${log.troubles.slice(0, 3).join(' | ')})`,
      );
    }
    for (const driver of [alone, after]) {
      checks.equal(
        driver.thrown.length,
        0,
        `decide calls that threw (${driver.thrown.slice(0, 3).join('; ')})`,
      );
    }

    return run.tally(stack, {
      traffic: both,
      alsoSent: [...alone.records, ...after.records].map((r) => r.requestId),
      useCases: [SHADOW, AUTO],
      sims: [sim],
      sdks: [sdkOld, sdkNew],
      // Only the retries the database recorded as attempts (a call the stopped process had in
      // flight is claimed again once its lease lapses, which counts as an attempt).
      repeatsAllowed: (ledger) => ledger.retriedAttempts,
      everyDecisionOwesACall: false,
    });
  },
};

interface UpgradeStack {
  stack: Stack;
  old: ControllerProcess;
  neu: ControllerProcess;
  oldLog: LogWatch;
  newLog: LogWatch;
}

/**
 * A fresh database and queue prefix, the previous release's controller started on them (it
 * creates the schema as that release knew it), and the new release's controller, not started.
 */
async function upgradeStack(
  ctx: CaseContext,
  release: Awaited<ReturnType<typeof materialisePreviousRelease>>,
): Promise<UpgradeStack> {
  const db = await createFaultDatabase(ctx.pgAdminUrl, 'upgrade');
  ctx.defer(() => db.drop());
  const queuePrefix = `sgfaults-upgrade-${randomBytes(4).toString('hex')}`;
  ctx.defer(() => deletePrefix(ctx.redisUrl, queuePrefix).catch(() => 0));
  const oldLog = new LogWatch();
  const newLog = new LogWatch();
  const common = { databaseUrl: db.url, redisUrl: ctx.redisUrl, queuePrefix, adminKey: ADMIN_KEY };
  const old = controllerProcess({
    ...common,
    name: 'previous-release',
    port: await freePort(),
    release: { cwd: release.dir, nodeArgs: release.nodeArgs },
    onOutput: oldLog.onOutput,
  });
  const neu = controllerProcess({
    ...common,
    name: 'new-release',
    port: await freePort(),
    onOutput: newLog.onOutput,
  });
  for (const controller of [old, neu]) {
    ctx.defer(() => controller.kill());
    ctx.onFailure(() => `${controller.name}, last log lines:\n${controller.tail(20)}`);
  }
  await old.start();
  // The admin API of the previous release until the new one serves (the case switches it).
  const admin = new ControllerApi({ url: old.url, key: ADMIN_KEY }, { timeoutMs: 15_000 });
  const stack: Stack = {
    db,
    controllers: [old, neu],
    admin,
    ingestKey: '',
    queuePrefix,
    redisUrl: ctx.redisUrl,
  };
  return { stack, old, neu, oldLog, newLog };
}

function phaseOf(at: number, phases: { bothFrom: number; oldStopped: number }): string {
  if (at < phases.bothFrom) return 'before the new release served';
  if (phases.oldStopped === 0 || at < phases.oldStopped) return 'while both served';
  return 'after the previous release stopped';
}
