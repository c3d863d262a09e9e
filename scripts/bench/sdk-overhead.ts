import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ControllerApi } from '../../src/client/controller-api.js';
import { type HumanPath, Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';
import { createBenchDatabase } from './bench-database.js';
import { LABELS } from './bench-plans.js';
import { atMost, type BenchOptions, type BenchResult } from './bench-types.js';
import { startControllerChild } from './controller-child.js';
import { summariseProfile } from './cpu-profile.js';
import { quantiles, round } from './stats.js';

/**
 * Benchmark 1: what the SDK adds to each `decide` in shadow mode, against calling the human path
 * directly, in the same run. The two are interleaved in alternating order, so both see the same
 * machine. Mirroring is on: a controller (a child process on PostgreSQL) receives every decision.
 * Decisions are paced so the load is one the controller keeps up with; an unpaced loop would only
 * measure the buffer dropping what it cannot send.
 */

const USE_CASE = 'sdk-bench';

export async function benchSdkOverhead(options: BenchOptions): Promise<BenchResult> {
  const n = options.quick ? 3_000 : 20_000;
  const warmup = options.quick ? 1_000 : 2_000;
  const rate = 2_000;
  const database = await createBenchDatabase(options.postgresUrl, 'sdk');
  const controller = await startControllerChild({
    label: 'sdk-overhead',
    databaseUrl: database.url,
    ...(options.profile ? { cpuProfileDir: options.profileDir } : {}),
  });
  let profile: string | null = null;
  try {
    const admin = new ControllerApi({ url: controller.url, key: controller.adminKey });
    // Nothing listens there: with sampleRate 0 no AI call is owed, the controller only ingests.
    await admin.applyPlan(USE_CASE, {
      useCase: USE_CASE,
      owner: 'bench@example.com',
      decision: { type: 'label', labels: LABELS },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
      stages: { shadow: { sampleRate: 0 } },
    });
    const apiKey = await admin.createKey('sdk-bench', 'ingest', [USE_CASE]);
    const sg = new Shadowgate({ url: controller.url, apiKey, appName: 'sdk-bench' });
    if (!(await sg.ready())) throw new Error(`the SDK could not read flags from ${controller.url}/api`);
    const mode = sg.modeOf(USE_CASE, { requestId: 'probe' });
    if (mode !== 'shadow') throw new Error(`${USE_CASE} is in ${mode}, not shadow`);

    options.log(`sdk: ${warmup} warm-up and ${n} measured decisions at ${rate}/s`);
    const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const direct = new Float64Array(n);
    const viaSdk = new Float64Array(n);
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
      // Between measurements the event loop runs the SDK's timers and sends, as a service's would.
      await new Promise((resolve) => setImmediate(resolve));
      const ahead = (i + warmup + 1) / rate - (performance.now() - begun) / 1000;
      if (ahead > 0.002) await new Promise((resolve) => setTimeout(resolve, ahead * 1000));
    }
    const flushed = await sg.flush(60_000);
    const stats = sg.stats();
    await sg.close();
    const detail = (await admin.getJson(`/v1/use-cases/${USE_CASE}`)) as {
      metrics?: { stages?: Array<{ stage: string; decisions?: number }> };
    };
    const received = detail.metrics?.stages?.find((s) => s.stage === 'shadow')?.decisions ?? null;

    const [dMedian, dP99] = quantiles(direct, [0.5, 0.99]);
    const [sMedian, sP99] = quantiles(viaSdk, [0.5, 0.99]);
    const us = (ms: number | null | undefined) => (ms == null ? null : round(ms * 1000, 2));
    const addedMedian = us(sMedian! - dMedian!);
    const addedP99 = us(sP99! - dP99!);
    profile = await controller.stop();
    const notes: string[] = [];
    if (!flushed || stats.dropped > 0 || stats.failed > 0 || received !== n + warmup) {
      notes.push(
        `mirroring incomplete: sent ${stats.sent}, dropped ${stats.dropped}, failed ${stats.failed}, ` +
          `controller holds ${received ?? 'unknown'} of ${n + warmup}`,
      );
    }
    return {
      name: '1. SDK overhead (shadow)',
      rows: [
        {
          metric: 'median added per decide',
          value: addedMedian,
          unit: 'µs',
          baseline: { label: 'human path alone', value: us(dMedian), unit: 'µs' },
          target: '≤ 20 µs',
          met: atMost(addedMedian, 20),
        },
        {
          metric: 'p99 added per decide',
          value: addedP99,
          unit: 'µs',
          baseline: { label: 'human path alone', value: us(dP99), unit: 'µs' },
          target: '≤ 200 µs',
          met: atMost(addedP99, 200),
        },
      ],
      notes,
      details: {
        decisions: n,
        warmup,
        ratePerSecond: rate,
        directUs: { median: us(dMedian), p99: us(dP99) },
        sdkUs: { median: us(sMedian), p99: us(sP99) },
        sdkStats: { ...stats, flushed },
        controllerReceived: received,
        ...(profile ? { controllerProfile: summariseProfile(profile, 10) } : {}),
      },
    };
  } finally {
    await controller.stop();
    await database.drop();
  }
}
