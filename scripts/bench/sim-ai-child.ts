import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup.js';
import { freePort, ROOT, terminate } from './controller-child.js';

/**
 * The SIMULATED AI system (scripts/sim-ai.ts, no model behind it) in a child process of its
 * own, so its answers cost neither the controller's event loop nor the benchmark's.
 */
export interface SimAiChild {
  url: string;
  pid: number;
  stats(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startSimAiChild(args: { latencyMs: number; agreement: number }): Promise<SimAiChild> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/sim-ai.ts',
      '--port',
      String(port),
      '--latency',
      String(args.latencyMs),
      '--agreement',
      String(args.agreement),
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: 'ignore' },
  );
  const stop = onCleanup('simulated AI system', () => terminate(child, 5_000));
  const url = `http://127.0.0.1:${port}`;
  const stats = async () => {
    const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5_000) });
    return (await response.json()) as Record<string, unknown>;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the simulated AI system exited (code ${child.exitCode})`);
    if (
      await stats().then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('the simulated AI system did not answer within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, stats, stop };
}
