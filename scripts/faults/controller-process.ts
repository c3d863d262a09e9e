import { fileURLToPath } from 'node:url';
import { type ManagedProcess, spawnManaged } from './processes.js';
import { waitFor } from './waiting.js';

/** The repository root: the controller runs from the sources, as `npm start` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ControllerSpec {
  name: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  adminKey: string;
  /** More of the controller's configuration (README "Configuration"), e.g. UNLEASH_URL. */
  env?: Record<string, string>;
}

/** `shadowgate serve` in a child process of its own, so it can be killed like a real one. */
export interface ControllerProcess {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Starts it (again, on the same port) and waits until /readyz answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown code runs, as when a machine or container dies. */
  kill(): Promise<void>;
  tail(lines?: number): string;
}

const READY_TIMEOUT_MS = 45_000;

/** Intervals short enough for a fault to be noticed and repaired within a case. */
export const FAST_LOOPS = {
  SHADOWGATE_SWEEP_MS: '1000',
  SHADOWGATE_TICK_MS: '500',
  SHADOWGATE_FLAG_SYNC_MS: '1000',
};

export function controllerProcess(spec: ControllerSpec): ControllerProcess {
  const url = `http://127.0.0.1:${spec.port}`;
  // Not inherited from the suite's environment: a stray UNLEASH_URL or PORT must not change the case.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: spec.databaseUrl,
    REDIS_URL: spec.redisUrl,
    SHADOWGATE_QUEUE_PREFIX: spec.queuePrefix,
    SHADOWGATE_ADMIN_KEY: spec.adminKey,
    // The simulated AI systems listen on loopback, which the controller refuses unless allowed.
    SHADOWGATE_AI_DESTINATIONS: '127.0.0.0/8',
    PORT: String(spec.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...FAST_LOOPS,
    ...spec.env,
  };
  let child: ManagedProcess | undefined;
  return {
    name: spec.name,
    url,
    port: spec.port,
    async start() {
      if (child?.running) throw new Error(`${spec.name} is already running`);
      const started = spawnManaged(
        spec.name,
        process.execPath,
        // The SDK's wire from its sources (src/sdk/package.json), as `npm run` does through .npmrc.
        ['--conditions=shadowgate-source', '--import', 'tsx', 'src/cli/main.ts', 'serve'],
        { env, cwd: ROOT },
      );
      child = started;
      const state = await waitFor(
        `${spec.name} to answer GET /readyz with 200`,
        async () => {
          if (!started.running) return 'exited';
          const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          return response.status === 200 ? 'ready' : undefined;
        },
        READY_TIMEOUT_MS,
        100,
      ).catch(async (error: Error) => {
        await started.stop('SIGKILL');
        throw new Error(`${error.message}\n${started.tail(15)}`);
      });
      if (state === 'exited')
        throw new Error(`${spec.name} exited before it was ready:\n${started.tail(15)}`);
    },
    async kill() {
      await child?.stop('SIGKILL');
    },
    tail: (lines) => child?.tail(lines) ?? '',
  };
}
