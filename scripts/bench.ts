import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchOptions, BenchResult } from './bench/bench-types.js';
import { cleanupAll } from './bench/cleanup.js';
import { benchEndToEnd } from './bench/end-to-end.js';
import { benchGateReads } from './bench/gate-reads.js';
import { benchIngest } from './bench/ingest-throughput.js';
import { describeMachine } from './bench/machine.js';
import { formatMarkdown, formatTable, machineLine } from './bench/results-table.js';
import { benchSdkOverhead } from './bench/sdk-overhead.js';
import { parseDecisionCounts } from './bench/stored-points.js';

/**
 * `npm run bench`: the four benchmarks of issue 7 (ingest and end to end also with two controller
 * replicas and end to end at 3,000/s, issue 20), each beside a baseline measured in the same
 * run, printed as a table and written as JSON. Needs PostgreSQL and Redis (README "Quick start");
 * every database, Redis key and child process it creates is removed at the end, or on Ctrl-C.
 */

const USAGE = `usage: npm run bench -- [options]

  --quick            a smoke run: fewer decisions, 1M stored decisions only, end to end 45 s at
                     1,000/s and 30 s at 3,000/s on one controller (the two-controller point of
                     end to end is skipped; ingest measures one and two controllers either way)
  --only LIST        some of: sdk,ingest,gates,e2e (comma-separated; default all)
  --stored LIST      the gates benchmark's points in stored decisions, ascending, k or M allowed
                     (default 1M,10M; --quick 1M); a point the disk has no room for is skipped,
                     with the reason in the table (e.g. --stored 1M,10M,100M)
  --json FILE        where the results go as JSON (default bench-results.json)
  --markdown         also print the table as Markdown (for docs/performance.md)
  --profile          run the controller children under node --cpu-prof and summarise the profiles
  --profile-dir DIR  where the .cpuprofile files go (default a new directory under the temp dir)
  --postgres URL     PostgreSQL to create the benchmark databases in
                     (default BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  --redis URL        Redis for bull (default BENCH_REDIS_URL, else redis://127.0.0.1:6379)`;

/** A benchmark gives one block of the table, or several (end to end: one per rate and replicas). */
const BENCHMARKS: Record<string, (options: BenchOptions) => Promise<BenchResult | BenchResult[]>> = {
  sdk: benchSdkOverhead,
  ingest: benchIngest,
  gates: benchGateReads,
  e2e: benchEndToEnd,
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      stored: { type: 'string' },
      json: { type: 'string', default: 'bench-results.json' },
      markdown: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      postgres: { type: 'string' },
      redis: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const selected = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(BENCHMARKS);
  const unknown = selected.filter((s) => !(s in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark(s) ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  let stored: number[] | undefined;
  try {
    stored = values.stored === undefined ? undefined : parseDecisionCounts(values.stored);
  } catch (error) {
    console.error(`bench: --stored: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const begun = Date.now();
  const log = (line: string) =>
    console.error(`[bench ${((Date.now() - begun) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const options: BenchOptions = {
    quick: values.quick,
    ...(stored ? { stored } : {}),
    profile: values.profile,
    profileDir: resolve(values['profile-dir'] ?? join(tmpdir(), `sg-bench-profiles-${process.pid}`)),
    postgresUrl:
      values.postgres ?? process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: values.redis ?? process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    log,
  };
  const machine = await describeMachine(options.postgresUrl, options.redisUrl).catch((error: Error) => {
    throw new Error(`PostgreSQL or Redis is not reachable (${error.message}); see README "Quick start"`);
  });
  log(`machine: ${machineLine(machine)}`);
  if (options.profile) log(`CPU profiles go to ${options.profileDir}`);

  const results: BenchResult[] = [];
  const failures: Array<{ benchmark: string; error: string }> = [];
  for (const name of selected) {
    log(`${name}: starting`);
    try {
      results.push(...[await BENCHMARKS[name]!(options)].flat());
    } catch (error) {
      // One broken benchmark must not hide the others' figures.
      failures.push({ benchmark: name, error: (error as Error).stack ?? String(error) });
      log(`${name} FAILED: ${(error as Error).message}`);
      await cleanupAll(log);
    }
  }

  console.log(`\n${formatTable(results, machine)}`);
  if (values.markdown) console.log(`\n${formatMarkdown(results)}`);
  const file = resolve(values.json);
  const report = {
    at: new Date(begun).toISOString(),
    seconds: Math.round((Date.now() - begun) / 1000),
    quick: options.quick,
    machine,
    results,
    failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults written to ${file} (${report.seconds} s)`);
  for (const f of failures) console.error(`\n${f.benchmark} failed:\n${f.error}`);
  return failures.length > 0 ? 1 : 0;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nbench: ${signal}, cleaning up (again to quit at once)`);
    void cleanupAll((line) => console.error(line)).finally(() => process.exit(130));
  });
}

main()
  .then(async (code) => {
    await cleanupAll((line) => console.error(line));
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(`bench: ${(error as Error).message}`);
    await cleanupAll((line) => console.error(line));
    process.exit(1);
  });
