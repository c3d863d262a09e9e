import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { type Controller, createController } from '../../src/main/controller.js';

/**
 * The controller the demo runs in its own process, on the embedded defaults
 * (PGlite under the demo's data directory, the in-process queue), listening
 * on a free loopback port with an admin key made for this run. Its JSON logs
 * go to a file, so the terminal shows only the demo.
 */

/** Written into a data directory the demo made, so a re-run wipes only what the demo owns. */
const MARKER = '.shadowgate-demo';

export interface EmbeddedController {
  controller: Controller;
  url: string;
  adminKey: string;
  dataDir: string;
  logFile: string;
  /** The tick interval it was configured with (SHADOWGATE_TICK_MS). */
  tickMs: number;
  stop(): Promise<void>;
}

/** Empties the data directory (made by an earlier run) or creates it; refuses a directory the demo did not make. */
export function prepareDataDir(dir: string): string {
  const absolute = resolve(dir);
  if (existsSync(absolute) && readdirSync(absolute).length > 0) {
    if (!existsSync(join(absolute, MARKER))) {
      throw new Error(
        `refusing to wipe ${absolute}: the demo did not make it (no ${MARKER} in it); pick another --data-dir`,
      );
    }
    rmSync(absolute, { recursive: true, force: true });
  }
  mkdirSync(absolute, { recursive: true });
  writeFileSync(join(absolute, MARKER), 'made by `npm run demo`; wiped at the start of each run\n');
  return absolute;
}

/** What the journey changes: a simulated clock, and the tick driven by the demo instead of a timer. */
export interface EmbeddedControllerOptions {
  clock?: () => Date;
  /** false: no timer ticks; the demo calls `controller.engine.tick(clock())` itself. */
  tick?: boolean;
}

/** `env`: more of the controller's configuration (README "Configuration"), e.g. a shorter tick. */
export async function startEmbeddedController(
  dataDir: string,
  env: Record<string, string> = {},
  options: EmbeddedControllerOptions = {},
): Promise<EmbeddedController> {
  const adminKey = `demo-admin-${randomBytes(16).toString('hex')}`;
  // Only what the demo means: DATABASE_URL and REDIS_URL stay unset whatever the shell holds.
  const config = loadConfig({
    SHADOWGATE_DATA_DIR: dataDir,
    SHADOWGATE_ADMIN_KEY: adminKey,
    // The simulated AI system listens on loopback, which the controller refuses unless allowed.
    SHADOWGATE_AI_DESTINATIONS: '127.0.0.0/8',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  const logFile = join(dataDir, 'controller.log');
  const destination = pino.destination({ dest: logFile, sync: true });
  const logger = pino(
    {
      name: 'shadowgate',
      level: config.LOG_LEVEL,
      redact: { paths: ['authorization', 'req.headers.authorization', 'adminKey'], censor: '[redacted]' },
    },
    destination,
  );
  const controller = await createController({ config, logger, ...options });
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= controller
      .stop()
      .then(() => undefined)
      .finally(() => destination.flushSync());
    return stopped;
  };
  try {
    await controller.start();
    const server = await controller.listen(config.PORT, config.HOST);
    const { port } = server.address() as AddressInfo;
    return {
      controller,
      url: `http://127.0.0.1:${port}`,
      adminKey,
      dataDir,
      logFile,
      tickMs: config.SHADOWGATE_TICK_MS,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
