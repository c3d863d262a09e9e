import { CaseRun, settleLane, startLane, startSim, tallyLane } from './case-setup.js';
import {
  type ControllerLaunch,
  type ControllerProcess,
  controllerProcess,
  processAlive,
} from './controller-process.js';
import type { FaultCase } from './fault-case.js';
import { ADMIN_KEY } from './fault-stack.js';
import { sleep } from './waiting.js';

const CONCURRENCY = 40;
/** Calls slow enough that some outlast a short grace period and are handed back. */
const AI_LATENCY_MS = { min: 50, max: 2_500 };
/** The grace period each run gives its controllers, drawn per run. */
const GRACE_MS = { min: 800, max: 2_000 };
/**
 * Past the grace period, how long the process tree may take to be gone: the hand-back and the
 * closing take up to 5 s after it (README "Deploying and stopping"), the rest is a loaded machine.
 * An orphan left serving, or a stop that waits for the leases, exceeds it by far.
 */
const EXIT_MARGIN_MS = 6_000;

/** One way a deployment sends the signal: how the controller was started, and which process gets it. */
interface Round {
  launch: ControllerLaunch;
  to: 'launcher' | 'controller';
  what: string;
}

const ROUNDS: Round[] = [
  { launch: 'built', to: 'controller', what: 'node dist/src/cli/main.js serve, SIGTERM to the process' },
  { launch: 'npm-start', to: 'launcher', what: 'npm start, SIGTERM to npm' },
  { launch: 'bin', to: 'launcher', what: 'the shadowgate bin, SIGTERM to it' },
  { launch: 'npm-start', to: 'controller', what: 'npm start, SIGTERM to the controller under npm' },
];

/** The `stopped` line the controller logs last: what it held and handed back. */
function stoppedLine(tail: string): { inFlight: number; handedBack: number; ms: number } | undefined {
  for (const line of tail.split('\n').reverse()) {
    if (!line.includes('"msg":"stopped"')) continue;
    try {
      const parsed = JSON.parse(line) as { inFlight: number; handedBack: number; ms: number };
      return parsed;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export const sigterm: FaultCase = {
  name: 'sigterm',
  fault:
    'SIGTERM under load to npm start, to the shadowgate bin and to the controller process, each followed by a restart',
  guarantee:
    'the process tree is gone within the grace period plus a margin, exit status 0, nothing left claimed in PostgreSQL; every decision stored once, every owed AI call made and compared once; calls repeated at most those handed back',
  async run(ctx) {
    const run = new CaseRun(sigterm.name);
    const { checks, facts } = run;
    const graceMs = ctx.random.int(GRACE_MS.min, GRACE_MS.max);
    const env = { SHADOWGATE_SHUTDOWN_GRACE_MS: String(graceMs), LOG_LEVEL: 'info' };
    const sim = await startSim(ctx, AI_LATENCY_MS);
    const lane = await startLane(ctx, sim, {
      stack: { label: 'sigterm', env },
      useCase: 'faults-sigterm',
      plan: { concurrency: CONCURRENCY, timeoutMs: 5_000, maxAttempts: 2 },
      perSecond: ctx.random.around(ctx.quick ? 15 : 25, 0.2),
    });
    const { stack, traffic } = lane;
    const first = lane.controller;
    const spec = (launch: ControllerLaunch, k: number) =>
      controllerProcess({
        name: `controller-${launch}-${k}`,
        port: first.port,
        databaseUrl: stack.db.url,
        redisUrl: ctx.redisUrl,
        queuePrefix: stack.queuePrefix,
        adminKey: ADMIN_KEY,
        env,
        launch,
      });
    facts.push(`grace period ${graceMs} ms`);

    traffic.start();
    let current: ControllerProcess = first;
    let handedBack = 0;
    const rounds = ctx.quick ? ROUNDS.slice(1, 3) : ROUNDS;
    for (let k = 0; k < rounds.length; k++) {
      const round = rounds[k]!;
      if (k > 0 || round.launch !== 'built') {
        // The first controller is `built`; a round that starts otherwise swaps it first.
        if (current.launcherPid !== undefined) await current.kill();
        current = spec(round.launch, k);
        ctx.defer(() => current.kill());
        ctx.onFailure(() => `${current.name}, last log lines:\n${current.tail(20)}`);
        await current.start();
      }
      // When the signal strikes (so how many calls are in flight, and how far along) varies by seed.
      await sleep(ctx.random.int(ctx.quick ? 1_500 : 2_500, ctx.quick ? 3_000 : 4_500));
      const inFlight = sim.stats().pending;
      const controllerPid = current.controllerPid();
      const signalled = Date.now();
      current.signal('SIGTERM', round.to);
      const bound = graceMs + EXIT_MARGIN_MS;
      const exit = await Promise.race([current.exited(), sleep(bound).then(() => 'late' as const)]);
      // The whole tree: the launcher and, under npm, the controller it started.
      while (controllerPid !== undefined && processAlive(controllerPid) && Date.now() - signalled < bound) {
        await sleep(50);
      }
      const goneMs = Date.now() - signalled;
      const orphan = controllerPid !== undefined && processAlive(controllerPid);
      checks.that(
        exit !== 'late' && !orphan,
        `${round.what}: the process tree was still there ${bound} ms after the signal`,
      );
      if (exit !== 'late' && exit) {
        checks.that(exit.code === 0, `${round.what}: exit status ${exit.code ?? exit.signal}, expected 0`);
      }
      const listening = await fetch(`${first.url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        () => true,
        () => false,
      );
      checks.that(
        !listening,
        `${round.what}: something still answers on the controller's port after its exit`,
      );
      const [claimed] = await stack.db.sql<Array<{ n: number }>>`
        select count(*)::int as n from decisions
        where ai_state = 'owed' and ai_lease_until is not null and ai_lease_until > now()`;
      checks.equal(
        Number(claimed?.n),
        0,
        `${round.what}: AI calls left claimed in PostgreSQL after the exit`,
      );
      const stopped = stoppedLine(current.tail(400));
      checks.that(stopped !== undefined, `${round.what}: no "stopped" line in the controller's log`);
      handedBack += stopped?.handedBack ?? 0;
      if (orphan && controllerPid !== undefined) process.kill(controllerPid, 'SIGKILL');
      facts.push(
        `${round.what}: ${inFlight} AI calls in flight, ${stopped?.handedBack ?? '?'} handed back; ` +
          `gone ${(goneMs / 1000).toFixed(1)} s after the signal`,
      );
    }
    // A controller again to make what was handed back and everything owed since.
    if (current.launcherPid !== undefined) await current.kill();
    current = spec('built', rounds.length);
    ctx.defer(() => current.kill());
    ctx.onFailure(() => `${current.name}, last log lines:\n${current.tail(20)}`);
    await current.start();
    await sleep(ctx.quick ? 1_000 : 2_000);
    await traffic.stop();
    const settledMs = await settleLane(lane, 90_000);
    facts.push(
      `settled ${(settledMs / 1000).toFixed(1)} s after the traffic stopped; ${handedBack} calls handed back in all`,
    );

    return tallyLane(run, lane, { repeatsAllowed: handedBack, everyDecisionOwesACall: true });
  },
};
