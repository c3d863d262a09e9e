import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import { rssBytes } from './process-usage.js';

/** The repository root: children run from the sources, as `npm start` does. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ControllerChildOptions {
  label: string;
  databaseUrl: string;
  /** Bull on this Redis, under `queuePrefix`; unset: the in-process queue. */
  redisUrl?: string;
  queuePrefix?: string;
  /** More of the controller's configuration (README "Configuration"). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the whole life of the child into this directory. */
  cpuProfileDir?: string;
  /** Log lines (JSON) whose `msg` is one of these are kept whole, for the benchmark to read. */
  collect?: string[];
}

/** `shadowgate serve` in a child process, so its work is not on the measuring event loop. */
export interface ControllerChild {
  url: string;
  adminKey: string;
  pid: number;
  rssBytes(): number | null;
  /** The last lines it wrote (stdout and stderr). */
  tail(lines?: number): string;
  /** The log lines collected (see `collect`), parsed. */
  collected(): Array<Record<string, unknown>>;
  /** SIGTERM (a graceful stop, which writes the CPU profile); resolves with the profile's path, if any. */
  stop(): Promise<string | null>;
}

const READY_TIMEOUT_MS = 60_000;
const TAIL_LINES = 200;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startControllerChild(options: ControllerChildOptions): Promise<ControllerChild> {
  const port = await freePort();
  const adminKey = `bench-admin-${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    SHADOWGATE_ADMIN_KEY: adminKey,
    // The simulated AI system listens on loopback, which the controller refuses unless allowed.
    SHADOWGATE_AI_DESTINATIONS: '127.0.0.0/8',
    PORT: String(port),
    HOST: '127.0.0.1',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.queuePrefix ? { SHADOWGATE_QUEUE_PREFIX: options.queuePrefix } : {}),
    ...options.env,
  };
  const profileDir = options.cpuProfileDir
    ? join(options.cpuProfileDir, `${options.label}-${randomBytes(3).toString('hex')}`)
    : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // The SDK's wire from its sources (src/sdk/package.json), as `npm run` does through .npmrc.
  nodeArgs.push('--conditions=shadowgate-source');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collected: Array<Record<string, unknown>> = [];
  const wanted = new Set(options.collect ?? []);
  let partial = '';
  const keep = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (wanted.size > 0 && line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (wanted.has(String(parsed.msg))) collected.push(parsed);
        } catch {
          // not a log line of pino's
        }
      }
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const tail = (n = 20) => lines.slice(-n).join('\n');
  const stopNow = onCleanup(`controller ${options.label}`, () => terminate(child));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(child, url, tail);
  } catch (error) {
    await stopNow();
    throw error;
  }
  return {
    url,
    adminKey,
    pid: child.pid!,
    rssBytes: () => rssBytes(child.pid!),
    tail,
    collected: () => collected,
    async stop() {
      await stopNow();
      if (!profileDir) return null;
      // One profile per thread: tsx's module loader runs in a worker of its own; the largest
      // profile is the main thread's.
      const profiles = readdirSync(profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(profileDir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      return profiles[0] ?? null;
    },
  };
}

/**
 * `count` replicas on one database and Redis, as a deployment scales out: started one after
 * another, so the first applies the migrations before the next starts. Labels end in -1, -2, ….
 */
export async function startControllerChildren(
  count: number,
  options: ControllerChildOptions,
): Promise<ControllerChild[]> {
  const children: ControllerChild[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      children.push(await startControllerChild({ ...options, label: `${options.label}-${i}` }));
    }
  } catch (error) {
    await Promise.all(children.map((child) => child.stop()));
    throw error;
  }
  return children;
}

async function waitReady(child: ChildProcess, url: string, tail: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the controller exited (code ${child.exitCode}):\n${tail()}`);
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the controller was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${tail()}`);
}

export async function terminate(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
