CREATE TABLE "cohort_rollups" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"decisions" bigint DEFAULT 0 NOT NULL,
	"compared" bigint DEFAULT 0 NOT NULL,
	"score_sum" double precision DEFAULT 0 NOT NULL,
	"ai_attempted" bigint DEFAULT 0 NOT NULL,
	"ai_errors" bigint DEFAULT 0 NOT NULL,
	"ai_cost" double precision DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"human_decisions" bigint DEFAULT 0 NOT NULL,
	"pending_human" bigint DEFAULT 0 NOT NULL,
	"pending_ai" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "cohort_rollups_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","stripe")
);
--> statement-breakpoint
CREATE TABLE "confusion_rollups" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"human" text NOT NULL,
	"ai" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "confusion_rollups_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","human","ai","stripe")
);
--> statement-breakpoint
CREATE TABLE "daily_ai_spend" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"day" date NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "daily_ai_spend_pk" PRIMARY KEY("use_case","day","stripe")
);
--> statement-breakpoint
CREATE TABLE "latency_rollups" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"bucket" integer NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "latency_rollups_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","bucket","stripe")
);
--> statement-breakpoint
CREATE TABLE "segment_rollups" (
	"stripe" smallint NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"stage" text NOT NULL,
	"ai_config" text NOT NULL,
	"model_version" text NOT NULL,
	"segment" text NOT NULL,
	"value" text NOT NULL,
	"compared" bigint DEFAULT 0 NOT NULL,
	"score_sum" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "segment_rollups_pk" PRIMARY KEY("use_case","stage_version","stage","ai_config","model_version","segment","value","stripe")
);
--> statement-breakpoint
DROP INDEX "decisions_cohort";--> statement-breakpoint
CREATE INDEX "decisions_guard_window_compared" ON "decisions" USING btree ("use_case","stage_version","compared_at","score") WHERE score is not null;--> statement-breakpoint
CREATE INDEX "decisions_guard_window_calls" ON "decisions" USING btree ("use_case","stage_version","ai_at","ai_state") WHERE ai_state in ('done', 'error');--> statement-breakpoint
CREATE INDEX "decisions_cohort" ON "decisions" USING btree ("use_case","stage_version","stage","ai_config","ai_model_version","received_at");--> statement-breakpoint
-- The rollups are kept by statement-level triggers on decisions. Each rollup is one INSERT … ON
-- CONFLICT DO UPDATE written once below over a source of signed rows (`sign` +1 for what rows
-- contribute now, −1 for what they contributed before); the DO block builds the trigger functions
-- for INSERT, UPDATE and DELETE, the segment rebuild run when a plan changes its segments, and the
-- first fill from the decisions already stored, all from these same statements. Upserts go in key
-- order, so concurrent writers lock rollup rows in one order, and each connection writes its own
-- stripe (pg_backend_pid() % 8) of the per-cohort rows, so writers do not queue on one row.
DO $migration$
DECLARE
  cohort_sql text := $q$
    INSERT INTO cohort_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, decisions,
      compared, score_sum, ai_attempted, ai_errors, ai_cost, input_tokens, output_tokens, human_decisions,
      pending_human, pending_ai)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''), sum(c.sign),
      sum(c.sign * (c.score IS NOT NULL)::int), sum(c.sign * coalesce(c.score, 0)),
      sum(c.sign * (c.ai_state IN ('done', 'error'))::int), sum(c.sign * (c.ai_state = 'error')::int),
      sum(c.sign * coalesce(c.ai_cost, 0)), sum(c.sign * coalesce(c.ai_input_tokens, 0)),
      sum(c.sign * coalesce(c.ai_output_tokens, 0)), sum(c.sign * (c.human_decision IS NOT NULL)::int),
      sum(c.sign * (c.human_decision IS NULL)::int), sum(c.sign * (c.ai_state = 'owed')::int)
    FROM %1$s c
    GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT cohort_rollups_pk DO UPDATE SET
      decisions = r.decisions + excluded.decisions, compared = r.compared + excluded.compared,
      score_sum = r.score_sum + excluded.score_sum, ai_attempted = r.ai_attempted + excluded.ai_attempted,
      ai_errors = r.ai_errors + excluded.ai_errors, ai_cost = r.ai_cost + excluded.ai_cost,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      human_decisions = r.human_decisions + excluded.human_decisions,
      pending_human = r.pending_human + excluded.pending_human, pending_ai = r.pending_ai + excluded.pending_ai;
  $q$;
  -- The segments are those the use case's current plan names.
  segment_sql text := $q$
    INSERT INTO segment_rollups AS r (stripe, use_case, stage_version, stage, ai_config, model_version, segment, value,
      compared, score_sum)
    SELECT (pg_backend_pid() %% 8)::smallint, c.use_case, c.stage_version, c.stage, c.ai_config, coalesce(c.ai_model_version, ''), s.name,
      coalesce(c.context ->> s.name, 'null'), sum(c.sign), sum(c.sign * c.score)
    FROM %1$s c
    JOIN use_cases u ON u.id = c.use_case
    JOIN plan_versions p ON p.use_case = u.id AND p.version = u.plan_version
    CROSS JOIN LATERAL jsonb_array_elements_text(p.plan -> 'segments') s(name)
    WHERE c.score IS NOT NULL AND c.context ? s.name
    GROUP BY 2, 3, 4, 5, 6, 7, 8 ORDER BY 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT segment_rollups_pk DO UPDATE SET
      compared = r.compared + excluded.compared, score_sum = r.score_sum + excluded.score_sum;
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
  all_sql text := cohort_sql || segment_sql || confusion_sql || latency_sql || spend_sql;
  -- An UPDATE counts only the rows whose contribution changed (a claim or a lease renewal changes none).
  contributing text[] := ARRAY['use_case', 'stage_version', 'stage', 'ai_config', 'ai_model_version',
    'ai_state', 'score', 'ai_cost', 'ai_input_tokens', 'ai_output_tokens', 'ai_latency_ms', 'ai_at',
    'human_decision', 'ai_decision', 'context'];
  differs text := format('(%s) IS DISTINCT FROM (%s)',
    array_to_string(array(SELECT 'o.' || c FROM unnest(contributing) c), ', '),
    array_to_string(array(SELECT 'n.' || c FROM unnest(contributing) c), ', '));
  changed text := format($q$(
    SELECT 1 AS sign, n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE %1$s
    UNION ALL
    SELECT -1 AS sign, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE %1$s)$q$, differs);
  -- A trigger first looks at what its rows hold, then runs only the upserts that have rows to add:
  -- a claim runs one query, an ingest batch two (cohorts, and spend only for rows already answered).
  trigger_body text := $q$
    DECLARE f record;
    BEGIN
      SELECT count(*) AS n, bool_or(c.score IS NOT NULL) AS scored,
        bool_or(c.ai_state = 'done' AND c.ai_latency_ms IS NOT NULL) AS timed,
        bool_or(c.ai_at IS NOT NULL AND c.ai_cost IS NOT NULL) AS spent
      INTO f FROM %1$s c;
      IF f.n = 0 THEN RETURN NULL; END IF;
      %2$s
      IF f.scored THEN %3$s %4$s END IF;
      IF f.timed THEN %5$s END IF;
      IF f.spent THEN %6$s END IF;
      RETURN NULL;
    END$q$;
  trigger_fn text := $q$CREATE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql AS %2$L$q$;
  source text;
