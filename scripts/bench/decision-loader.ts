import postgres from 'postgres';
import { ROLLUP_STRIPES } from '../../src/db/rollup-schema.js';

/**
 * Stored decisions for the gate and metrics benchmark, generated in SQL (`INSERT … SELECT
 * generate_series`): decision i belongs to use case i mod N of the use cases named
 * `<prefix>NNN`, was received at a random time in the last 30 days, has both sides (labels; the
 * AI agrees about 92% of the time, fails about 0.8% of its calls with a timeout) and its score.
 * The secondary indexes are dropped during the load and built again after it (the same
 * definitions, read from pg_indexes), then the table is vacuumed and analysed.
 *
 * The rollup triggers write each connection's counts in its own stripe (`pg_backend_pid() % 8`),
 * and a controller's pool of connections writes in all of them, so a busy use case's rollups hold
 * a row per key and stripe. The chunks are written through one connection per stripe, in turn,
 * so every point of the benchmark reads what a controller that ran for a while leaves: with two
 * connections (as before), the first point held three stripes and the second five, and the tick's
 * rollup reads grew with the generator's connections, not with the decisions.
 */

const CHUNK = 125_000;
/** Connections loading (and then indexing) at once: one per core of the machine this was written for. */
const LOADERS = 2;

export interface LoadReport {
  rows: number;
  insertSeconds: number;
  indexSeconds: number;
  vacuumSeconds: number;
}

export async function loadDecisions(
  url: string,
  useCasePrefix: string,
  range: { from: number; to: number },
  log: (line: string) => void,
): Promise<LoadReport> {
  // Opened first: should it fail, it closes what it opened, and nothing else is open yet.
  const stripes = await connectionPerStripe(url);
  const sql = postgres(url, { max: LOADERS, onnotice: () => {}, connect_timeout: 5 });
  try {
    const indexes = await sql<{ indexname: string; indexdef: string }[]>`
      select indexname, indexdef from pg_indexes
      where schemaname = current_schema() and tablename = 'decisions' and indexname <> 'decisions_pkey'`;
    for (const { indexname } of indexes) await sql.unsafe(`drop index "${indexname}"`);
    const [counted] = await sql<{ n: number }[]>`
      select count(*)::int as n from use_cases where id like ${`${useCasePrefix}%`}`;
    const useCases = counted?.n ?? 0;
    if (useCases === 0) throw new Error(`no use case named ${useCasePrefix}…: apply the plans first`);

    let started = performance.now();
    const chunks: Array<[number, number]> = [];
    for (let from = range.from; from <= range.to; from += CHUNK) {
      chunks.push([from, Math.min(range.to, from + CHUNK - 1)]);
    }
    let taken = 0;
    await inParallel(chunks, async ([from, to]) => {
      // Chunks taken one after the other go through different stripes (at most LOADERS at once).
      const writer = stripes[taken++ % stripes.length]!;
      await writer.begin(async (tx) => {
        await tx`set local synchronous_commit = off`;
        await insertChunk(tx, useCasePrefix, useCases, from, to);
      });
      log(`gates: loaded decisions ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')}`);
    });
    const insertSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await inParallel(indexes, ({ indexdef }) =>
      sql.begin(async (tx) => {
        await tx`set local maintenance_work_mem = '512MB'`;
        await tx`set local max_parallel_maintenance_workers = 0`;
        // A partitioned table's index reads `ON ONLY decisions` (the parent alone, left invalid):
        // built without ONLY it is made on every month partition too.
        await tx.unsafe(indexdef.replace(/ ON ONLY /, ' ON '));
      }),
    );
    const indexSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await sql`vacuum (analyze) decisions`;
    const vacuumSeconds = (performance.now() - started) / 1000;
    return { rows: range.to - range.from + 1, insertSeconds, indexSeconds, vacuumSeconds };
  } finally {
    await Promise.all([sql, ...stripes].map((client) => client.end({ timeout: 5 })));
  }
}

/**
 * A client of one connection for each stripe of the rollups: connections are opened until every
 * `pg_backend_pid() % ROLLUP_STRIPES` is held (a backend's id is its process id, handed out in turn, so
 * a few more connections than stripes usually do); the others are closed at once.
 */
