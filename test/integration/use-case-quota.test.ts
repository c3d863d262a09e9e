import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, snapshotDatabase } from '../support/db-snapshot.js';
import {
  LOOPBACK_DESTINATIONS,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { spawnCli } from './cli-harness.js';

/**
 * The per-deployment quota of use cases (`SHADOWGATE_MAX_USE_CASES`): an owner key may create
 * use cases, and each costs a flag, a queue and rollups for good, so their number is bounded.
 * The plans mirror nothing (`sampleRate: 0`), so no AI system is needed.
 */

const UNUSED_AI_URL = 'http://127.0.0.1:9/decide';
const plan = (useCase: string, comment = '') =>
  `${labelPlan(useCase, UNUSED_AI_URL, '    sampleRate: 0\n')}${comment}`;

describe('the quota of use cases', () => {
  let tdb: TestDatabase;
  let tc: TestController;

  const putPlan = (controller: TestController, useCase: string, comment = '') =>
    controller.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(controller.admin)
      .set('content-type', 'application/yaml')
      .send(plan(useCase, comment));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: { SHADOWGATE_MAX_USE_CASES: '2' },
    });
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when a plan would create one use case more than the quota, then it is refused with 409 and nothing changes, while existing use cases take new versions', async () => {
    await putPlan(tc, 'quota-a').expect(201);
    await putPlan(tc, 'quota-b').expect(201);
    const before = await snapshotDatabase(tdb.database);

    const refused = await putPlan(tc, 'quota-c').expect(409);
    expect(refused.body).toEqual({
      error: 'quota_exceeded',
      message:
        'use case quota-c was not created: this deployment holds 2 use cases, and SHADOWGATE_MAX_USE_CASES allows 2',
      details: [],
    });
    expect(await snapshotDatabase(tdb.database)).toEqual(before);
    await tc.http.get('/v1/use-cases/quota-c').set(tc.admin).expect(404);

    const updated = await putPlan(tc, 'quota-a', '# a second version\n').expect(200);
    expect(updated.body).toMatchObject({ planVersion: 2, created: false });
  });

  it('when plans for several new use cases arrive at once, then exactly as many as the quota leaves are created', async () => {
    // Another controller on the same database, allowing 4: two more than are there.
    const roomy = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: { SHADOWGATE_MAX_USE_CASES: '4' },
    });
    try {
      const ids = ['race-1', 'race-2', 'race-3', 'race-4', 'race-5'];
      const statuses = (await Promise.all(ids.map((id) => putPlan(roomy, id)))).map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(2);
      expect(statuses.filter((s) => s === 409)).toHaveLength(3);
      expect(await countRows(tdb.database, 'use_cases')).toBe(4);
    } finally {
      await roomy.stop();
    }
  });

  it('when serve --plans is given more new use cases than the quota, then it names the quota and does not start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadowgate-quota-'));
    const fresh = await createTestDatabase();
    try {
      const plans = join(dir, 'plans');
      await mkdir(plans);
      await writeFile(join(plans, 'one.yaml'), plan('serve-one'));
      await writeFile(join(plans, 'two.yaml'), plan('serve-two'));
      const child = spawnCli(['serve', '--plans', plans, '--port', '0', '--host', '127.0.0.1'], {
        DATABASE_URL: fresh.url,
        ...LOOPBACK_DESTINATIONS,
        SHADOWGATE_MAX_USE_CASES: '1',
        LOG_LEVEL: 'silent',
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      try {
        // It refuses before it listens: it exits, however long a loaded machine takes to get there
        // (the test's own timeout bounds the wait); a controller that started would never exit.
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(await exited).toBe(EXIT.unavailable);
      } finally {
        child.kill('SIGKILL');
      }
      expect(stderr).toContain(
        'use case serve-two was not created: this deployment holds 1 use cases, and SHADOWGATE_MAX_USE_CASES allows 1',
      );
      expect(await countRows(fresh.database, 'use_cases')).toBe(1);
    } finally {
      await fresh.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
