/**
 * Run as its own process by test/integration/postgres-terminate.test.ts: a postgres.js fault
 * that throws outside a promise ends the process, so only a child can show it. Each scenario
 * cuts its own connection, prints one JSON line of what its queries answered and exits 0 when
 * the process survived; the parent judges the answers.
 */
import net from 'node:net';
import { sql as drizzleSql } from 'drizzle-orm';
import postgres from 'postgres';
import { openDatabase } from '../../src/db/database.js';
import { rawTransaction } from '../../src/ingest/raw-transaction.js';

const url = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const quiet = { onnotice: () => {} };
const killer = postgres(url, { ...quiet, max: 1 });

/** The error code a query settled with, or 'ok', or a mark that it never settled. */
function outcome(query: PromiseLike<unknown>, seconds = 8): Promise<string> {
  return Promise.race([
    Promise.resolve(query).then(
      () => 'ok',
      // drizzle wraps the driver's error: its code is on the cause.
      (error: { code?: string; message?: string; cause?: { code?: string } }) =>
        error.code ?? error.cause?.code ?? String(error.message),
    ),
    new Promise<string>((resolve) => setTimeout(resolve, seconds * 1000, 'unsettled').unref()),
  ]);
}

function pidOf(rows: readonly unknown[]): number {
  const pid = (rows[0] as { pid?: unknown } | undefined)?.pid;
  if (typeof pid !== 'number') throw new Error('no backend pid');
  return pid;
}

/** Closing a pool waits for its connections' queries, up to its timeout (5 s here). */
async function msTaken(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return Math.round(performance.now() - start);
}

/** Terminates backend `pid` once it is running `select pg_sleep…`, so the cut is mid-query. */
async function terminateWhileSleeping(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await killer`
      select pg_terminate_backend(pid) as done from pg_stat_activity
      where pid = ${pid} and state = 'active' and query like 'select pg_sleep%'`;
    if (row) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`backend ${pid} never ran its pg_sleep`);
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  /** A transaction's backend dies mid-statement; postgres.js then writes ROLLBACK to the closed connection. */
  async transaction() {
    const sql = postgres(url, { ...quiet, max: 2 });
    const settled = await outcome(
      sql.begin(async (tx) => {
        const cut = terminateWhileSleeping(pidOf(await tx`select pg_backend_pid() as pid`));
        await tx`select pg_sleep(5)`.finally(() => cut);
      }),
    );
    const after = await outcome(sql`select 1`);
    return { settled, after, closeMs: await msTaken(() => sql.end({ timeout: 5 })) };
  },

  /** upstream #1208: a reserved connection whose backend is gone is queried twice. */
  async reserved() {
    const sql = postgres(url, { ...quiet, max: 2 });
    const reserved = await sql.reserve();
    const pid = pidOf(await reserved`select pg_backend_pid() as pid`);
    await killer`select pg_terminate_backend(${pid})`;
    const first = await outcome(reserved`select 1`);
    const second = await outcome(reserved`select 1`);
    await sql.end({ timeout: 1 });
    return { first, second };
  },

  /**
   * The socket closes while a small write waits for its setImmediate flush: the next connection
   * must not inherit that write (unpatched, its startup message is never sent: CONNECT_TIMEOUT).
   */
  async pendingWrite() {
    let socket: net.Socket | undefined;
    const { hostname, port } = new URL(url);
    // `socket` (a factory for the connection's socket) is an option postgres.js reads but does not type.
    const options = {
      ...quiet,
      max: 1,
      connect_timeout: 2,
      socket: () => {
        socket = net.connect(Number(port || 5432), hostname);
        return socket;
      },
    } as postgres.Options<Record<string, never>>;
    const sql = postgres(url, options);
    await sql`select 1`;
    // From a check-phase callback the flush lands in the next loop turn, after the close.
    const cut = await new Promise<string>((resolve) =>
      setImmediate(() => {
        outcome(sql`select 1`).then(resolve);
        socket?.destroy();
      }),
    );
    const after = await outcome(sql`select 1`);
    await sql.end({ timeout: 1 });
    return { cut, after };
  },

  /** The controller's own pools (src/db/database.ts) under the same cut, through both transaction paths. */
  async controller() {
    const database = await openDatabase({ url, maxConnections: 2 });
    const raw = await outcome(
      rawTransaction(database, async (run) => {
        const cut = terminateWhileSleeping(pidOf(await run('select pg_backend_pid() as pid', [])));
        await run('select pg_sleep(5)', []).finally(() => cut);
      }),
    );
    const drizzle = await outcome(
      database.db.transaction(async (tx) => {
        const rows = (await tx.execute(drizzleSql`select pg_backend_pid() as pid`)) as unknown as unknown[];
        const cut = terminateWhileSleeping(pidOf(rows));
        await Promise.resolve(tx.execute(drizzleSql`select pg_sleep(5)`)).finally(() => cut);
      }),
    );
    const after = await outcome(database.ping());
    return { raw, drizzle, after, closeMs: await msTaken(() => database.close()) };
  },
};

const name = process.argv[2] ?? '';
const scenario = scenarios[name];
if (!scenario) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
const result = await scenario();
await killer.end({ timeout: 1 });
process.stdout.write(`${JSON.stringify(result)}\n`);
