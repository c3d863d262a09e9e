import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What the CLI and the controller read from the environment: none of it leaks in from the test run. */
const OWN_VARIABLES = [
  'SHADOWGATE_URL',
  'SHADOWGATE_KEY',
  'DATABASE_URL',
  'REDIS_URL',
  'UNLEASH_URL',
  'UNLEASH_ADMIN_TOKEN',
  'SHADOWGATE_ADMIN_KEY',
  'SHADOWGATE_AI_SECRETS',
  'SHADOWGATE_AI_DESTINATIONS',
  'SHADOWGATE_WEBHOOK_DESTINATIONS',
  'PORT',
  'HOST',
];

export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of OWN_VARIABLES) delete base[name];
  return { ...base, ...env };
}

/** Runs `shadowgate ARGS…` from the source, as a child process, and collects its output. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: cliEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The CLI as spawn sees it, for long-running commands (serve). */
export function spawnCli(args: readonly string[], env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: cliEnv(env) });
}
