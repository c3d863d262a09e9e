-- Latency histograms a row a stripe (issue 20; docs/performance.md): the tick read a cohort's
-- latencies as a row per bucket and stripe, up to 8 x the buckets its latencies span (949 rows a use
-- case at 10M decisions, 0.9 us each, most of the tick over 1,000 use cases). latency_histograms
-- holds a cohort's buckets and counts as two arrays a stripe: at most 8 rows a cohort.
--
-- latency_rollups stays, written as before, for the release before this one (a rolling upgrade runs
-- both; it reads them): the release after drops it. The trigger functions of 0021 are built again,
-- restated, with latency_histogram_sql added; nothing else changes.
CREATE TABLE "latency_histograms" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"buckets" integer[] NOT NULL,
	"counts" bigint[] NOT NULL,
	CONSTRAINT "latency_histograms_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","stripe")
);--> statement-breakpoint
-- Writers of decisions wait until this migration commits, so the histograms start from every
-- latency counted: a statement already running finishes first (its counts are in latency_rollups
-- when they are copied), one that starts later runs the new trigger functions.
LOCK TABLE decisions IN SHARE MODE;--> statement-breakpoint
INSERT INTO latency_histograms (stripe, use_case, stage_version, stage, ai_config, model_version, buckets, counts)
SELECT stripe, use_case, stage_version, stage, ai_config, model_version,
  array_agg(bucket ORDER BY bucket), array_agg(count ORDER BY bucket)
