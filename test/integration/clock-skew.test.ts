import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Host clocks 60 s apart, as two machines with ±30 s of skew. */
const SKEW_MS = 30_000;
/** One tick a minute: the two ticks below, a few ms apart, share a slot unless a minute ends between them. */
const TICK_MS = 60_000;

describe('two controllers whose host clocks are 60 s apart', () => {
  let tdb: TestDatabase;
  let ahead: TestController;
  let behind: TestController;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const env = { SHADOWGATE_TICK_MS: String(TICK_MS) };
    ahead = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env,
      hostClock: () => Date.now() + SKEW_MS,
    });
    // Its own pool, as a second process would have.
    const ownPool = await openDatabase({ url: tdb.url, maxConnections: 3 });
    behind = await startTestController({
      database: ownPool,
      queue: 'in-process',
      env,
      hostClock: () => Date.now() - SKEW_MS,
    });
  });
  afterAll(async () => {
    await ahead?.stop();
    await behind?.stop();
    await behind?.controller.database.close();
    await tdb?.drop();
  });

  it('tell the database’s time, and one of them takes a tick both ask for at once', async () => {
    const gap = Math.abs(
      ahead.controller.services.clock().getTime() - behind.controller.services.clock().getTime(),
    );
    expect(gap).toBeLessThan(1_000);

    // Not within 2 s of the end of a minute by the database's clock, where two slots would be fair.
    const [row] = await tdb.database.rows<{ ms: string }>(
      sql`select extract(epoch from clock_timestamp()) * 1000 as ms`,
    );
    const intoSlot = Number(row!.ms) % TICK_MS;
    if (intoSlot > TICK_MS - 2_000) await new Promise((r) => setTimeout(r, TICK_MS - intoSlot + 100));

    // With each host's own clock the slots were a minute apart: both ticks ran, every time.
    const reports = await Promise.all(
      [ahead, behind].map((c) => c.controller.engine.tick(c.controller.services.clock())),
    );
    expect(reports.filter((r) => r.ran)).toHaveLength(1);
    const ticks = await tdb.database.rows<{ n: number }>(sql`select count(*)::int as n from engine_ticks`);
    expect(Number(ticks[0]!.n)).toBe(1);
  });
});
