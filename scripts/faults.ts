/**
 * The fault suite (`npm run faults`): sustained mirrored traffic through the real SDK into
 * controller processes on a real PostgreSQL and Redis with a simulated AI system, a fault
 * injected mid-run, and the final counts in the database checked against what was sent.
 * docs/reliability.md lists each fault and the guarantee it tests.
 *
 *   npm run faults                       every case (a few minutes)
 *   npm run faults -- --quick            fewer decisions, shorter phases
 *   npm run faults -- --only redis-loss  one case (repeat --only for more)
 *   npm run faults -- --repeat 20        every case 20 times, each run with other timings
 *   npm run faults -- --seed 1234        the timings of a printed seed again
 *
 * Each run of a case draws its timings (when the fault strikes, how long it lasts, the
 * traffic's pace and batches) from a seed: the base seed (--seed, else random and printed)
 * for the first run, the next seeds for the next runs; a failed run's seed replays it.
 *
 * Exits 1 when a run of a case lost or double-counted anything or another check failed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PG_ADMIN_URL, PG_HINT, REDIS_HINT, REDIS_URL } from '../test/support/services.js';
import { aiFailures } from './faults/case-ai-failures.js';
import { challenger } from './faults/case-challenger.js';
import { clockSkew } from './faults/case-clock-skew.js';
import { controllerKill } from './faults/case-controller-kill.js';
import { postgresNetwork } from './faults/case-postgres-network.js';
import { postgresTerminate } from './faults/case-postgres-terminate.js';
import { postgresRestart } from './faults/case-postgres-restart.js';
import { redisNetwork } from './faults/case-redis-network.js';
import { redisLoss } from './faults/case-redis-loss.js';
import { rollingUpgrade } from './faults/case-rolling-upgrade.js';
import { sigterm } from './faults/case-sigterm.js';
import { twoControllers } from './faults/case-two-controllers.js';
import { unleashDown } from './faults/case-unleash-down.js';
import type { CaseContext, CaseResult, FaultCase } from './faults/fault-case.js';
import { ensureBuilt } from './faults/controller-process.js';
import { checkPostgres } from './faults/fault-database.js';
import { caseLines, repeatSummary, summaryTable } from './faults/fault-report.js';
import { caseRandom, freshSeed, MAX_SEED, parseSeed, runSeed } from './faults/seeded-random.js';
import { checkRedis } from './faults/redis-server.js';

/** Every wait inside a case is bounded; this is the backstop if one is not. */
const CASE_LIMIT_MS = 4 * 60_000;
/** Enough for a stress run overnight; a typo of 1000 would take days. */
const MAX_REPEAT = 100;

const CASES: FaultCase[] = [
  controllerKill,
  redisLoss,
  postgresRestart,
  unleashDown,
  aiFailures,
  twoControllers,
  postgresNetwork,
  sigterm,
  rollingUpgrade,
  redisNetwork,
  postgresTerminate,
  clockSkew,
  challenger,
];

const USAGE = `usage: npm run faults -- [--quick] [--only NAME]... [--repeat N] [--seed S] [--json FILE]

  --repeat N  runs each selected case N times (1..${MAX_REPEAT}, default 1), each run with a seed of its own
  --seed S    the first run's seed (0..${MAX_SEED}); run k uses S + k - 1; default random, printed`;

const { values } = parseOptions();

