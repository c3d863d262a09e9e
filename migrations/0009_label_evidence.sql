CREATE TABLE "label_failure_rollups" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"human" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "label_failure_rollups_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","human","stripe")
);
--> statement-breakpoint
DROP INDEX "decisions_guard_window_calls";--> statement-breakpoint
ALTER TABLE "cohort_rollups" ADD COLUMN "ai_failed_with_human" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "segment_rollups" ADD COLUMN "failed" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "decisions_guard_window_label" ON "decisions" USING btree ("use_case","stage_version",(human_decision #>> '{}'),"compared_at","score") WHERE score is not null and jsonb_typeof(human_decision) = 'string';--> statement-breakpoint
CREATE INDEX "decisions_guard_window_calls" ON "decisions" USING btree ("use_case","stage_version","received_at","ai_state") WHERE ai_state in ('done', 'error');--> statement-breakpoint
-- The trigger functions of 0006 are built again: AI calls failed for good on decisions a human
-- decided are counted per cohort, per segment value and per human label, so a gate can count them
-- as disagreements (`aiFailures: disagree`). The other statements are repeated as they were.
DO $migration$
DECLARE
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
      ai_failed_with_human = r.ai_failed_with_human + excluded.ai_failed_with_human;
  $q$;
  -- The segments are those the use case's current plan names.
  segment_sql text := $q$
    INSERT INTO segment_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, segment, value,
      compared, score_sum, failed)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''), s.name,
      coalesce(c.context ->> s.name, 'null'), sum(c.sign * (c.score IS NOT NULL)::int), sum(c.sign * coalesce(c.score, 0)),
      sum(c.sign * (c.score IS NULL)::int)
    FROM %1$s c
    JOIN use_cases u ON u.id = c.use_case
    JOIN plan_versions p ON p.use_case = u.id AND p.version = u.plan_version
    CROSS JOIN LATERAL jsonb_array_elements_text(p.plan -> 'segments') s(name)
    WHERE (c.score IS NOT NULL OR (c.ai_state = 'error' AND c.human_decision IS NOT NULL)) AND c.context ? s.name
    GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT segment_rollups_pk DO UPDATE SET
      compared = r.compared + excluded.compared, score_sum = r.score_sum + excluded.score_sum,
      failed = r.failed + excluded.failed;
  $q$;
  -- AI calls failed for good on decisions a human labelled, by that label.
  label_failure_sql text := $q$
    INSERT INTO label_failure_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, human, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      c.human_decision #>> '{}', sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'error' AND jsonb_typeof(c.human_decision) = 'string'
    GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT label_failure_rollups_pk DO UPDATE SET count = r.count + excluded.count;
  $q$;
  confusion_sql text := $q$
    INSERT INTO confusion_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, human, ai, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      c.human_decision #>> '{}', c.ai_decision #>> '{}', sum(c.sign)
    FROM %1$s c
    WHERE c.score IS NOT NULL AND jsonb_typeof(c.human_decision) = 'string'
      AND jsonb_typeof(c.ai_decision) = 'string'
    GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT confusion_rollups_pk DO UPDATE SET count = r.count + excluded.count;
  $q$;
  latency_sql text := $q$
    INSERT INTO latency_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, bucket, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''),
      floor(ln(1 + greatest(c.ai_latency_ms, 0)) / ln(1.02))::int, sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL
    GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT latency_rollups_pk DO UPDATE SET count = r.count + excluded.count;
  $q$;
  spend_sql text := $q$
    INSERT INTO daily_ai_spend AS r (stripe, use_case, day, cost)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, (c.ai_at AT TIME ZONE 'UTC')::date, sum(c.sign * c.ai_cost)
    FROM %1$s c
    WHERE c.ai_at IS NOT NULL AND c.ai_cost IS NOT NULL
    GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT ON CONSTRAINT daily_ai_spend_pk DO UPDATE SET cost = r.cost + excluded.cost;
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
      ai_errors = r.ai_errors + excluded.ai_errors, ai_cost = r.ai_cost + excluded.ai_cost;
  $q$;
  hourly_latency_sql text := $q$
    INSERT INTO hourly_latency_rollups AS r (stripe, use_case, hour, stage, bucket, count)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, floor(date_part('epoch', c.received_at) / 3600)::int,
      c.stage, floor(ln(1 + greatest(c.ai_latency_ms, 0)) / ln(1.1))::int, sum(c.sign)
    FROM %1$s c
    WHERE c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL
    GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT hourly_latency_rollups_pk DO UPDATE SET count = r.count + excluded.count;
  $q$;
  -- An UPDATE counts only the rows whose contribution changed (a claim or a lease renewal changes none).
  contributing text[] := ARRAY['use_case', 'stage_version', 'stage', 'ai_config', 'ai_model_version',
    'ai_state', 'score', 'ai_cost', 'ai_input_tokens', 'ai_output_tokens', 'ai_latency_ms', 'ai_at',
    'human_decision', 'ai_decision', 'context', 'received_at'];
  differs text := format('(%s) IS DISTINCT FROM (%s)',
    array_to_string(array(SELECT 'o.' || c FROM unnest(contributing) c), ', '),
    array_to_string(array(SELECT 'n.' || c FROM unnest(contributing) c), ', '));
  changed text := format($q$(
    SELECT 1 AS sign, n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE %1$s
    UNION ALL
    SELECT -1 AS sign, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE %1$s)$q$, differs);
  -- A trigger first looks at what its rows hold, then runs only the upserts that have rows to add:
  -- a claim runs one query, an ingest batch three (cohorts, hours, and spend only for rows already
  -- answered).
  trigger_body text := $q$
    DECLARE f record;
    BEGIN
      SELECT count(*) AS n, bool_or(c.score IS NOT NULL) AS scored,
        bool_or(c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL) AS timed,
        bool_or(c.ai_at IS NOT NULL AND c.ai_cost IS NOT NULL) AS spent,
        bool_or(c.ai_state = 'error' AND c.human_decision IS NOT NULL) AS failed
      INTO f FROM %1$s c;
      IF f.n = 0 THEN RETURN NULL; END IF;
      %2$s %7$s
      IF f.scored OR f.failed THEN %3$s END IF;
      IF f.scored THEN %4$s END IF;
      IF f.failed THEN %9$s END IF;
      IF f.timed THEN %5$s %8$s END IF;
      IF f.spent THEN %6$s END IF;
      RETURN NULL;
    END$q$;
  trigger_fn text := $q$CREATE OR REPLACE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql AS %2$L$q$;
  source text;
