import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ControllerApi, isHeld } from '../../src/client/controller-api.js';
import type { SimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import {
  type DemoPlan,
  demoSimOptions,
  planAiPort,
  pointPlanAt,
  readPlan,
  startDemoAiSystem,
} from './demo-ai-system.js';
import type { DemoOptions } from './demo-options.js';
import {
  type EmbeddedController,
  type EmbeddedControllerOptions,
  prepareDataDir,
  startEmbeddedController,
} from './embedded-controller.js';
import { type Cleanup, say, step } from './steps.js';
import { percent } from '../../src/format/figures.js';

/**
 * The demo's first act: the controller, the simulated AI system, one API key
 * per actor, and the rollout plan applied through the API as a product owner
 * would. Everything started is registered with `cleanup` as soon as it runs.
 */

export interface DemoStage {
  embedded: EmbeddedController;
  sim: SimulatedAiSystem;
  applied: DemoPlan;
  labels: string[];
  /** The product owner writes plans; the release manager moves stages and approves held changes. */
  keys: { owner: ControllerApi; release: ControllerApi; service: ControllerApi; viewer: ControllerApi };
}

const JOURNEY_SWEEP_MS = 1_000;

export const shown = (path: string) => relative(process.cwd(), path) || '.';

export async function setUpDemo(
  opts: DemoOptions,
  planFile: string,
  cleanup: Cleanup,
  out: (text?: string) => void,
  controllerOptions: EmbeddedControllerOptions = {},
): Promise<DemoStage> {
  const startedAt = Date.now();
  const planText = readFileSync(planFile, 'utf8');
  const filePlan = readPlan(planText, shown(planFile));
  const labels = filePlan.decision.type === 'label' ? filePlan.decision.labels : [];
  if (labels.length === 0) throw new Error(`${shown(planFile)} must have label decisions for the demo`);

  const dataDir = await step('could not prepare the data directory', () => prepareDataDir(opts.dataDir));
  // The champion-and-challenger act waits on the tick, which judges and swaps: every second there.
  const tickMs = opts.challenger ? 1_000 : null;
  const embedded = await step('could not start the controller', () =>
    startEmbeddedController(
      dataDir,
      {
        ...(tickMs === null ? {} : { SHADOWGATE_TICK_MS: String(tickMs) }),
        // The journey waits for every owed AI call before a gate or guard judges: the sweep that
        // makes the calls left over (a suggestion whose caller gave up, say) runs each second.
        ...(controllerOptions.tick === false ? { SHADOWGATE_SWEEP_MS: String(JOURNEY_SWEEP_MS) } : {}),
      },
      controllerOptions,
    ),
  );
  cleanup.add(embedded.stop);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  out(
    say(
      'controller',
      `listening on ${embedded.url} after ${seconds} s (embedded PGlite in`,
      ...(tickMs === null
        ? [
            `${shown(dataDir)}/pglite, in-process queue); its JSON logs go to ${shown(embedded.logFile)}`,
            ...(controllerOptions.tick === false
              ? [
                  'its tick (gates, guards) runs when the demo says so, on a clock the demo sets (below);',
                  `its sweep of owed AI calls every ${JOURNEY_SWEEP_MS / 1000} s instead of 30 s`,
                ]
              : []),
          ]
        : [
            `${shown(dataDir)}/pglite, in-process queue, its tick every ${tickMs / 1000} s instead of 10 s);`,
            `its JSON logs go to ${shown(embedded.logFile)}`,
          ]),
    ),
  );

  const simOptions = demoSimOptions(opts, labels);
  const { sim, movedFrom } = await step('could not start the simulated AI system', () =>
    startDemoAiSystem(simOptions, opts.aiPort ?? planAiPort(filePlan)),
  );
  cleanup.add(() => sim.close());
  const latency = simOptions.latencyMs as { min: number; max: number };
  out(
    say(
      'simulated AI',
      `a simulation, no model behind it, listening on ${sim.url}/decide:`,
      `gives the clerk's label for ${percent(opts.agreement, 0)} of invoices, answers in ${latency.min}–${latency.max} ms,`,
      `fails ${percent(opts.errorRate, 1)} of invoices with HTTP 500, reports model version ${simOptions.modelVersion}`,
      ...(movedFrom === null
        ? []
        : [`(port ${movedFrom} was taken, so the simulation took port ${sim.port})`]),
    ),
  );
  const applied = pointPlanAt(planText, shown(planFile), sim.url);

  const admin = new ControllerApi({ url: embedded.url, key: embedded.adminKey });
  const keys = await step('could not create the API keys', async () => {
    const make = (name: string, role: 'owner' | 'release' | 'ingest' | 'viewer') =>
      admin.createKey(name, role).then((key) => admin.withKey(key));
    return {
      owner: await make('demo product owner', 'owner'),
      release: await make('demo release manager', 'release'),
      service: await make('demo example service', 'ingest'),
      viewer: await make('demo progress display', 'viewer'),
    };
  });
  out(
    say(
      'admin',
      'made API keys for the product owner (owner), the release manager (release), the example service',
      '(ingest), the display (viewer)',
    ),
  );

  const { useCase } = applied.plan;
  const put = await step('could not apply the rollout plan', async () => {
    const answer = await keys.owner.applyPlan(useCase, applied.text);
    // A first plan is held only when it allows an automatic promotion; this one asks for people.
    if (isHeld(answer)) throw new Error(`held for approval as change ${answer.change.id}`);
    return answer;
  });
  out(
    say(
      'product owner',
      `applied ${shown(planFile)}: use case ${useCase} ${put.created ? 'created' : 'updated'}, plan version ${put.planVersion}, stage ${put.stage}`,
      ...(applied.rewrittenFrom
        ? [`(its ai.url ${applied.rewrittenFrom} rewritten to ${applied.plan.ai.url} for this run)`]
        : []),
    ),
  );
  return { embedded, sim, applied, labels, keys };
}
