import { sql } from 'drizzle-orm';
import express from 'express';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/error-handler.js';
import { createLogger } from '../../src/main/logger.js';
import { AI_URL, BACKENDS } from '../support/store-fixtures.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** A value of the request that PostgreSQL refuses and would quote back. */
const SECRET = '99999999999';
const UNIQUE = 'customer-4711@example.com';

describe.each(BACKENDS)('database errors in the log on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let http: ReturnType<typeof supertest>;
  let log = '';

  beforeAll(async () => {
    tdb = await create();
    await tdb.database.rows(sql`create table error_log_probe (v text primary key)`);
    const logger = pino(
      { level: 'info' },
      {
        write(line: string) {
          log += line;
        },
      },
    );
    const app = express();
    app.get('/data-error', async () => {
      await tdb.database.rows(sql`select ${SECRET}::int as n`);
    });
    app.get('/unique-violation', async () => {
      await tdb.database.rows(sql`insert into error_log_probe (v) values (${UNIQUE}), (${UNIQUE})`);
    });
    app.use(errorHandler(logger));
    http = supertest(app);
  });

  afterAll(async () => {
    await tdb?.drop();
  });

  it('when a query fails on a value of the request (a data error, a duplicate key), then the log names its SQLSTATE and never the value', async () => {
    await http.get('/data-error').expect(500);
    await http.get('/unique-violation').expect(500);
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(UNIQUE);
    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.db?.sqlstate)).toEqual(['22003', '23505']);
    expect(lines[1].db.constraint ?? lines[1].db.table).toBeDefined();
  });

  it("when a background task logs such an error with the controller's logger, then the line has its SQLSTATE and not the value", async () => {
    let line = '';
    const logger = createLogger('info', 'test', {
      write(text: string) {
        line += text;
      },
    });
    const failed = await tdb.database.rows(sql`select ${SECRET}::int as n`).catch((e: unknown) => e);
    logger.warn({ err: failed }, 'sweep failed; retried at the next interval');
    expect(line).not.toContain(SECRET);
    expect(JSON.parse(line).err).toMatchObject({
      sqlstate: '22003',
      message: expect.stringContaining('22003'),
    });
  });
});

describe('GET /v1/use-cases/:id/plan?version=', () => {
  let tdb: TestDatabase;
  let tc: TestController;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    await tc.http
      .put('/v1/use-cases/versions/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(labelPlan('versions', AI_URL))
      .expect(201);
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when the version is beyond what the column holds, then 400 names it; the largest it holds is 404', async () => {
    const res = await tc.http.get(`/v1/use-cases/versions/plan?version=${SECRET}`).set(tc.admin).expect(400);
    expect(res.body.details).toEqual([{ path: 'version', problem: expect.stringMatching(/2147483647/) }]);
    await tc.http.get('/v1/use-cases/versions/plan?version=2147483647').set(tc.admin).expect(404);
  });
});
