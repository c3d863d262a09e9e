import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { type DriftCells, DriftStore, emptyCells } from '../../src/metrics/drift-store.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { bucketIndex, CONFIDENCE_BUCKETS, LATENCY_MS_BUCKETS } from '../../src/statistics/drift.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const UC = 'drifting';
const LABELS = ['approve', 'reject', 'escalate'];
const DRIFT = 'drift:\n  numeric: [amount]\n  buckets: { amount: [0, 100, 1000, 10000] }\n';
const AMOUNT = { bounds: [0, 100, 1000, 10_000] };

function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface RawRow {
  stage: string;
  stage_version: number;
  context: Record<string, unknown>;
  human_decision: unknown;
  ai_state: string;
  ai_decision: unknown;
  ai_confidence: number | null;
  ai_latency_ms: number | null;
  score: number | null;
  route: string | null;
}

/** The cells computed the plain way from the stored decisions of one stage version. */
function exactCells(rows: RawRow[]): DriftCells {
  const cells = emptyCells();
  const add = (kind: keyof DriftCells, field: string, value: string) => {
    cells[kind][field] ??= Object.create(null) as Record<string, number>;
    const counts = cells[kind][field]!;
    counts[value] = (counts[value] ?? 0) + 1;
  };
  for (const r of rows) {
    add('built-in', 'decisions', 'all');
    for (const s of ['region', 'riskTier']) {
      if (Object.hasOwn(r.context, s))
        add('segment', s, r.context[s] === null ? 'null' : String(r.context[s]));
    }
    if (typeof r.context.amount === 'number')
      add('numeric', 'amount', String(bucketIndex(AMOUNT, r.context.amount)));
    const label = (v: unknown) => (LABELS.includes(v as string) ? (v as string) : '__other__');
    if (typeof r.human_decision === 'string') add('built-in', 'humanLabel', label(r.human_decision));
    if (r.ai_state === 'done') {
      if (typeof r.ai_decision === 'string') add('built-in', 'aiLabel', label(r.ai_decision));
      if (r.ai_confidence !== null)
        add('built-in', 'aiConfidence', String(bucketIndex(CONFIDENCE_BUCKETS, r.ai_confidence)));
      if (r.ai_latency_ms !== null)
        add('built-in', 'aiLatency', String(bucketIndex(LATENCY_MS_BUCKETS, r.ai_latency_ms)));
    }
    if ((r.stage === 'shadow' || r.stage === 'human-reviewed') && r.score !== null) {
      add('built-in', 'override', r.score < 1 ? 'changed' : 'kept');
    }
    if (r.route !== null) add('built-in', 'route', r.route);
  }
  return cells;
}

