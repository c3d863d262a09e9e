import { describe, expect, it } from 'vitest';
import { describeCounts, planCounts } from '../../scripts/bench/plan-reading.js';

// A guard window's plan as PostgreSQL 15 printed it, over two month partitions, one never
// executed; the top Buffers line given a read count as a cold cache would.
const PLAN = `Nested Loop  (cost=3.62..7.32 rows=2 width=40) (actual time=0.031..0.049 rows=2 loops=1)
  Buffers: shared hit=5 read=7 dirtied=1, temp read=3
  ->  Function Scan on unnest f  (cost=0.00..0.02 rows=2 width=32) (actual time=0.004..0.004 rows=2 loops=1)
  ->  Aggregate  (cost=3.62..3.63 rows=1 width=8) (actual time=0.021..0.021 rows=1 loops=2)
        Buffers: shared hit=5
        ->  Limit  (cost=0.57..2.99 rows=50 width=16) (actual time=0.008..0.017 rows=50 loops=2)
              ->  Append  (cost=0.57..97.57 rows=2000 width=16) (actual time=0.008..0.014 rows=50 loops=2)
                    ->  Index Only Scan Backward using decisions_2026_12_use_case_at_score_idx on decisions_2026_12 d_2  (cost=0.29..53.28 rows=1200 width=16) (actual time=0.007..0.010 rows=50 loops=2)
                          Index Cond: (use_case = f.u)
                          Heap Fetches: 4
                    ->  Index Only Scan Backward using decisions_2026_11_use_case_at_score_idx on decisions_2026_11 d_1  (cost=0.28..34.28 rows=800 width=16) (never executed)
                          Index Cond: (use_case = f.u)
                          Heap Fetches: 0
                    ->  Index Scan using latency_rollups_pk on latency_rollups r  (cost=0.28..34.28 rows=800 width=16) (actual time=0.007..0.010 rows=120 loops=3)
Planning:
  Buffers: shared hit=93
Planning Time: 0.276 ms
Execution Time: 0.073 ms`.split('\n');

describe('reading EXPLAIN (ANALYZE, BUFFERS)', () => {
  it('counts the rows each table returned, over every loop, month partitions as their table', () => {
    expect(planCounts(PLAN).rowsByTable).toEqual({ decisions: 100, latency_rollups: 360 });
  });

  it("takes the whole plan's buffers from the top node, leaving the planner's out", () => {
    const counts = planCounts(PLAN);
    expect([counts.sharedHit, counts.sharedRead]).toEqual([5, 7]);
    expect(counts.heapFetches).toBe(4);
    expect(counts.executionMs).toBe(0.073);
  });

  it('says it on one line, the table that returned most rows first', () => {
    expect(describeCounts(planCounts(PLAN))).toBe(
      '0.1 ms, 360 rows of latency_rollups, 100 rows of decisions, buffers 5 hit / 7 read, 4 heap fetches',
    );
  });

  it('reads a plan without buffers or execution time as nothing counted', () => {
    expect(planCounts(['Result  (cost=0.00..0.01 rows=1 width=4)'])).toEqual({
      executionMs: null,
      sharedHit: 0,
      sharedRead: 0,
      rowsByTable: {},
      heapFetches: 0,
    });
  });
});
