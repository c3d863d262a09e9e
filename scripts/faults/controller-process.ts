import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, runCommand, spawnManaged } from './processes.js';
import { waitFor } from './waiting.js';

/** The repository root: the controller runs its build, as `npm start` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How the controller process is started: `built` is `node dist/src/cli/main.js serve` (default);
 * `npm-start` is `npm start` (npm's process is the one started, the controller its child); `bin`
 * runs the package's bin file itself (its shebang); `source` runs the TypeScript through tsx.
 */
export type ControllerLaunch = 'built' | 'npm-start' | 'bin' | 'source';

export interface ControllerSpec {
  name: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  adminKey: string;
  /** More of the controller's configuration (README "Configuration"), e.g. UNLEASH_URL. */
  env?: Record<string, string>;
  /** Default `built`, as production runs it. */
  launch?: ControllerLaunch;
  /**
   * Another release's checkout to run instead of this one (the rolling-upgrade case): its
   * directory and the node arguments that run its CLI there (`serve` is appended). `launch`
   * does not apply to it.
   */
  release?: { cwd: string; nodeArgs: string[] };
  /** Sees everything the process writes (stdout and stderr), as it comes. */
  onOutput?: (chunk: string) => void;
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
  /** SIGTERM to the launcher, SIGKILL after `graceMs`; resolves once it has exited. */
  terminate(graceMs?: number): Promise<void>;
  tail(lines?: number): string;
  /** The process started (npm's under `npm-start`), while it runs. */
  readonly launcherPid: number | undefined;
  /** The controller's own node process: the launcher's child under `npm-start`, else the launcher. */
  controllerPid(): number | undefined;
  /** Sends `signal` to the launcher or to the controller's own process; does not wait. */
  signal(signal: NodeJS.Signals, to?: 'launcher' | 'controller'): void;
  /** Resolves with the launcher's exit once it has exited (undefined when never started). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>;
}

/** The children of a process (Linux's /proc), empty when it has none or is gone. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether a process of that id exists (a zombie not yet reaped counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

function newestMtime(dir: string, test: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, test));
    else if (test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Controllers started under npm: the suite's exit kills them as processes.ts kills its children. */
const grandchildren = new Set<number>();
process.once('exit', () => {
  for (const pid of grandchildren) killNow(pid);
});

function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

let building: Promise<string> | null = null;

/**
 * Builds dist/ (`npm run build`) when it is missing or older than a source of src/, once per
 * suite: the controller processes run the build, as production does, and a stale one would test
 * yesterday's code. Resolves with what was done, for the suite's log.
 */
export function ensureBuilt(): Promise<string> {
  building ??= (async () => {
    const sources = Math.max(
      newestMtime(join(ROOT, 'src'), (name) => /\.(ts|js|json|html|css)$/.test(name)),
      mtime(join(ROOT, 'tsconfig.build.json')),
      mtime(join(ROOT, 'package.json')),
    );
    const built = Math.min(
      mtime(join(ROOT, 'dist/src/cli/main.js')),
      mtime(join(ROOT, 'src/sdk/dist/index.js')),
    );
    if (built > sources) return 'dist/ is up to date';
    const started = Date.now();
    await runCommand('npm', ['run', 'build'], 180_000);
    return `dist/ was ${built === 0 ? 'missing' : 'older than src/'}: npm run build took ${((Date.now() - started) / 1000).toFixed(0)} s`;
  })();
  return building;
}

const LAUNCH: Record<ControllerLaunch, { command: () => string; args: string[] }> = {
  built: { command: () => process.execPath, args: ['dist/src/cli/main.js', 'serve'] },
  'npm-start': { command: () => 'npm', args: ['start', '--silent'] },
  bin: { command: () => join(ROOT, 'dist/src/cli/main.js'), args: ['serve'] },
  // The SDK's sources through tsconfig.json's paths, which tsx reads.
  source: { command: () => process.execPath, args: ['--import', 'tsx', 'src/cli/main.ts', 'serve'] },
};

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
    // The cases' automatic gates are judged on a few hundred decisions at most.
    SHADOWGATE_AUTOMATIC_MIN_SAMPLES: '50',
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
      const launch = spec.release
        ? { command: () => process.execPath, args: [...spec.release.nodeArgs, 'serve'] }
        : LAUNCH[spec.launch ?? 'built'];
      if (!spec.release && spec.launch !== 'source') await ensureBuilt();
      const started = spawnManaged(spec.name, launch.command(), launch.args, {
        env,
        cwd: spec.release?.cwd ?? ROOT,
        ...(spec.onOutput ? { onOutput: spec.onOutput } : {}),
      });
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
      if (spec.launch === 'npm-start') {
        for (const pid of childPids(started.pid)) grandchildren.add(pid);
        void started.exited.then(() => {
          for (const pid of grandchildren) if (!processAlive(pid)) grandchildren.delete(pid);
        });
      }
    },
    async kill() {
      // Under npm, its child first: a SIGKILL to npm alone would leave the controller running.
      const own = this.controllerPid();
      if (own !== undefined && own !== child?.pid) killNow(own);
      await child?.stop('SIGKILL');
    },
    async terminate(graceMs = 10_000) {
      await child?.stop('SIGTERM', graceMs);
    },
    tail: (lines) => child?.tail(lines) ?? '',
    get launcherPid() {
      return child?.running ? child.pid : undefined;
    },
    controllerPid() {
      if (!child?.running) return undefined;
      if (spec.launch !== 'npm-start') return child.pid;
      return childPids(child.pid)[0];
    },
    signal(signal, to = 'launcher') {
      const pid = to === 'launcher' ? this.launcherPid : this.controllerPid();
      if (pid === undefined) throw new Error(`${spec.name} has no ${to} process to signal`);
      process.kill(pid, signal);
    },
    async exited() {
      return child ? await child.exited : undefined;
    },
  };
}
