-- Decisions by month (README "Decisions by month"): `decisions` becomes a table partitioned by
-- the month a row was stored, so each month's indexes stay the size of a month, whole months can be
-- detached, and vacuum works on the month being written.
--
-- Nothing is copied: the table as it was becomes the partition `decisions_legacy` (every row of it
-- gets received_month 0), its indexes are taken over by the new parent's, and new rows go to one
-- partition a month. The id carries its month: `id >> 40` is received_month, so a statement that
-- names a decision by id names its partition too. Ids stay increasing: an id stored before this
-- migration is below 2^40, one stored after is (month << 40) + a sequence value.
--
-- Months are counted from January 2000, UTC: shadowgate_month('2026-12-07') = 323.
CREATE FUNCTION shadowgate_month(at timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ((extract(year FROM at AT TIME ZONE 'UTC')::integer - 2000) * 12
    + extract(month FROM at AT TIME ZONE 'UTC')::integer - 1)
$$;--> statement-breakpoint
-- The sequence is taken modulo 2^40: ids stay unique within a month while it holds fewer than
-- 2^40 (1.1 trillion) decisions.
CREATE FUNCTION shadowgate_decision_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT (shadowgate_month(now())::bigint << 40) + nextval('decisions_id_seq') % 1099511627776
$$;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "received_month" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_legacy_month" CHECK (received_month = 0);--> statement-breakpoint
DROP TRIGGER decisions_rollup_insert ON decisions;--> statement-breakpoint
DROP TRIGGER decisions_rollup_update ON decisions;--> statement-breakpoint
DROP TRIGGER decisions_rollup_delete ON decisions;--> statement-breakpoint
DROP TRIGGER decisions_rollup_truncate ON decisions;--> statement-breakpoint
-- The name `decisions` is the partitioned parent's from here on: what an earlier release reads and
-- writes by that name still works (received_month and the id have defaults).
ALTER TABLE "decisions" RENAME TO "decisions_legacy";--> statement-breakpoint
ALTER INDEX "decisions_pkey" RENAME TO "decisions_legacy_pkey";--> statement-breakpoint
ALTER INDEX "decisions_use_case_request_id" RENAME TO "decisions_legacy_use_case_request_id";--> statement-breakpoint
ALTER INDEX "decisions_cohort" RENAME TO "decisions_legacy_cohort";--> statement-breakpoint
ALTER INDEX "decisions_ai_owed" RENAME TO "decisions_legacy_ai_owed";--> statement-breakpoint
ALTER INDEX "decisions_uncompared" RENAME TO "decisions_legacy_uncompared";--> statement-breakpoint
ALTER INDEX "decisions_compared" RENAME TO "decisions_legacy_compared";--> statement-breakpoint
ALTER INDEX "decisions_guard_window_compared" RENAME TO "decisions_legacy_guard_window_compared";--> statement-breakpoint
ALTER INDEX "decisions_guard_window_calls" RENAME TO "decisions_legacy_guard_window_calls";--> statement-breakpoint
ALTER INDEX "decisions_guard_window_label" RENAME TO "decisions_legacy_guard_window_label";--> statement-breakpoint
ALTER INDEX "decisions_retention" RENAME TO "decisions_legacy_retention";--> statement-breakpoint
CREATE TABLE "decisions" (LIKE "decisions_legacy" INCLUDING DEFAULTS) PARTITION BY RANGE ("received_month");--> statement-breakpoint
ALTER TABLE "decisions" ALTER COLUMN "id" SET DEFAULT shadowgate_decision_id();--> statement-breakpoint
ALTER TABLE "decisions" ALTER COLUMN "received_month" SET DEFAULT shadowgate_month(now());--> statement-breakpoint
ALTER SEQUENCE "decisions_id_seq" OWNED BY "decisions"."id";--> statement-breakpoint
-- The parent's indexes; attaching decisions_legacy takes over its equal ones instead of building them.
CREATE INDEX "decisions_cohort" ON "decisions" USING btree ("use_case","stage_version","stage","ai_config","ai_model_version","received_at");--> statement-breakpoint
CREATE INDEX "decisions_ai_owed" ON "decisions" USING btree ("id") WHERE ai_state = 'owed';--> statement-breakpoint
CREATE INDEX "decisions_uncompared" ON "decisions" USING btree ("id") WHERE score is null and ai_state = 'done' and human_decision is not null;--> statement-breakpoint
CREATE INDEX "decisions_compared" ON "decisions" USING btree ("use_case","stage","compared_at");--> statement-breakpoint
CREATE INDEX "decisions_guard_window_compared" ON "decisions" USING btree ("use_case","stage_version","compared_at","score") WHERE score is not null;--> statement-breakpoint
CREATE INDEX "decisions_guard_window_calls" ON "decisions" USING btree ("use_case","stage_version","received_at","ai_state") WHERE ai_state in ('done', 'error');--> statement-breakpoint
CREATE INDEX "decisions_guard_window_label" ON "decisions" USING btree ("use_case","stage_version",(human_decision #>> '{}'),"compared_at","score") WHERE score is not null and jsonb_typeof(human_decision) = 'string' and length(human_decision #>> '{}') <= 200;--> statement-breakpoint
CREATE INDEX "decisions_retention" ON "decisions" USING btree ("use_case","received_at") WHERE input is not null or ai_error like '%:%';--> statement-breakpoint
CREATE TRIGGER decisions_rollup_insert AFTER INSERT ON decisions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_insert();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_update AFTER UPDATE ON decisions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_update();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_delete AFTER DELETE ON decisions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_delete();--> statement-breakpoint
CREATE TRIGGER decisions_rollup_truncate AFTER TRUNCATE ON decisions
  FOR EACH STATEMENT EXECUTE FUNCTION decisions_rollup_truncate();--> statement-breakpoint
-- decisions_legacy holds every month before this one; its CHECK spares the attach a scan.
DO $$ BEGIN
  EXECUTE format('ALTER TABLE decisions ATTACH PARTITION decisions_legacy FOR VALUES FROM (MINVALUE) TO (%s)',
    shadowgate_month(now()));
END $$;--> statement-breakpoint
-- Makes the month partitions from this month through `through_month` that do not exist yet (at most
-- 24 months ahead) and returns how many it made. Each has its own primary key on id and its own
-- unique (use_case, request_id, received_month): within a month that is (use_case, request_id).
-- Callers in several processes are serialized by an advisory lock; a lock on decisions held by a
-- long statement makes it give up after 2 s (it is called again later) rather than queue every
-- insert behind it.
CREATE FUNCTION shadowgate_decision_partitions(through_month integer) RETURNS integer LANGUAGE plpgsql
SET lock_timeout = '2s' AS $$
DECLARE
  first_month integer := shadowgate_month(now());
  name text;
  made integer := 0;
BEGIN
  IF through_month > first_month + 24 THEN
    RAISE EXCEPTION 'decision partitions are made at most 24 months ahead (asked through month %)', through_month;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('shadowgate_decision_partitions'));
  FOR m IN first_month .. through_month LOOP
    name := format('decisions_%s_%s', 2000 + m / 12, lpad((m % 12 + 1)::text, 2, '0'));
    CONTINUE WHEN to_regclass(name) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I PARTITION OF decisions FOR VALUES FROM (%s) TO (%s)', name, m, m + 1);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id), ADD CONSTRAINT %I CHECK ((id >> 40) = %s)',
      name, name || '_pkey', name || '_id_month', m);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (use_case, request_id, received_month)',
      name || '_use_case_request_id', name);
    made := made + 1;
  END LOOP;
  RETURN made;
END $$;--> statement-breakpoint
SELECT shadowgate_decision_partitions(shadowgate_month(now()) + 3);