describe.each(BACKENDS)('drift counts kept by the decisions triggers on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let store: DriftStore;

  beforeAll(async () => {
    tdb = await create();
    store = new DriftStore(tdb.database);
    const decisions = new DecisionStore(tdb.database);
    const calls = new AiCallStore(tdb.database);
    const input = planInput(UC, DRIFT);
    await new UseCaseStore(tdb.database).applyPlan(input);
    const aiConfig = aiConfigKey(input.plan);
    const next = sequence(11);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const rows = Array.from({ length: 300 }, (_, i) => {
      const version = pick([1, 2]);
      const context: Record<string, unknown> = { region: pick(['north', 'south', 'east', '__proto__']) };
      if (next() < 0.7) context.riskTier = pick(['low', 'high']);
      if (next() < 0.8) context.amount = Math.round(next() * 20_000) - 100;
      else if (next() < 0.5) context.amount = 'lots';
      return mirrored(UC, `d${i}`, {
        stage: version === 2 ? 'human-reviewed' : 'shadow',
        stageVersion: version,
        aiConfig,
        context,
        human: next() < 0.6 ? pick([...LABELS, 'hold']) : undefined,
      });
    });
    for (let i = 0; i < rows.length; i += 50) await decisions.insertMirrored(rows.slice(i, i + 50));
    // Spread over 25 hours, so windows of hours and of decisions differ.
    await tdb.database.rows(sql`update decisions set received_at = ('2024-03-01T00:00:00Z'::timestamptz
      + (substr(request_id, 2)::int * interval '5 minutes')) where use_case = ${UC}`);
    for (const row of rows) {
      const roll = next();
      if (roll < 0.1) continue; // left owed
      const call = await calls.claim(row, 60_000);
      if (roll < 0.2) {
        await calls.recordFailure(call!.id, { error: 'timeout', latencyMs: 3000, modelVersion: null });
        continue;
      }
      const ai = pick([...LABELS, 'maybe']);
      const human = row.human?.decision;
      await calls.recordAnswer(
        call!.id,
        answer(ai, { confidence: Math.round(next() * 100) / 100, latencyMs: next() * 3000 }),
        human === undefined ? null : human === ai ? 1 : 0,
      );
      if (next() < 0.3) await calls.recordRoute(call!.id, pick(['autonomous', 'audit', 'boundary']));
    }
  });

  afterAll(async () => {
    await tdb?.drop();
  });

  async function raw(stageVersion: number, fromHour?: number): Promise<RawRow[]> {
    const rows = await tdb.database.rows<RawRow>(sql`
      select stage, stage_version, context::text as context, human_decision::text as human_decision,
        ai_state, ai_decision::text as ai_decision, ai_confidence,
        ai_latency_ms, score, route from decisions
      where use_case = ${UC} and stage_version = ${stageVersion}
        and floor(date_part('epoch', received_at) / 3600) >= ${fromHour ?? 0}`);
    return rows.map((r) => ({
      ...r,
      context: JSON.parse(r.context as unknown as string),
      human_decision: r.human_decision === null ? null : JSON.parse(r.human_decision as string),
      ai_decision: r.ai_decision === null ? null : JSON.parse(r.ai_decision as string),
      ai_confidence: r.ai_confidence === null ? null : Number(r.ai_confidence),
      ai_latency_ms: r.ai_latency_ms === null ? null : Number(r.ai_latency_ms),
      score: r.score === null ? null : Number(r.score),
    }));
  }

  it('when decisions are inserted, answered, failed and routed, then the window holds exactly their counts', async () => {
    for (const version of [1, 2]) {
      const window = await store.window(UC, version, '30d', 0, true);
      const exact = await raw(version);
      expect(window.decisions).toBe(exact.length);
      expect(JSON.parse(JSON.stringify(window.cells))).toEqual(JSON.parse(JSON.stringify(exactCells(exact))));
    }
  });

  it('when the window is a duration up to now, then it sums the hours since, and holds nothing once they are past', async () => {
    const now = Date.parse('2024-03-02T12:30:00Z');
    const all = await store.window(UC, 1, '30d', now);
    expect(all.decisions).toBe((await raw(1)).length);
    const lastHours = await store.window(UC, 1, '2h', Date.parse('2024-03-02T00:30:00Z'));
    expect(lastHours.fromHour).toBe(Date.parse('2024-03-01T23:00:00Z') / 3_600_000);
    expect(lastHours.decisions).toBe((await raw(1, lastHours.fromHour!)).length);
    expect((await store.window(UC, 1, '1h', Date.parse('2024-04-01T00:00:00Z'))).decisions).toBe(0);
  });

  it('when the window is a number of decisions, then it is the trailing whole hours holding at least that many', async () => {
    const window = await store.window(UC, 1, 40, 0, true);
    expect(window.decisions).toBeGreaterThanOrEqual(40);
    const exact = await raw(1, window.fromHour!);
    expect(window.decisions).toBe(exact.length);
    // One hour fewer would not hold 40.
    const fewer = (await raw(1, window.fromHour! + 1)).length;
    expect(fewer).toBeLessThan(40);
  });

  it('when a reference is stored and read back, then its counts survive, a __proto__ value included, and it trips once', async () => {
    const window = await store.window(UC, 1, '30d', 0, true);
    const stored = await store.store({
      useCase: UC,
      stageVersion: 2,
      stage: 'human-reviewed',
      takenBy: 'test',
      reason: 'entered human-reviewed',
      window,
    });
    const read = await store.reference(UC, 2);
    expect(read?.id).toBe(stored.id);
    expect(Object.hasOwn(read!.window.cells.segment.region!, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(read!.window.cells))).toEqual(JSON.parse(JSON.stringify(window.cells)));
    expect(await store.markTripped(stored.id)).toBe(true);
    expect(await store.markTripped(stored.id)).toBe(false);
    expect((await store.reference(UC, 2))?.trippedAt).toBeInstanceOf(Date);
  });

  it('when the windows and references of many use cases are read at once (the tick), then each is what it is read alone', async () => {
    const now = Date.parse('2024-03-02T00:30:00Z');
    for (const window of [40, 1000, 100_000, '2h', '30d', '1h']) {
      for (const stageVersion of [1, 2, 3]) {
        const many = await store.currentWindows(
          [
            { useCase: UC, stageVersion, window },
            { useCase: 'nobody', stageVersion: 1, window },
          ],
          now,
        );
        const alone = await store.window(UC, stageVersion, window, now);
        expect(JSON.parse(JSON.stringify(many.get(UC))), `${window} of ${stageVersion}`).toEqual(
          JSON.parse(JSON.stringify(alone)),
        );
        expect(many.get('nobody')).toMatchObject({ stageVersion: 1, fromHour: null, decisions: 0 });
      }
    }
    // A window of decisions up to now: not the whole stage version, at least 40 of them.
    const trailing = (await store.currentWindows([{ useCase: UC, stageVersion: 1, window: 40 }], now)).get(
      UC,
    )!;
    expect(trailing.decisions).toBeGreaterThanOrEqual(40);
    expect(trailing.decisions).toBeLessThan((await raw(1)).length);
    expect(await store.currentWindows([], now)).toEqual(new Map());

    const references = await store.references([
      { useCase: UC, stageVersion: 2 },
      { useCase: UC, stageVersion: 1 },
    ]);
    expect([...references.keys()]).toEqual([UC]);
    expect(references.get(UC)).toEqual(await store.reference(UC, 2));
  });
});
