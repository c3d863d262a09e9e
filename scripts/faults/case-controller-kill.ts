import { CaseRun, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import type { FaultCase } from './fault-case.js';
import { sleep } from './waiting.js';

const CONCURRENCY = 8;
/** The plan's timeoutMs × maxAttempts + the worker's 15 s margin: how long a claimed call stays reserved. */
const LEASE_S = (1_000 * 2) / 1000 + 15;
/** After the last kill, the calls it interrupted are made again within the lease and a few sweeps. */
const RECOVERY_BOUND_S = LEASE_S + 15;
/** How long the controller stays down after a kill, ms, drawn per kill. */
const DOWN_MS = { min: 500, max: 2_500 };

export const controllerKill: FaultCase = {
  name: 'controller-kill',
  fault: 'the controller is killed with SIGKILL mid-run and restarted on the same port',
  guarantee:
    'every decision stored exactly once, every owed AI call made and compared once; only calls in flight at a kill may be repeated (at most the plan’s concurrency per kill)',
  async run(ctx) {
    const run = new CaseRun(controllerKill.name);
    const { checks, facts } = run;
    const sim = await startSim(ctx, { min: 20, max: 150 });
    const lane = await startLane(ctx, sim, {
      stack: { label: 'kill' },
      useCase: 'faults-kill',
      plan: { concurrency: CONCURRENCY, timeoutMs: 1_000, maxAttempts: 2 },
      perSecond: ctx.random.around(ctx.quick ? 60 : 100, 0.2),
    });
    const { controller, traffic } = lane;

    const seconds = ctx.quick ? 8 : 15;
    const kills = ctx.quick ? 1 : 2;
    traffic.start();
    const slice = (seconds * 1000) / (kills + 1);
    let lastKillAt = 0;
    for (let k = 1; k <= kills; k++) {
      // When each kill strikes (so how many decisions and AI calls it catches) and how long the
      // controller stays down vary by seed.
      const downMs = ctx.random.int(DOWN_MS.min, DOWN_MS.max);
      await sleep(ctx.random.around(slice - 1_000, 0.5));
      const inFlight = sim.stats().pending;
      const decidedBefore = traffic.records.length;
      await controller.kill();
      lastKillAt = Date.now();
      await sleep(downMs);
      const restartAt = Date.now();
      await controller.start();
      facts.push(
        `kill ${k} after ${decidedBefore} decisions, ${inFlight} AI calls in flight; ` +
          `down ${(downMs / 1000).toFixed(1)} s, ready again ${((Date.now() - restartAt) / 1000).toFixed(1)} s after the restart`,
      );
    }
    await sleep(slice);
    await traffic.stop();
    const settledMs = await settleLane(lane, 120_000);
    const recoveredS = (Date.now() - lastKillAt) / 1000;
    facts.push(
      `settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped, ` +
        `${recoveredS.toFixed(1)} s after the last kill (lease ${LEASE_S} s)`,
    );
    checks.atMost(
      Math.round(recoveredS),
      RECOVERY_BOUND_S,
      'seconds from the last kill until nothing was owed',
    );

    return tallyLane(run, lane, { repeatsAllowed: kills * CONCURRENCY, everyDecisionOwesACall: true });
  },
};
