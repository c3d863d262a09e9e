import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/**
 * Child processes of the fault suite. Every one is registered until it exits, so a run
 * that fails, throws or is interrupted still kills what it started (SIGKILL on exit).
 */

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** The last lines it wrote (stdout and stderr), for diagnosing a failed case. */
  tail(lines?: number): string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the exit; after `graceMs` a SIGTERM becomes a SIGKILL. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
const TAIL_BYTES = 64 * 1024;

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; onOutput?: (chunk: string) => void },
): ManagedProcess {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    options.onOutput?.(text);
    output += text;
    if (output.length > TAIL_BYTES * 2) output = output.slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      live.delete(child);
      output += `\n[spawn failed: ${error.message}]`;
      resolve({ code: null, signal: null });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null && live.has(child);
  return {
    name,
    pid: child.pid ?? -1,
    get running() {
      return isRunning();
    },
    tail: (lines = 30) => output.split('\n').slice(-lines).join('\n'),
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!isRunning()) return;
      child.kill(signal);
      if (signal === 'SIGKILL') {
        await exited;
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a command to completion without blocking the event loop (the traffic keeps flowing
 * meanwhile); throws with its output when it fails or outlives `timeoutMs`.
 */
export async function runCommand(command: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const child = spawnManaged(command, command, args, { env: process.env });
  const timer = setTimeout(() => void child.stop('SIGKILL'), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  const output = child.tail(40);
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`);
  }
  return output;
}

/** For exit handlers, where nothing asynchronous runs any more. */
export function runCommandNow(command: string, args: string[]): void {
  spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
}