BEGIN
  FOREACH source IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format(trigger_fn, 'decisions_rollup_' || source, (SELECT format(trigger_body, src,
        format(cohort_sql, src), format(segment_sql, src), format(confusion_sql, src),
        format(latency_sql, src), format(spend_sql, src), format(hourly_sql, src),
        format(hourly_latency_sql, src), format(label_failure_sql, src))
      FROM (SELECT CASE source
        WHEN 'insert' THEN '(SELECT 1 AS sign, n.* FROM new_rows n)'
        WHEN 'update' THEN changed
        ELSE '(SELECT -1 AS sign, o.* FROM old_rows o)' END AS src) s));
  END LOOP;
  -- A plan that changes its segments has them counted again, failures included.
  EXECUTE format($q$CREATE OR REPLACE FUNCTION rebuild_segment_rollups(target text) RETURNS void LANGUAGE plpgsql AS %1$L$q$,
    'BEGIN LOCK TABLE segment_rollups IN SHARE ROW EXCLUSIVE MODE; '
    || 'DELETE FROM segment_rollups WHERE use_case = target; '
    || format(segment_sql, '(SELECT 1 AS sign, d.* FROM decisions d WHERE d.use_case = target)') || ' END');
  -- The decisions stored before this migration: failures added to the cohort rows, segments counted
  -- again (failures included), label failures counted.
  INSERT INTO cohort_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, ai_failed_with_human)
    SELECT 0::smallint, d.use_case, d.stage_version, d.stage, d.ai_config, coalesce(d.ai_model_version, ''), count(*)
    FROM decisions d WHERE d.ai_state = 'error' AND d.human_decision IS NOT NULL
    GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT cohort_rollups_pk DO UPDATE SET
      ai_failed_with_human = r.ai_failed_with_human + excluded.ai_failed_with_human;
  DELETE FROM segment_rollups;
  EXECUTE format(segment_sql || label_failure_sql, '(SELECT 1 AS sign, d.* FROM decisions d)');
END
$migration$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION decisions_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE cohort_rollups, segment_rollups, confusion_rollups, latency_rollups, daily_ai_spend, hourly_rollups,
    hourly_latency_rollups, label_failure_rollups;
  RETURN NULL;
END $$;
