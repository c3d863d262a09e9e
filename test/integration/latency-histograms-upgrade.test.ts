import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBeforeMigration, type ReleaseBeforeDatabase } from '../support/release-before.js';

const UC = 'latency-upgrade';
const ROWS = 3_000;

/** Each cohort's latency counts by bucket, from the per-bucket rollups or from the histograms. */
const PER_BUCKET = `
  select stage_version, stage, model_version, bucket, sum(count)::int as n from latency_rollups
  group by 1, 2, 3, 4 having sum(count) <> 0 order by 1, 2, 3, 4`;
const FROM_HISTOGRAMS = `
  select r.stage_version, r.stage, r.model_version, u.bucket, sum(u.n)::int as n
  from latency_histograms r cross join lateral unnest(r.buckets, r.counts) u(bucket, n)
  group by 1, 2, 3, 4 having sum(u.n) <> 0 order by 1, 2, 3, 4`;

/**
 * A database that ran the release before migration 0022 with answered decisions in it, then
 * migrated: the histograms start from every latency the per-bucket rollups counted, and both are
 * kept from then on (the release before reads the per-bucket rollups during a rolling upgrade).
 */
describe('migration 0022 on a database holding answered decisions', () => {
  let release: ReleaseBeforeDatabase;
  let client: ReleaseBeforeDatabase['client'];
  let before: unknown[];

  beforeAll(async () => {
    // The migrations as the release before 0022 shipped them.
    release = await databaseBeforeMigration(22);
    client = release.client;
    // Two stage versions and model versions, latencies from 0 ms to a minute; a tenth left owed.
    await client.unsafe(`
      insert into decisions (use_case, request_id, payload_hash, input, context, stage, stage_version, plan_version,
        ai_config, ai_state, ai_model_version, ai_decision, ai_at, ai_latency_ms)
      select '${UC}', 'r-' || g, 'hash-of-r-' || g, '{"n": 1}', '{}', 'shadow', 1 + g % 2, 1, 'cfg-test',
        case when g % 10 = 0 then 'owed' else 'done' end, case when g % 3 = 0 then 'm2' else 'm1' end,
        case when g % 10 = 0 then null else '"approve"'::jsonb end,
        case when g % 10 = 0 then null else now() end,
        case when g % 10 = 0 then null else (g * 7919 % 60000) / (1 + g % 50) end
      from generate_series(1, ${ROWS}) g`);
    // Some taken back, so a bucket may come to 0.
    await client.unsafe(`delete from decisions where use_case = '${UC}' and request_id like 'r-1%'`);
    before = await client.unsafe(PER_BUCKET);
    await release.migrateForward();
  });

  afterAll(async () => {
    await release?.drop();
  });

  it('when it has run, then the histograms hold every bucket the per-bucket rollups held, a row a cohort and stripe', async () => {
    expect(before.length).toBeGreaterThan(200);
    expect(await client.unsafe(FROM_HISTOGRAMS)).toEqual(before);
    expect(await client.unsafe(PER_BUCKET)).toEqual(before);
    const [rows] = await client.unsafe(`
      select count(*)::int as n, count(distinct (stage_version, model_version, stripe))::int as keys
      from latency_histograms`);
    expect(rows!.n).toBe(rows!.keys);
  });

  it('when decisions are answered after it, then both are written and agree', async () => {
    await client.unsafe(`
      update decisions set ai_state = 'done', ai_decision = '"reject"', ai_at = now(), ai_latency_ms = 123
      where use_case = '${UC}' and ai_state = 'owed'`);
    const after = await client.unsafe(PER_BUCKET);
    expect(after).not.toEqual(before);
    expect(await client.unsafe(FROM_HISTOGRAMS)).toEqual(after);
  });
});