BEGIN
  FOREACH source IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
    EXECUTE format(trigger_fn, 'decisions_rollup_' || source, (SELECT format(trigger_body, src,
        format(cohort_sql, src), format(segment_sql, src), format(confusion_sql, src),
        format(latency_sql, src), format(spend_sql, src))
      FROM (SELECT CASE source
        WHEN 'insert' THEN '(SELECT 1 AS sign, n.* FROM new_rows n)'
        WHEN 'update' THEN changed
        ELSE '(SELECT -1 AS sign, o.* FROM old_rows o)' END AS src) s));
  END LOOP;
  -- A plan that changes its segments has them counted again over its use case's decisions. The lock
  -- waits for writers that counted segments under the old plan and holds back new ones until commit.
  EXECUTE format($q$CREATE FUNCTION rebuild_segment_rollups(target text) RETURNS void LANGUAGE plpgsql AS %1$L$q$,
    'BEGIN LOCK TABLE segment_rollups IN SHARE ROW EXCLUSIVE MODE; '
    || 'DELETE FROM segment_rollups WHERE use_case = target; '
    || format(segment_sql, '(SELECT 1 AS sign, d.* FROM decisions d WHERE d.use_case = target)') || ' END');
  -- The decisions stored before this migration.
  EXECUTE format(all_sql, '(SELECT 1 AS sign, d.* FROM decisions d)');
END
$migration$;--> statement-breakpoint
CREATE FUNCTION decisions_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE cohort_rollups, segment_rollups, confusion_rollups, latency_rollups, daily_ai_spend;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER decisions_rollup_insert AFTER INSERT ON decisions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_insert();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_update AFTER UPDATE ON decisions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_update();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_delete AFTER DELETE ON decisions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_delete();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_truncate AFTER TRUNCATE ON decisions
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_truncate();
