import type { Server } from 'node:http';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../../config.js';
import type { Controller } from '../../main/controller.js';
import { configFrom, withConfiguredDatabase } from '../configured-database.js';
import { CliError, EXIT } from '../exit-codes.js';
import {
  type CheckedPlan,
  checkPlanFiles,
  formatPlanProblem,
  planFilesIn,
  requireValid,
} from '../plan-files.js';
import { print, printError } from '../terminal-output.js';

/**
 * The actor recorded for plans applied by `serve --plans`. The operator's files go through change
 * control like any plan (README "Change control"): one that widens the AI's authority, or changes
 * a use case whose plan in force asks for approvals, is held for a release key's approval, so a
 * file on the controller's disk never bypasses four eyes.
 */
export const SERVE_ACTOR = 'cli:serve';

/** serve and migrate: configured by the environment (README "Configuration"), not by --url/--key. */
export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('run the controller (API, shadow worker, sweep and promotion tick), as npm start does')
    .option(
      '--plans <dir>',
      'apply every *.yaml, *.yml and *.json plan in DIR at start; refuse to start if one is invalid',
    )
    .option('--port <port>', 'listen on this port (default: PORT, else 8080)', parsePort)
    .option('--host <host>', 'listen on this address (default: HOST, else 0.0.0.0)')
    .action(serve);

  program
    .command('migrate')
    .description(
      'apply pending database migrations (DATABASE_URL, else PGlite in SHADOWGATE_DATA_DIR) and exit',
    )
    .action(async () => {
      const kind = await withConfiguredDatabase('migration failed', async (database) => {
        await database.migrate();
        return database.kind;
      });
      print(`migrations applied (${kind})`);
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number (0–65535)');
  }
  return port;
}

export interface ServeOptions {
  plans?: string;
  port?: number;
  host?: string;
}

async function serve(options: ServeOptions): Promise<void> {
  const { controller, config } = await startServing(options);
  stopOnSignals(controller, config.SHADOWGATE_SHUTDOWN_GRACE_MS);
}

/**
 * `serve` up to the listening controller (tests call it in-process). The controller's secrets are
 * taken out of the environment as soon as the configuration holds them: nothing it runs later can
 * read them there.
 */
export async function startServing(
  options: ServeOptions,
): Promise<{ controller: Controller; server: Server; config: Config }> {
  const config = await configFrom({
    ...(options.port !== undefined ? { PORT: String(options.port) } : {}),
    ...(options.host !== undefined ? { HOST: options.host } : {}),
  });
  const { removeSecretsFromEnvironment } = await import('../../config.js');
  removeSecretsFromEnvironment(config);
  // Plans are checked before anything starts, so a broken one costs no database connection.
  const plans = options.plans ? await plansToApply(options.plans, config) : [];
  let controller: Controller | undefined;
  try {
    const { createController } = await import('../../main/controller.js');
    controller = await createController({ config });
    await controller.start();
    for (const plan of plans) await applyAtStart(controller, plan);
    const server = await controller.listen(config.PORT, config.HOST);
    const address = server.address();
    controller.logger.info(
      {
        port: typeof address === 'object' && address ? address.port : config.PORT,
        database:
          controller.database.kind === 'postgres' ? 'postgresql' : `pglite in ${config.SHADOWGATE_DATA_DIR}`,
        queue: controller.queue.kind,
        flags: controller.flags.store.kind,
        plans: plans.length,
      },
      'shadowgate controller listening',
    );
    return { controller, server, config };
  } catch (error) {
    await controller?.stop().catch(() => {});
    throw new CliError(`cannot start the controller: ${(error as Error).message}`, EXIT.unavailable);
  }
}

/** The plans of `dir`, valid and within this controller's egress settings (as the API would check them). */
async function plansToApply(dir: string, config: Config): Promise<CheckedPlan[]> {
  const files = await planFilesIn(dir);
  if (files.length === 0) printError(`shadowgate: no plan files (*.yaml, *.yml, *.json) in ${dir}`);
  const plans = requireValid(await checkPlanFiles(files, true), 'the controller was not started');
  const { createEgress, planEgressProblems } = await import('../../egress/egress.js');
  const egress = createEgress(config);
  const refused = plans.map((p) =>
    planEgressProblems(p.plan, egress).map((d) => formatPlanProblem(p.file, d)),
  );
  const count = refused.filter((problems) => problems.length > 0).length;
  if (count > 0) {
    throw new CliError(
      `${count === 1 ? '1 plan names' : `${count} plans name`} a destination or secret this controller does not allow; the controller was not started`,
      EXIT.negative,
      refused.flat(),
    );
  }
  const { automaticGateProblems } = await import('../../plans/plan-change-control.js');
  const floor = config.SHADOWGATE_AUTOMATIC_MIN_SAMPLES;
  const floorless = plans.flatMap((p) =>
    automaticGateProblems(p.plan, floor).map((d) => formatPlanProblem(p.file, d)),
  );
  if (floorless.length > 0) {
    throw new CliError(
      `an automatic approval needs an evidence floor (minSamples of at least ${floor}, SHADOWGATE_AUTOMATIC_MIN_SAMPLES, and an agreement criterion); the controller was not started`,
      EXIT.negative,
      floorless,
    );
  }
  return plans;
}

/** The same parsing and rules as `PUT /v1/use-cases/:id/plan`, change control included. */
async function applyAtStart(controller: Controller, p: CheckedPlan): Promise<void> {
  const { services, logger } = controller;
  const { status, body } = await services.changes.submitPlan({
    id: p.plan.useCase,
    plan: p.plan,
    text: p.text,
    textHash: p.hash,
    format: p.format,
    requester: { actor: SERVE_ACTOR, key: SERVE_ACTOR },
  });
  if (status === 202) {
    const { change } = body;
    logger.warn(
      { file: p.file, useCase: change.useCase, change: change.id, rules: change.rules },
      `plan held for approval (change ${change.id}): it widens the AI's authority or the plan in force asks for approvals; a release key approves it with POST /v1/changes/${change.id}/approve`,
    );
    return;
  }
  logger.info(
    {
      file: p.file,
      useCase: body.useCase,
      planVersion: body.planVersion,
      created: body.created,
      unchanged: body.unchanged,
    },
    'plan applied',
  );
}

/** Past the grace period, how long the stop may take before the process exits regardless. */
const STOP_BACKSTOP_MS = 15_000;

/**
 * SIGTERM or SIGINT stops the controller gracefully (Controller.stop) and exits 0; a second
 * signal ends the grace period at once (the calls still running are handed back), a third exits
 * without waiting.
 */
function stopOnSignals(controller: Controller, graceMs: number): void {
  const { logger } = controller;
  const hurry = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 2) {
      logger.warn({ signal }, 'second signal: the AI calls still running are handed back now');
      hurry.abort();
      return;
    }
    if (signals > 2) {
      logger.error({ signal }, 'third signal: exiting without waiting for the stop');
      process.exit(1);
    }
    logger.info(
      { signal, graceMs, inFlight: controller.worker.inFlight.count },
      'stopping: no new work taken; in-flight AI calls finish within the grace period or are handed back',
    );
    setTimeout(() => {
      logger.error({ graceMs, backstopMs: STOP_BACKSTOP_MS }, 'the stop did not finish in time; exiting');
      process.exit(1);
    }, graceMs + STOP_BACKSTOP_MS).unref();
    controller.stop({ hurry: hurry.signal }).then(
      (report) => {
        logger.info(report, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
