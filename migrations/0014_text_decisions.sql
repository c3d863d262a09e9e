DROP INDEX "decisions_guard_window_label";--> statement-breakpoint
CREATE INDEX "decisions_guard_window_label" ON "decisions" USING btree ("use_case","stage_version",(human_decision #>> '{}'),"compared_at","score") WHERE score is not null and jsonb_typeof(human_decision) = 'string' and length(human_decision #>> '{}') <= 200;--> statement-breakpoint
-- Free-text decisions (decision.type text, up to 20,000 characters) are JSON strings, as labels are;
-- the rollups of label evidence must not key on them: a text of a few thousand characters does not
-- fit a btree row, and would fail the decision's own insert. A label is at most 200 characters, so
-- rows keyed on a longer string are skipped here, whichever migration last wrote the rollup triggers.
CREATE OR REPLACE FUNCTION confusion_rollup_keys_fit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF length(NEW.human) > 200 OR length(NEW.ai) > 200 THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION label_failure_rollup_keys_fit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF length(NEW.human) > 200 THEN RETURN NULL; END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER confusion_rollups_keys_fit BEFORE INSERT ON confusion_rollups
  FOR EACH ROW EXECUTE FUNCTION confusion_rollup_keys_fit();--> statement-breakpoint
CREATE TRIGGER label_failure_rollups_keys_fit BEFORE INSERT ON label_failure_rollups
  FOR EACH ROW EXECUTE FUNCTION label_failure_rollup_keys_fit();
