import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type HumanPath, Shadowgate } from '../src/sdk/index.js';
import { makeInvoice, referenceLabel } from '../src/simulation/reference-labeler.js';
import { percentile } from '../src/statistics/percentile.js';

/**
 * `npm run bench`: what the SDK adds to each `decide` in shadow mode, against calling the
 * human path directly, in the same run (the two are interleaved, in alternating order,
 * so both see the same machine). Mirroring is on: a controller receives every decision.
 * Decisions are paced (`--rate` per second) so the load is one a controller keeps up
 * with; an unpaced loop would only measure the buffer dropping what it cannot send.
 *
 *   tsx scripts/bench-sdk.ts [--decisions 20000] [--warmup 2000] [--rate 2000]
 *                            [--controller http://host:8080 --admin-key KEY]
 *
 * Without --controller a controller is started in a child process on the embedded
 * defaults (PGlite in a temporary directory, the in-process queue), so its work does not
 * run on the event loop being measured.
 */

const USE_CASE = 'sdk-bench';
const LABELS = ['approve', 'reject', 'escalate'];

const { values: args } = parseArgs({
  options: {
    decisions: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '2000' },
    controller: { type: 'string' },
    'admin-key': { type: 'string' },
  },
});

async function main(): Promise<void> {
  const n = Number(args.decisions);
  const warmup = Number(args.warmup);
  const controller = args.controller
    ? {
        url: args.controller.replace(/\/+$/, ''),
        adminKey: requireKey(args['admin-key']),
        stop: async () => {},
      }
    : await startChildController();
  try {
    const apiKey = await prepareUseCase(controller.url, controller.adminKey);
    const sg = new Shadowgate({ url: controller.url, apiKey, appName: 'sdk-bench' });
    if (!(await sg.ready())) throw new Error(`the SDK could not read flags from ${controller.url}/api`);
    const mode = sg.modeOf(USE_CASE, { requestId: 'probe' });
    if (mode !== 'shadow') throw new Error(`${USE_CASE} is in ${mode}, not shadow`);

    const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const direct = new Float64Array(n);
    const viaSdk = new Float64Array(n);
    const rate = Number(args.rate);
    const begun = performance.now();
    for (let i = -warmup; i < n; i++) {
      const invoice = makeInvoice(Math.abs(i));
      const decision = referenceLabel(invoice.input, LABELS);
      const human: HumanPath<string> = async () => decision;
      const request = { requestId: `${run}-${i}`, input: invoice.input, context: { ...invoice.context } };
      const timeDirect = async () => {
        const t0 = performance.now();
        await human({ suggestion: undefined, mode: 'shadow' });
        return performance.now() - t0;
      };
      const timeSdk = async () => {
        const t0 = performance.now();
        await sg.decide(USE_CASE, request, human);
        return performance.now() - t0;
      };
      let d: number;
      let s: number;
      if (i % 2 === 0) {
        d = await timeDirect();
        s = await timeSdk();
      } else {
        s = await timeSdk();
        d = await timeDirect();
      }
      if (i >= 0) {
        direct[i] = d;
        viaSdk[i] = s;
      }
      // A paced load, between measurements: the event loop runs the SDK's timers and sends,
      // as a service's would, and the controller can keep up.
      await new Promise((resolve) => setImmediate(resolve));
      const ahead = (i + warmup + 1) / rate - (performance.now() - begun) / 1000;
      if (ahead > 0.002) await new Promise((resolve) => setTimeout(resolve, ahead * 1000));
    }
    const flushed = await sg.flush(60_000);
    const stats = sg.stats();
    await sg.close();
    const received = await receivedAt(controller.url, controller.adminKey);
    report(n, Array.from(direct), Array.from(viaSdk), { ...stats, flushed, received, mirrored: n + warmup });
  } finally {
    await controller.stop();
  }
}

function report(
  n: number,
  direct: number[],
  viaSdk: number[],
  m: {
    sent: number;
    dropped: number;
    failed: number;
    flushed: boolean;
    received: number | null;
    mirrored: number;
  },
): void {
  const us = (ms: number | null) => (ms === null ? 'n/a' : `${(ms * 1000).toFixed(1)} µs`);
  const q = (values: number[], p: number) => percentile(values, p) ?? 0;
  const rows: Array<[string, number, number]> = [
    ['human path, called directly', q(direct, 0.5), q(direct, 0.99)],
    ['human path through sg.decide', q(viaSdk, 0.5), q(viaSdk, 0.99)],
    ['added by the SDK', q(viaSdk, 0.5) - q(direct, 0.5), q(viaSdk, 0.99) - q(direct, 0.99)],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nSDK overhead per decide, shadow mode, ${n} decisions (interleaved with direct calls)\n`);
  console.log(`${''.padEnd(width)}  ${'median'.padStart(10)}  ${'p99'.padStart(10)}`);
  for (const [name, median, p99] of rows) {
    console.log(`${name.padEnd(width)}  ${us(median).padStart(10)}  ${us(p99).padStart(10)}`);
  }
  console.log(
    `\nmirrored ${m.mirrored} (warm-up included): sent ${m.sent}, dropped ${m.dropped}, failed ${m.failed}` +
      `${m.flushed ? '' : ', NOT all flushed'}; the controller holds ${m.received ?? 'an unknown number of'} decisions`,
  );
}

async function prepareUseCase(url: string, adminKey: string): Promise<string> {
  const admin = { authorization: `Bearer ${adminKey}` };
  const plan = {
    useCase: USE_CASE,
    owner: 'bench@example.com',
    decision: { type: 'label', labels: LABELS },
    // Nothing listens there: with sampleRate 0 no AI call is owed, the controller only ingests.
    ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
    stages: { shadow: { sampleRate: 0 } },
  };
  const applied = await fetch(`${url}/v1/use-cases/${USE_CASE}/plan`, {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(plan),
  });
  if (!applied.ok) throw new Error(`applying the bench plan: ${applied.status} ${await applied.text()}`);
  const key = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sdk-bench', role: 'ingest', useCases: [USE_CASE] }),
  });
  if (!key.ok) throw new Error(`creating an ingest key: ${key.status} ${await key.text()}`);
  return ((await key.json()) as { key: string }).key;
}

async function receivedAt(url: string, adminKey: string): Promise<number | null> {
  const response = await fetch(`${url}/v1/use-cases/${USE_CASE}`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  if (!response.ok) return null;
  const body = (await response.json()) as {
    metrics?: { stages?: Array<{ stage: string; decisions?: number }> };
  };
  return body.metrics?.stages?.find((s) => s.stage === 'shadow')?.decisions ?? null;
}

function requireKey(key: string | undefined): string {
  if (!key) throw new Error('--controller needs --admin-key');
  return key;
}

async function startChildController(): Promise<{ url: string; adminKey: string; stop(): Promise<void> }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), 'sg-bench-'));
  const adminKey = `bench-admin-${randomBytes(16).toString('hex')}`;
  const child = spawn(join(root, 'node_modules/.bin/tsx'), ['src/cli/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      SHADOWGATE_DATA_DIR: dataDir,
      SHADOWGATE_ADMIN_KEY: adminKey,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    await terminate(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await listeningPort(child);
    return { url: `http://127.0.0.1:${port}`, adminKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`the controller did not start in 60 s:\n${output}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('controller listening')) continue;
        const port = (JSON.parse(line) as { port?: number }).port;
        if (port) {
          clearTimeout(timer);
          resolve(port);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the controller exited (code ${code}):\n${output}`));
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

main().catch((error: unknown) => {
  console.error(`bench-sdk: ${(error as Error).message}`);
  process.exit(1);
});