async function connectionPerStripe(url: string): Promise<postgres.Sql[]> {
  const held = new Map<number, postgres.Sql>();
  try {
    for (let tries = 0; held.size < ROLLUP_STRIPES; tries++) {
      if (tries >= ROLLUP_STRIPES * 20) {
        throw new Error(`${tries} connections held ${held.size} of the ${ROLLUP_STRIPES} rollup stripes`);
      }
      const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      const stripe = await client<{ stripe: number }[]>`select pg_backend_pid() % ${ROLLUP_STRIPES} as stripe`
        .then(([row]) => row!.stripe)
        .catch(async (error: unknown) => {
          await client.end({ timeout: 5 });
          throw error;
        });
      if (held.has(stripe)) await client.end({ timeout: 5 });
      else held.set(stripe, client);
    }
    return [...held.entries()].sort(([a], [b]) => a - b).map(([, client]) => client);
  } catch (error) {
    await Promise.all([...held.values()].map((client) => client.end({ timeout: 5 })));
    throw error;
  }
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: LOADERS }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function insertChunk(
  sql: postgres.TransactionSql,
  prefix: string,
  useCases: number,
  from: number,
  to: number,
): Promise<void> {
  // The volatile random() stays in the subquery (PostgreSQL does not flatten it), one value a row.
  await sql`
    with uc as (
      select (row_number() over (order by u.id) - 1)::int as n, u.id, u.plan_version, u.stage_version, p.ai_config
      from use_cases u join plan_versions p on p.use_case = u.id and p.version = u.plan_version
      where u.id like ${`${prefix}%`}
    )
    insert into decisions (
      use_case, request_id, payload_hash, input, context, stage, stage_version, plan_version, ai_config, received_at,
      human_decision, human_decided_by, human_handling_ms, human_at,
      ai_state, ai_attempts, ai_decision, ai_confidence, ai_model_version, ai_latency_ms,
      ai_input_tokens, ai_output_tokens, ai_cost, ai_error, ai_at, score, compared_at)
    select u.id, 'req-' || s.i, md5(s.i::text) || md5((-s.i)::text),
      jsonb_build_object('invoiceId', 'INV-' || s.i, 'vendor', 'vendor-' || (s.i % 37),
        'vendorVerified', s.i % 8 <> 0, 'amount', round((100 + (s.i * 7919) % 50000)::numeric, 2),
        'currency', 'EUR', 'poNumber', 'PO-' || (s.i % 999983), 'lineItems', 1 + s.i % 12, 'dueInDays', 30),
      jsonb_build_object('region', (array['EU', 'US', 'APAC'])[(1 + s.i % 3)::int],
        'riskTier', (array['low', 'medium', 'high'])[(1 + (s.i / 3) % 3)::int]),
      'shadow', u.stage_version, u.plan_version, u.ai_config, s.received_at,
      to_jsonb(s.human), 'clerk-' || (s.i % 40), 20000 + (s.i * 31) % 60000, s.received_at + interval '30 seconds',
      case when s.failed then 'error' else 'done' end, 1,
      case when s.failed then null else to_jsonb(case when s.agrees then s.human else s.other end) end,
      case when s.failed then null else 0.5 + s.latency / 1000 end,
      'sim-1', s.latency, 400, 20, 0.000072,
      case when s.failed then 'timeout: no answer within 3000 ms' end,
      s.received_at + s.latency * interval '1 millisecond',
      case when s.failed then null when s.agrees then 1 else 0 end,
      case when s.failed then null else s.received_at + s.latency * interval '1 millisecond' end
    from (
      select g.i, now() - random() * interval '30 days' as received_at, 40 + random() * 400 as latency,
        (array['approve', 'reject', 'escalate'])[(1 + (g.i * 7919) % 3)::int] as human,
        (array['approve', 'reject', 'escalate'])[(1 + ((g.i * 7919) % 3 + 1) % 3)::int] as other,
        (g.i * 40503) % 100 < 92 as agrees,
        (g.i * 2654435761) % 1000 < 8 as failed
      from generate_series(${from}::bigint, ${to}::bigint) g(i)
    ) s
    join uc u on u.n = (s.i % ${useCases})::int`;
}