FROM latency_rollups WHERE count <> 0
GROUP BY 1, 2, 3, 4, 5, 6;--> statement-breakpoint
DO $migration$
DECLARE
  -- The named values a segment field holds per hour and the longest value kept by name: the
  -- single source of these numbers in SQL, held to DRIFT_VALUES_PER_HOUR and DRIFT_VALUE_CHARS of
  -- src/metrics/drift-store.ts by test/unit/drift-migration.test.ts.
  value_cap constant int := 100;
  value_chars constant int := 200;
  -- The named values a segment holds per stage version and the longest value kept by name: the
  -- single source of these numbers in SQL, held to SEGMENT_VALUES_PER_STAGE and SEGMENT_VALUE_CHARS
  -- of src/metrics/rollup-store.ts by test/unit/segment-migration.test.ts.
  segment_cap constant int := 100;
  segment_chars constant int := 200;
  cohort_sql text := $q$
    INSERT INTO cohort_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, decisions,
      compared, score_sum, ai_attempted, ai_errors, ai_cost, input_tokens, output_tokens, human_decisions,
      pending_human, pending_ai, ai_failed_with_human)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''), sum(c.sign),
      sum(c.sign * (c.score IS NOT NULL)::int), sum(c.sign * coalesce(c.score, 0)),
      sum(c.sign * (c.ai_state IN ('done', 'error'))::int), sum(c.sign * (c.ai_state = 'error')::int),
      sum(c.sign * coalesce(c.ai_cost, 0)), sum(c.sign * coalesce(c.ai_input_tokens, 0)),
      sum(c.sign * coalesce(c.ai_output_tokens, 0)), sum(c.sign * (c.human_decision IS NOT NULL)::int),
      sum(c.sign * (c.human_decision IS NULL)::int), sum(c.sign * (c.ai_state = 'owed')::int),
      sum(c.sign * (c.ai_state = 'error' AND c.human_decision IS NOT NULL)::int)
    FROM %1$s c
    GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT cohort_rollups_pk DO UPDATE SET
      decisions = r.decisions + excluded.decisions, compared = r.compared + excluded.compared,
      score_sum = r.score_sum + excluded.score_sum, ai_attempted = r.ai_attempted + excluded.ai_attempted,
      ai_errors = r.ai_errors + excluded.ai_errors, ai_cost = r.ai_cost + excluded.ai_cost,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      human_decisions = r.human_decisions + excluded.human_decisions,
      pending_human = r.pending_human + excluded.pending_human, pending_ai = r.pending_ai + excluded.pending_ai,
      ai_failed_with_human = r.ai_failed_with_human + excluded.ai_failed_with_human
  $q$;
  -- The segments are those the use case's current plan names. New in this migration: their values
  -- are the client's, so they are bounded (%2$s: segment_cap, %3$s: segment_chars). A value longer
  -- than segment_chars characters is counted as __other__, and so is a value new to the stage
  -- version once the segment holds segment_cap named values there (no alias may be f: the trigger's
  -- record is f): a value keeps its row once it
  -- has one, and rows are never taken back, so what was added under a name is taken back under it.
  segment_sql text := $q$
    WITH sv AS MATERIALIZED (
      SELECT c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, '') AS model_version,
        s.name AS segment, CASE WHEN length(c.context ->> s.name) > %3$s THEN '__other__'
          ELSE coalesce(c.context ->> s.name, 'null') END AS value,
        sum(c.sign * (c.score IS NOT NULL)::int) AS compared, sum(c.sign * coalesce(c.score, 0)) AS score_sum,
        sum(c.sign * (c.score IS NULL)::int) AS failed
      FROM %1$s c
      JOIN use_cases u ON u.id = c.use_case
      JOIN plan_versions p ON p.use_case = u.id AND p.version = u.plan_version
      CROSS JOIN LATERAL jsonb_array_elements_text(p.plan -> 'segments') s(name)
      WHERE (c.score IS NOT NULL OR (c.ai_state = 'error' AND c.human_decision IS NOT NULL)) AND c.context ? s.name
      GROUP BY 1, 2, 3, 4, 5, 6, 7
    ), held AS MATERIALIZED (
      -- The named values each segment of these stage versions already holds.
      SELECT k.use_case, k.stage_version, k.segment, r.value
      FROM (SELECT DISTINCT use_case, stage_version, segment FROM sv) k
      JOIN segment_rollups r ON r.use_case = k.use_case AND r.stage_version = k.stage_version
        AND r.segment = k.segment AND r.value <> '__other__'
      GROUP BY 1, 2, 3, 4
    ), taken AS (
      SELECT use_case, stage_version, segment, count(*) AS n FROM held GROUP BY 1, 2, 3
    ), fresh AS (
      -- Values new to their stage version, ranked once each, the most frequent first.
      SELECT sv.use_case, sv.stage_version, sv.segment, sv.value, row_number() OVER (
          PARTITION BY sv.use_case, sv.stage_version, sv.segment
          ORDER BY sum(sv.compared + sv.failed) DESC, sv.value) AS rank
      FROM sv LEFT JOIN held h ON h.use_case = sv.use_case AND h.stage_version = sv.stage_version
        AND h.segment = sv.segment AND h.value = sv.value
      WHERE h.value IS NULL AND sv.value <> '__other__'
      GROUP BY 1, 2, 3, 4
    ), placed AS (
      SELECT sv.use_case, sv.stage_version, sv.stage, sv.ai_config, sv.model_version, sv.segment,
        sv.compared, sv.score_sum, sv.failed,
        CASE WHEN fr.rank IS NULL OR coalesce(t.n, 0) + fr.rank <= %2$s THEN sv.value ELSE '__other__' END AS value
      FROM sv
      LEFT JOIN fresh fr ON fr.use_case = sv.use_case AND fr.stage_version = sv.stage_version
        AND fr.segment = sv.segment AND fr.value = sv.value
      LEFT JOIN taken t ON t.use_case = sv.use_case AND t.stage_version = sv.stage_version AND t.segment = sv.segment
    )
    INSERT INTO segment_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, segment, value,
      compared, score_sum, failed)
    SELECT (pg_backend_pid() %% 8)::smallint, p.use_case, p.stage_version, p.stage, p.ai_config, p.model_version,
      p.segment, p.value, sum(p.compared), sum(p.score_sum), sum(p.failed)
    FROM placed p
    GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT segment_rollups_pk DO UPDATE SET
      compared = r.compared + excluded.compared, score_sum = r.score_sum + excluded.score_sum,
      failed = r.failed + excluded.failed
  $q$;
  -- AI calls failed for good on decisions a human labelled, by that label.
  label_failure_sql text := $q$
    INSERT INTO label_failure_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, human, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      c.human_decision #>> '{}', sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'error' AND jsonb_typeof(c.human_decision) = 'string'
    GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT label_failure_rollups_pk DO UPDATE SET count = r.count + excluded.count
  $q$;
  confusion_sql text := $q$
    INSERT INTO confusion_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, human, ai, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      c.human_decision #>> '{}', c.ai_decision #>> '{}', sum(c.sign)
    FROM %1$s c
    WHERE c.score IS NOT NULL AND jsonb_typeof(c.human_decision) = 'string'
      AND jsonb_typeof(c.ai_decision) = 'string'
    GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT confusion_rollups_pk DO UPDATE SET count = r.count + excluded.count
  $q$;
  latency_sql text := $q$
    INSERT INTO latency_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, bucket, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      floor(ln(1 + greatest(c.ai_latency_ms, 0)) / ln(1.02))::int, sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL
    GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT latency_rollups_pk DO UPDATE SET count = r.count + excluded.count
  $q$;
  -- New in 0022: a cohort's latencies as one row a stripe, its buckets in order and their counts
  -- (README "Metrics"), so a read takes at most 8 rows a cohort. A statement's buckets are summed
  -- first; the row's and the statement's are then summed bucket by bucket, a bucket coming to 0
  -- dropped. latency_sql above is still written for the release before, which reads it.
  latency_histogram_sql text := $q$
    INSERT INTO latency_histograms AS r (stripe, use_case, stage_version, stage, ai_config, model_version, buckets, counts)
    SELECT (pg_backend_pid() %% 8)::smallint, b.use_case, b.stage_version, b.stage, b.ai_config, b.model_version,
      array_agg(b.bucket ORDER BY b.bucket), array_agg(b.n ORDER BY b.bucket)
    FROM (
      SELECT c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, '') AS model_version,
        floor(ln(1 + greatest(c.ai_latency_ms, 0)) / ln(1.02))::int AS bucket, sum(c.sign)::bigint AS n
      FROM %1$s c
      WHERE c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(c.sign) <> 0) b
    GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT latency_histograms_pk DO UPDATE SET (buckets, counts) = (
      SELECT coalesce(array_agg(m.bucket ORDER BY m.bucket), '{}'), coalesce(array_agg(m.n ORDER BY m.bucket), '{}')
      FROM (
        SELECT u.bucket, sum(u.n)::bigint AS n
        FROM unnest(r.buckets || excluded.buckets, r.counts || excluded.counts) u(bucket, n)
        GROUP BY 1 HAVING sum(u.n) <> 0) m)
  $q$;
  spend_sql text := $q$
    INSERT INTO daily_ai_spend AS r (stripe, use_case, day, cost)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, (c.ai_at AT TIME ZONE 'UTC')::date, sum(c.sign * c.ai_cost)
    FROM %1$s c
    WHERE c.ai_at IS NOT NULL AND c.ai_cost IS NOT NULL
    GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT ON CONSTRAINT daily_ai_spend_pk DO UPDATE SET cost = r.cost + excluded.cost
  $q$;
  -- Hours since the epoch: whole UTC hours whatever the session's time zone. date_part's float8 is
  -- exact to the microsecond at these magnitudes, and cheaper per row than extract's numeric.
  hourly_sql text := $q$
    INSERT INTO hourly_rollups AS r (stripe, use_case, hour, stage, decisions, compared, score_sum, ai_attempted,
      ai_errors, ai_cost)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, floor(date_part('epoch', c.received_at) / 3600)::int,
      c.stage, sum(c.sign), sum(c.sign * (c.score IS NOT NULL)::int), sum(c.sign * coalesce(c.score, 0)),
      sum(c.sign * (c.ai_state IN ('done', 'error'))::int), sum(c.sign * (c.ai_state = 'error')::int),
      sum(c.sign * coalesce(c.ai_cost, 0))
    FROM %1$s c
    GROUP BY 2, 3, 4 ORDER BY 2, 3, 4
    ON CONFLICT ON CONSTRAINT hourly_rollups_pk DO UPDATE SET
      decisions = r.decisions + excluded.decisions, compared = r.compared + excluded.compared,
      score_sum = r.score_sum + excluded.score_sum, ai_attempted = r.ai_attempted + excluded.ai_attempted,
      ai_errors = r.ai_errors + excluded.ai_errors, ai_cost = r.ai_cost + excluded.ai_cost
  $q$;
  hourly_latency_sql text := $q$
    INSERT INTO hourly_latency_rollups AS r (stripe, use_case, hour, stage, bucket, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, floor(date_part('epoch', c.received_at) / 3600)::int,
      c.stage, floor(ln(1 + greatest(c.ai_latency_ms, 0)) / ln(1.1))::int, sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL
    GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT hourly_latency_rollups_pk DO UPDATE SET count = r.count + excluded.count
  $q$;
  -- Drift (README "Drift"): per hour of the request and stage version, each segment's value, each
  -- drift.numeric context field's bucket, the human and AI labels (folded into __other__ when not
  -- one of the plan's labels, so a field holds at most 101 values), AI confidence and latency
  -- buckets (src/statistics/drift.ts: CONFIDENCE_BUCKETS, LATENCY_MS_BUCKETS, DEFAULT_NUMERIC_BUCKETS;
  -- width_bucket's array form), human-reviewed overrides, limited-autonomous routes, and every
  -- decision (`decisions`: `all`), which sizes a window of N decisions.
  -- New in 0015: a segment's values are the client's, so they are bounded here (%2$s: value_cap,
  -- %3$s: value_chars). A value longer than value_chars characters is counted as __other__, and so
  -- is a value new to the hour once the field's hour holds value_cap named values (rows of any
  -- count, __other__ aside): a value keeps its own row once it has one and rows are never taken
  -- away, so a decision is always taken back from where it was counted. New values of one
  -- statement take the free rows most frequent first. Two statements filling the same hour's last
  -- rows at once may each take them: the bound is then passed by at most the new values of the
  -- statements that saw it not yet reached. Groups that sum to nothing (an AI answer leaves the
  -- segments as they were) are not written.
  drift_sql text := $q$
    WITH dq AS MATERIALIZED (
      SELECT u.id AS use_case, p.plan -> 'decision' ->> 'type' = 'label' AS labelled,
        p.plan -> 'decision' -> 'labels' AS labels,
        ARRAY(SELECT jsonb_array_elements_text(p.plan -> 'segments')) AS segments,
        p.plan -> 'drift' AS drift
      FROM use_cases u JOIN plan_versions p ON p.use_case = u.id AND p.version = u.plan_version
      WHERE u.id IN (SELECT DISTINCT use_case FROM %1$s x)
    ), dn AS MATERIALIZED (
      SELECT dq.use_case, nm.name, coalesce(
        (SELECT array_agg(b.bound::float8 ORDER BY b.i) FROM jsonb_array_elements_text(dq.drift -> 'buckets' -> nm.name)
          WITH ORDINALITY b(bound, i) WHERE b.i > 1 AND b.i < jsonb_array_length(dq.drift -> 'buckets' -> nm.name)),
        '{1,2,5,10,20,50,100,200,500,1000,2000,5000,10000,20000,50000,100000,200000,500000,1000000,2000000,5000000,10000000,20000000,50000000,100000000,200000000,500000000}'::float8[]) AS thresholds
      FROM dq CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(dq.drift -> 'numeric', '[]')) nm(name)
    ), ds AS MATERIALIZED (
      SELECT dq.use_case, s.name FROM dq CROSS JOIN LATERAL unnest(dq.segments) s(name)
    ), db AS MATERIALIZED (
      -- The built-in fields, rows of the same values counted together before they become a row a
      -- field (a batch of ingested decisions holds a few such groups). Only the fields that can
      -- have changed, for the rows of an UPDATE (drift_request, drift_answer).
      SELECT c.use_case, c.stage_version, floor(date_part('epoch', c.received_at) / 3600)::int AS hour,
        CASE WHEN c.drift_request THEN 'all' END AS decisions,
        CASE WHEN c.drift_request AND dq.labelled AND jsonb_typeof(c.human_decision) = 'string' THEN
          CASE WHEN dq.labels ? (c.human_decision #>> '{}') THEN c.human_decision #>> '{}' ELSE '__other__' END
        END AS human_label,
        CASE WHEN c.drift_answer AND dq.labelled AND c.ai_state = 'done' AND jsonb_typeof(c.ai_decision) = 'string' THEN
          CASE WHEN dq.labels ? (c.ai_decision #>> '{}') THEN c.ai_decision #>> '{}' ELSE '__other__' END
        END AS ai_label,
        CASE WHEN c.drift_answer AND c.ai_state = 'done' THEN width_bucket(c.ai_confidence,
          '{0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95}'::float8[]) END AS ai_confidence,
        CASE WHEN c.drift_answer AND c.ai_state = 'done' THEN width_bucket(c.ai_latency_ms,
          '{1,2,5,10,20,50,100,200,500,1000,2000,5000,10000,20000,50000}'::float8[]) END AS ai_latency,
        CASE WHEN c.drift_answer AND c.stage IN ('shadow', 'human-reviewed') AND c.score IS NOT NULL THEN
          CASE WHEN c.score < 1 THEN 'changed' ELSE 'kept' END END AS override,
        CASE WHEN c.drift_request THEN c.route END AS route,
        sum(c.sign) AS n
      FROM %1$s c JOIN dq ON dq.use_case = c.use_case
      WHERE c.drift_request OR c.drift_answer
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
    ), dv AS MATERIALIZED (
      SELECT use_case, stage_version, hour, kind, field, value, sum(n) AS n
      FROM (
        SELECT c.use_case, c.stage_version, floor(date_part('epoch', c.received_at) / 3600)::int AS hour,
          'segment' AS kind, ds.name AS field, CASE WHEN length(c.context ->> ds.name) > %3$s THEN '__other__'
            ELSE coalesce(c.context ->> ds.name, 'null') END AS value, c.sign AS n
        FROM %1$s c JOIN ds ON ds.use_case = c.use_case
        WHERE c.drift_request AND c.context ? ds.name
        UNION ALL
        SELECT c.use_case, c.stage_version, floor(date_part('epoch', c.received_at) / 3600)::int,
          'numeric', dn.name, width_bucket((c.context ->> dn.name)::float8, dn.thresholds)::text, c.sign
        FROM %1$s c JOIN dn ON dn.use_case = c.use_case
        WHERE c.drift_request AND jsonb_typeof(c.context -> dn.name) = 'number'
        UNION ALL
        SELECT db.use_case, db.stage_version, db.hour, 'built-in', b.field, b.value, db.n
        FROM db CROSS JOIN LATERAL (VALUES ('decisions', db.decisions), ('humanLabel', db.human_label),
          ('aiLabel', db.ai_label), ('aiConfidence', db.ai_confidence::text), ('aiLatency', db.ai_latency::text),
          ('override', db.override), ('route', db.route)) b(field, value)
        WHERE b.value IS NOT NULL
      ) v
      GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
    ), held AS MATERIALIZED (
      -- The named values each segment field of these hours already holds.
      SELECT k.use_case, k.stage_version, k.hour, k.field, d.value
      FROM (SELECT DISTINCT use_case, stage_version, hour, field FROM dv WHERE kind = 'segment') k
      JOIN drift_counts d ON d.use_case = k.use_case AND d.stage_version = k.stage_version
        AND d.hour = k.hour AND d.kind = 'segment' AND d.field = k.field AND d.value <> '__other__'
      GROUP BY 1, 2, 3, 4, 5
    ), taken AS (
      SELECT use_case, stage_version, hour, field, count(*) AS n FROM held GROUP BY 1, 2, 3, 4
    ), placed AS (
      SELECT dv.use_case, dv.stage_version, dv.hour, dv.kind, dv.field, dv.n,
        CASE WHEN NOT x.fresh THEN dv.value
          WHEN coalesce(t.n, 0) + row_number() OVER (PARTITION BY dv.use_case, dv.stage_version, dv.hour,
            dv.kind, dv.field, x.fresh ORDER BY dv.n DESC, dv.value) <= %2$s THEN dv.value
          ELSE '__other__' END AS value
      FROM dv
      LEFT JOIN held h ON dv.kind = 'segment' AND h.use_case = dv.use_case
        AND h.stage_version = dv.stage_version AND h.hour = dv.hour AND h.field = dv.field AND h.value = dv.value
      LEFT JOIN taken t ON dv.kind = 'segment' AND t.use_case = dv.use_case
        AND t.stage_version = dv.stage_version AND t.hour = dv.hour AND t.field = dv.field
      CROSS JOIN LATERAL (SELECT dv.kind = 'segment' AND dv.value <> '__other__' AND h.value IS NULL AS fresh) x
    )
    INSERT INTO drift_counts AS r (stripe, use_case, stage_version, hour, kind, field, value, count)
    SELECT (pg_backend_pid() %% 8)::smallint, p.use_case, p.stage_version, p.hour, p.kind, p.field, p.value,
      sum(p.n)
    FROM placed p
    GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT drift_counts_pk DO UPDATE SET count = r.count + excluded.count
  $q$;
  -- An UPDATE counts only the rows whose contribution changed (a claim or a lease renewal changes none).
  contributing text := 'use_case, stage_version, stage, ai_config, ai_model_version, ai_state, score, ai_cost, '
    'ai_input_tokens, ai_output_tokens, ai_latency_ms, ai_at, human_decision, ai_decision, context, received_at, '
    'ai_confidence, route';
  -- What the drift fields of the request (segments, numeric fields, decisions, humanLabel, route)
  -- and of the answer (aiLabel, aiConfidence, aiLatency, override) are computed from, beside the
  -- keys (the use case's plan, stage version, hour): where these are the same before and after an
  -- UPDATE, the row's -1 and +1 cancel in every group, so drift_sql skips them (an AI answer leaves
  -- the request's fields as they were). The context is compared as text: 1.0 and 1.00 are equal
  -- jsonb but different segment values.
  drift_request text := 'use_case, stage_version, received_at, context::text, human_decision, route';
  drift_answer text := 'use_case, stage_version, received_at, stage, ai_state, ai_decision, ai_confidence, '
    'ai_latency_ms, score';
  differs text := $q$(%1$s) IS DISTINCT FROM (%2$s)$q$;
  changed text := format($q$(
    SELECT 1 AS sign, %2$s AS drift_request, %3$s AS drift_answer, n.*
    FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE %1$s
    UNION ALL
    SELECT -1 AS sign, %2$s AS drift_request, %3$s AS drift_answer, o.*
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE %1$s)$q$,
    format(differs, regexp_replace(contributing, '(^|, )', '\1o.', 'g'),
      regexp_replace(contributing, '(^|, )', '\1n.', 'g')),
    format(differs, regexp_replace(drift_request, '(^|, )', '\1o.', 'g'),
      regexp_replace(drift_request, '(^|, )', '\1n.', 'g')),
    format(differs, regexp_replace(drift_answer, '(^|, )', '\1o.', 'g'),
      regexp_replace(drift_answer, '(^|, )', '\1n.', 'g')));
  -- A trigger first looks at what its rows hold (a claim changes nothing: it stops there), then
  -- writes the rollups in one statement, each part upserting its own table from the rows c and
  -- reading no table another part writes. An UPDATE's c, the join of its old and new rows, is
  -- made once (MATERIALIZED); an INSERT's or DELETE's is its transition table, read in place.
  -- Rows not answered yet (an ingest batch) need only the cohorts, hours and drift, so a
  -- statement of these three alone spares the other parts' executor set-up. PostgreSQL runs the
  -- main statement first, then the WITH statements last to first: listed so, the upserts lock
  -- rows table by table in the order of 0017's statements (cohorts, hours, segments, confusion,
  -- label failures, latency, latency histograms (new in 0022), hourly latency, spend, drift), the same
  -- in every trigger.
  trigger_body text := $q$
    DECLARE f record;
    BEGIN
      SELECT count(*) AS n, bool_or(c.score IS NOT NULL OR c.ai_state IN ('done', 'error') OR c.ai_at IS NOT NULL
        OR c.ai_cost IS NOT NULL) AS answered
      INTO f FROM %1$s c;
      IF f.n = 0 THEN RETURN NULL; END IF;
      IF f.answered THEN
        WITH c AS %11$s %1$s,
          drift AS (%10$s), spend AS (%6$s), hourly_latency AS (%8$s), latency_histogram AS (%12$s), latency AS (%5$s),
          label_failure AS (%9$s), confusion AS (%4$s), segment AS (%3$s), hourly AS (%7$s)
        %2$s;
      ELSE
        WITH c AS %11$s %1$s, drift AS (%10$s), hourly AS (%7$s)
        %2$s;
      END IF;
      RETURN NULL;
    END$q$;
  trigger_fn text := $q$CREATE OR REPLACE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql AS %2$L$q$;
  source text;
BEGIN
  FOREACH source IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format(trigger_fn, 'decisions_rollup_' || source, (SELECT format(trigger_body, statement_rows,
        format(cohort_sql, src), format(segment_sql, src, segment_cap, segment_chars), format(confusion_sql, src),
        format(latency_sql, src), format(spend_sql, src), format(hourly_sql, src),
        format(hourly_latency_sql, src), format(label_failure_sql, src), format(drift_sql, src, value_cap, value_chars),
        CASE source WHEN 'update' THEN 'MATERIALIZED' ELSE 'NOT MATERIALIZED' END, format(latency_histogram_sql, src))
      FROM (SELECT 'c' AS src, CASE source
        WHEN 'insert' THEN '(SELECT 1 AS sign, true AS drift_request, true AS drift_answer, n.* FROM new_rows n)'
        WHEN 'update' THEN changed
        ELSE '(SELECT -1 AS sign, true AS drift_request, true AS drift_answer, o.* FROM old_rows o)' END AS statement_rows) s));
  END LOOP;
  -- A plan that changes its segments has them counted again, under the same bounds.
  EXECUTE format($q$CREATE OR REPLACE FUNCTION rebuild_segment_rollups(target text) RETURNS void LANGUAGE plpgsql AS %1$L$q$,
    'BEGIN LOCK TABLE segment_rollups IN SHARE ROW EXCLUSIVE MODE; '
    || 'DELETE FROM segment_rollups WHERE use_case = target; '
    || format(segment_sql, '(SELECT 1 AS sign, d.* FROM decisions d WHERE d.use_case = target)', segment_cap,
      segment_chars) || '; END');
END
$migration$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION decisions_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE cohort_rollups, segment_rollups, confusion_rollups, latency_rollups, latency_histograms, daily_ai_spend,
    hourly_rollups, hourly_latency_rollups, label_failure_rollups, drift_counts;
  RETURN NULL;
END $$;
