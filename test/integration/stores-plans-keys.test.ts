import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/database.js';
import { KeyStore } from '../../src/keys/key-store.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { BACKENDS, countWhere, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const STORE_TABLES = [
  'api_keys',
  'audit_events',
  'decisions',
  'plan_versions',
  'stage_transitions',
  'use_cases',
];

/** Every table the migration files create, read from the files themselves (new migrations keep coming). */
function migratedTables(): string[] {
  const folder = migrationsFolder();
  const tables = readdirSync(folder)
    .filter((file) => file.endsWith('.sql'))
    .flatMap((file) => [...readFileSync(join(folder, file), 'utf8').matchAll(/create table "([a-z_]+)"/gi)])
    .map((m) => m[1] ?? '');
  return [...new Set(tables)].sort();
}
const BOOTSTRAP = 'bootstrap-admin-secret-0123456789';

describe.each(BACKENDS)('use cases and keys on %s', (backend, create) => {
  let tdb: TestDatabase;
  let useCases: UseCaseStore;
  let keys: KeyStore;

  beforeAll(async () => {
    tdb = await create();
    useCases = new UseCaseStore(tdb.database);
    keys = new KeyStore(tdb.database, BOOTSTRAP);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when the database is opened, then every migration is applied and every table exists', async () => {
    expect(tdb.database.kind).toBe(backend === 'pglite' ? 'pglite' : 'postgres');
    const tables = await tdb.database.rows<{ name: string }>(
      // Month partitions of decisions (migration 0019) are the partitioned table's, not tables of their own.
      sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
    );
    expect(migratedTables()).toEqual(expect.arrayContaining(STORE_TABLES));
    expect(tables.map((t) => t.name)).toEqual(migratedTables());
    const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8'));
    const [applied] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(Number(applied?.n)).toBe(journal.entries.length);
  });

  it('when a plan is applied the first time, then the use case is created in shadow at version 1 with a transition and an audit event', async () => {
    const input = planInput('first-apply');
    const result = await useCases.applyPlan(input);
    expect(result).toMatchObject({ created: true, unchanged: false });
    expect(result.useCase).toMatchObject({
      id: 'first-apply',
      stage: 'shadow',
      stageVersion: 1,
      planVersion: 1,
      planHash: input.textHash,
      aiConfig: input.aiConfig,
    });
    expect(result.useCase.plan.useCase).toBe('first-apply');

    const transitions = await tdb.database.rows<Record<string, unknown>>(
      sql`select from_stage, to_stage, stage_version, plan_version, actor from stage_transitions where use_case = 'first-apply'`,
    );
    expect(transitions).toEqual([
      { from_stage: null, to_stage: 'shadow', stage_version: 1, plan_version: 1, actor: 'key:owner' },
    ]);
    const audit = await tdb.database.rows<{ action: string; actor: string }>(
      sql`select action, actor from audit_events where use_case = 'first-apply'`,
    );
    expect(audit).toEqual([{ action: 'use-case.create', actor: 'key:owner' }]);
    expect((await useCases.list()).map((u) => u.id)).toContain('first-apply');
  });

  it('when the same text is applied again, then nothing changes and no version is added', async () => {
    const input = planInput('same-text');
    await useCases.applyPlan(input);
    const again = await useCases.applyPlan({ ...input, actor: 'key:someone-else' });
    expect(again).toMatchObject({ created: false, unchanged: true });
    expect(again.useCase.planVersion).toBe(1);
    expect(await countWhere(tdb.database, 'plan_versions', 'same-text')).toBe(1);
    expect(await countWhere(tdb.database, 'audit_events', 'same-text')).toBe(1);
    expect(await countWhere(tdb.database, 'stage_transitions', 'same-text')).toBe(1);
  });

  it('when a changed text is applied, then it becomes version 2 and the stage is kept', async () => {
    await useCases.applyPlan(planInput('changed-text'));
    // A stage other than the initial one shows that a plan change leaves it alone.
    await tdb.database.rows(sql`update use_cases set stage = 'human-reviewed' where id = 'changed-text'`);
    const v2 = planInput('changed-text', '  human-reviewed:\n    promoteWhen: { minSamples: 900 }\n');
    const result = await useCases.applyPlan(v2);
    expect(result).toMatchObject({ created: false, unchanged: false });
    expect(result.useCase).toMatchObject({ stage: 'human-reviewed', planVersion: 2, planHash: v2.textHash });
    expect((await useCases.planVersions('changed-text')).map((v) => v.version)).toEqual([2, 1]);
    expect(await countWhere(tdb.database, 'stage_transitions', 'changed-text')).toBe(1);
    const audit = await tdb.database.rows<{ action: string }>(
      sql`select action from audit_events where use_case = 'changed-text' order by id`,
    );
    expect(audit.map((a) => a.action)).toEqual(['use-case.create', 'plan.update']);
  });

  it('when the tick lists the active use cases, then disabled ones are left out, each comes as `get` reads it, a plan applied since is the new version, and a plan handed out cannot be changed', async () => {
    const listing = new UseCaseStore(tdb.database);
    for (const id of ['listed-a', 'listed-b', 'listed-off']) await useCases.applyPlan(planInput(id));
    await tdb.database.rows(sql`update use_cases set stage = 'disabled' where id = 'listed-off'`);
    const mine = async () => (await listing.listActive()).filter((u) => u.id.startsWith('listed-'));

    const first = await mine();
    expect(first.map((u) => u.id)).toEqual(['listed-a', 'listed-b']);
    for (const u of first) expect(u).toEqual(await useCases.get(u.id));
    expect(await mine()).toEqual(first);

    const v2 = planInput('listed-a', '  human-reviewed:\n    promoteWhen: { minSamples: 900 }\n');
    await useCases.applyPlan(v2);
    const next = await mine();
    expect(next[0]).toMatchObject({ id: 'listed-a', planVersion: 2, planHash: v2.textHash });
    expect(next[0]).toEqual(await useCases.get('listed-a'));
    expect(next[0]?.plan.stages['human-reviewed']?.promoteWhen?.minSamples).toBe(900);
    expect(next[1]?.plan).toBe(first[1]?.plan);
    expect(() => {
      (next[1]!.plan as { owner: string }).owner = 'someone else';
    }).toThrow(TypeError);
  });

  it('when a plan is applied, then its text is kept verbatim with the sha256 of that text', async () => {
    const input = planInput('verbatim', '# trailing comment, kept as written  \n\n');
    await useCases.applyPlan(input);
    const record = await useCases.planVersion('verbatim', 1);
    expect(record?.text).toBe(input.text);
    expect(record?.textHash).toBe(createHash('sha256').update(input.text, 'utf8').digest('hex'));
    expect(record).toMatchObject({ format: 'yaml', appliedBy: 'key:owner', aiConfig: input.aiConfig });
    expect(await useCases.planVersion('verbatim', 2)).toBeNull();
  });

  it('when five different plans of one new use case are applied at once, then one use case is created with versions 1 to 5', async () => {
    const inputs = [1, 2, 3, 4, 5].map((n) =>
      planInput('concurrent', `  human-reviewed:\n    promoteWhen: { minSamples: ${n * 100} }\n`),
    );
    const results = await Promise.all(inputs.map((input) => useCases.applyPlan(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const versions = await useCases.planVersions('concurrent');
    expect(versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
    expect(new Set(versions.map((v) => v.textHash)).size).toBe(5);
    expect(await countWhere(tdb.database, 'stage_transitions', 'concurrent')).toBe(1);
    expect((await useCases.get('concurrent'))?.planVersion).toBe(5);
  });

  it('when one new plan is applied five times at once, then exactly one use case and one version exist', async () => {
    const input = planInput('concurrent-same');
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => useCases.applyPlan(input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.filter((r) => r.unchanged)).toHaveLength(4);
    expect(await countWhere(tdb.database, 'plan_versions', 'concurrent-same')).toBe(1);
    expect(await countWhere(tdb.database, 'audit_events', 'concurrent-same')).toBe(1);
  });

  it('when an unknown use case is read, then it is null', async () => {
    expect(await useCases.get('no-such-use-case')).toBeNull();
  });

  it('when a key is created, then its secret resolves to its principal with role and scopes', async () => {
    const { id, secret } = await keys.create({
      name: 'ingest-bot',
      role: 'ingest',
      useCases: ['invoices', 'refunds'],
      actor: 'bootstrap-admin',
    });
    expect(await keys.resolve(secret)).toEqual({
      keyId: id,
      name: 'ingest-bot',
      role: 'ingest',
      useCases: ['invoices', 'refunds'],
    });
    const all = await keys.create({ name: 'viewer', role: 'viewer', useCases: null, actor: 'x' });
    expect(await keys.resolve(all.secret)).toMatchObject({ role: 'viewer', useCases: null });
    expect((await keys.list()).map((k) => k.id)).toEqual(expect.arrayContaining([id, all.id]));
  });

  it('when a key is created, then no column of api_keys and no audit event holds its secret', async () => {
    const { id, secret } = await keys.create({ name: 'owner', role: 'owner', useCases: null, actor: 'x' });
    const random = secret.slice(`sg_${id}_`.length);
    expect(random.length).toBeGreaterThanOrEqual(40);
    const rows = await tdb.database.rows<{ row: string }>(sql`select t::text as row from api_keys t`);
    expect(rows.length).toBeGreaterThan(0);
    const audit = await tdb.database.rows<{ row: string }>(sql`select t::text as row from audit_events t`);
    for (const { row } of [...rows, ...audit]) {
      expect(row).not.toContain(random);
    }
    const [stored] = await tdb.database.rows<{ secret_hash: string }>(
      sql`select secret_hash from api_keys where id = ${id}`,
    );
    expect(stored?.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
  });

  it('when a key is revoked, then its secret resolves to null and a second revoke reports false', async () => {
    const { id, secret } = await keys.create({ name: 'temp', role: 'release', useCases: null, actor: 'x' });
    expect(await keys.revoke(id, 'bootstrap-admin')).toBe(true);
    expect(await keys.resolve(secret)).toBeNull();
    expect(await keys.revoke(id, 'bootstrap-admin')).toBe(false);
    expect((await keys.list()).find((k) => k.id === id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('when the bootstrap admin key is presented, then it resolves to an admin with every use case', async () => {
    expect(await keys.resolve(BOOTSTRAP)).toEqual({
      keyId: null,
      name: 'bootstrap-admin',
      role: 'admin',
      useCases: null,
    });
    expect(await new KeyStore(tdb.database).resolve(BOOTSTRAP)).toBeNull();
  });

  it('when a wrong secret is presented, then it resolves to null', async () => {
    const { id, secret } = await keys.create({ name: 'real', role: 'owner', useCases: null, actor: 'x' });
    expect(await keys.resolve(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await keys.resolve(`sg_${id}_`)).toBeNull();
    expect(await keys.resolve('not-a-key')).toBeNull();
    expect(await keys.resolve(`${BOOTSTRAP}x`)).toBeNull();
  });
});
