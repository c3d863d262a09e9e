import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PG_ADMIN_URL } from '../support/services.js';

/**
 * The postgres.js patch (patches/postgres+3.4.9.patch, upstream porsager/postgres#1208). Unpatched,
 * a write flushed after its connection closed throws outside every promise: the process dies,
 * or the query never settles. Each case runs test/support/postgres-terminate-child.ts in a
 * process of its own, which cuts its own backend (pg_terminate_backend) or socket.
 */
const CHILD = fileURLToPath(new URL('../support/postgres-terminate-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a query cut by the connection's end may settle with: the driver's or the server's word for it. */
const CONNECTION_ERRORS = ['CONNECTION_CLOSED', 'ECONNRESET', '57P01'];

/** Closing a pool after a cut must not wait out its 5 s timeout for a query that already failed. */
const PROMPT_CLOSE_MS = 4_000;

interface ChildRun {
  code: number | null;
  answers: Record<string, string | number>;
  stderr: string;
}

function runChild(scenario: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario], {
      cwd: ROOT,
      env: { ...process.env, TEST_PG_URL: PG_ADMIN_URL },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      resolve({ code, answers: last.startsWith('{') ? JSON.parse(last) : {}, stderr });
    });
  });
}

/** The process lived and said what its queries answered; otherwise show why it did not. */
async function survived(scenario: string): Promise<Record<string, string | number>> {
  const run = await runChild(scenario);
  expect(run.code, `the child ended with ${run.code}:\n${run.stderr.slice(-1500)}`).toBe(0);
  return run.answers;
}

describe('postgres.js when PostgreSQL cuts a connection', () => {
  it('when a transaction backend is terminated mid-statement, then the transaction rejects, the process lives and the pool answers again', async () => {
    const answers = await survived('transaction');
    expect(CONNECTION_ERRORS).toContain(answers.settled);
    expect(answers.after).toBe('ok');
    expect(answers.closeMs).toBeLessThan(PROMPT_CLOSE_MS);
  });

  it('when a reserved connection has lost its backend, then each query on it rejects instead of ending the process or hanging (upstream #1208)', async () => {
    const answers = await survived('reserved');
    expect(CONNECTION_ERRORS).toContain(answers.first);
    expect(CONNECTION_ERRORS).toContain(answers.second);
  });

  it('when the socket closes while a write waits for its flush, then the next connection starts clean instead of timing out', async () => {
    const answers = await survived('pendingWrite');
    expect(CONNECTION_ERRORS).toContain(answers.cut);
    expect(answers.after).toBe('ok');
  });

  it("when the controller's own pools lose a transaction's backend, then both transaction paths reject and the next ping answers", async () => {
    const answers = await survived('controller');
    expect(CONNECTION_ERRORS).toContain(answers.raw);
    expect(CONNECTION_ERRORS).toContain(answers.drizzle);
    expect(answers.after).toBe('ok');
    expect(answers.closeMs).toBeLessThan(PROMPT_CLOSE_MS);
  });
});