function parseOptions() {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        json: { type: 'string' },
        repeat: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`faults: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

if (values.help) {
  console.log(`${USAGE}

Cases:
${CASES.map((c) => `  ${c.name.padEnd(18)} ${c.fault}`).join('\n')}

Needs PostgreSQL at ${PG_ADMIN_URL} (TEST_PG_URL) and Redis at ${REDIS_URL} (REDIS_URL);
the PostgreSQL case runs initdb/pg_ctl from /usr/lib/postgresql/N/bin (FAULTS_PG_BIN) and
the Redis case runs redis-server, each on a free port of its own.`);
  process.exit(0);
}

const repeat = values.repeat === undefined ? 1 : Number(values.repeat);
if (!/^\d+$/.test(values.repeat ?? '1') || repeat < 1 || repeat > MAX_REPEAT) {
  console.error(
    `faults: --repeat must be a whole number from 1 to ${MAX_REPEAT}, got ${values.repeat}\n${USAGE}`,
  );
  process.exit(2);
}
const givenSeed = values.seed === undefined ? undefined : parseSeed(values.seed);
if (givenSeed === null) {
  console.error(`faults: --seed must be a whole number from 0 to ${MAX_SEED}, got ${values.seed}\n${USAGE}`);
  process.exit(2);
}
const baseSeed = givenSeed ?? freshSeed();

const only = (values.only ?? []).flatMap((o) => o.split(',')).filter((o) => o !== '');
const unknown = only.filter((name) => !CASES.some((c) => c.name === name));
if (unknown.length > 0) {
  console.error(
    `faults: unknown case ${unknown.join(', ')}; the cases are ${CASES.map((c) => c.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = only.length > 0 ? CASES.filter((c) => only.includes(c.name)) : CASES;

let cleanups: Array<() => Promise<unknown> | unknown> = [];
let diagnostics: Array<() => string> = [];
async function cleanUp(): Promise<void> {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`  cleanup failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nfaults: ${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await checkPostgres(PG_ADMIN_URL, PG_HINT);
  await checkRedis(REDIS_URL, REDIS_HINT);
  // The controllers run dist/, as production does: built here when older than src/.
  console.log(`controller build: ${await ensureBuilt()}`);
} catch (error) {
  console.error(`faults: ${(error as Error).message}`);
  process.exit(1);
}

const suiteStarted = Date.now();
const results: CaseResult[] = [];
console.log(
  `fault suite${values.quick ? ' (quick)' : ''}: ${selected.map((c) => c.name).join(', ')}` +
    `${repeat > 1 ? `, ${repeat} runs each` : ''}; seed ${baseSeed} (--seed ${baseSeed} replays these timings)`,
);
for (const faultCase of selected) {
  console.log(`\n▶ ${faultCase.name}: ${faultCase.fault}`);
  for (let run = 1; run <= repeat; run++) {
    const result = await runCase(faultCase, run);
    results.push(result);
    for (const line of caseLines(result, repeat)) console.log(line);
    if (result.problems.length > 0) {
      for (const describe of diagnostics) console.log(indent(describe()));
    }
    diagnostics = [];
    await cleanUp();
  }
}

/** One run of a case with the run's seed, its failure to finish reported as a failed check. */
async function runCase(faultCase: FaultCase, run: number): Promise<CaseResult> {
  const seed = runSeed(baseSeed, run);
  const started = Date.now();
  const ctx: CaseContext = {
    quick: values.quick,
    random: caseRandom(seed, faultCase.name),
    pgAdminUrl: PG_ADMIN_URL,
    redisUrl: REDIS_URL,
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    onFailure: (describe) => {
      diagnostics.push(describe);
    },
  };
  try {
    const result = await withinLimit(faultCase.run(ctx), CASE_LIMIT_MS, faultCase.name);
    return { ...result, seed, run };
  } catch (error) {
    return {
      name: faultCase.name,
      seed,
      run,
      sent: 0,
      stored: 0,
      lost: 0,
      doubleCounted: 0,
      aiCompleted: 0,
      aiErrors: 0,
      compared: 0,
      repeats: 0,
      facts: [],
      problems: [`the case did not complete: ${(error as Error)?.stack ?? String(error)}`],
      seconds: (Date.now() - started) / 1000,
    };
  }
}

function withinLimit<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    | ${l}`)
    .join('\n');
}

const failed = results.filter((r) => r.problems.length > 0);
console.log(`\n${summaryTable(results)}`);
const seconds = Math.round((Date.now() - suiteStarted) / 1000);
if (repeat > 1) {
  console.log(`\nruns per case (seed ${baseSeed}):\n${repeatSummary(results, repeat).join('\n')}`);
  console.log(`\n${results.length - failed.length} of ${results.length} runs passed in ${seconds} s`);
} else {
  console.log(`\n${results.length - failed.length} of ${results.length} cases passed in ${seconds} s`);
}
if (failed.length > 0) {
  console.log(`replay a failed run: npm run faults -- --only NAME --seed SEED (its seed above)`);
}
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
process.exit(failed.length > 0 ? 1 : 0);
