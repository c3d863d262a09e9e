CREATE TABLE "judge_ratings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"decision_id" bigint NOT NULL,
	"use_case" text NOT NULL,
	"request_id" text NOT NULL,
	"plan_version" integer NOT NULL,
	"acceptable" boolean NOT NULL,
	"rated_by" text NOT NULL,
	"rated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"folded_at" timestamp with time zone,
	"judge_version" text,
	"judge_score" double precision
);
--> statement-breakpoint
CREATE TABLE "judge_calibration_rollups" (
	"use_case" text NOT NULL,
	"plan_version" integer NOT NULL,
	"judge_version" text NOT NULL,
	"rated" bigint DEFAULT 0 NOT NULL,
	"agreed" bigint DEFAULT 0 NOT NULL,
	"both_acceptable" bigint DEFAULT 0 NOT NULL,
	"judge_only" bigint DEFAULT 0 NOT NULL,
	"people_only" bigint DEFAULT 0 NOT NULL,
	"neither" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "judge_calibration_rollups_pk" PRIMARY KEY("use_case","plan_version","judge_version")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "judge_ratings_once" ON "judge_ratings" USING btree ("decision_id");--> statement-breakpoint
CREATE INDEX "judge_calls_judged" ON "judge_calls" USING btree ("use_case","plan_version","judged_at") WHERE state = 'done';--> statement-breakpoint
-- A rating is folded into judge_calibration_rollups once, when both it and a judge call of the
-- calibration sample that is done with a score exist, by whichever of the two arrives last. Both
-- triggers take one transaction-scoped advisory lock per decision before they look at the other
-- side, so a rating and a judge answer committed at the same time cannot both miss each other
-- (the second waits for the first to commit, then its statements see it); `folded_at` makes a
-- second fold of the same rating impossible. Ratings outside the calibration sample are kept but
-- not folded: the sample is drawn by request id, the ratings people choose to give are not.
CREATE FUNCTION judge_calibration_fold(p_decision bigint) RETURNS void LANGUAGE plpgsql AS $fold$
DECLARE
  r record;
  j record;
  judge_ok boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('judge-calibration:' || p_decision, 0));
  SELECT id, acceptable INTO r FROM judge_ratings WHERE decision_id = p_decision AND folded_at IS NULL;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT use_case, plan_version, coalesce(judge_version, '') AS judge_version, score INTO j
    FROM judge_calls
    WHERE decision_id = p_decision AND state = 'done' AND score IS NOT NULL AND calibration;
  IF NOT FOUND THEN RETURN; END IF;
  judge_ok := j.score >= 0.5;
  UPDATE judge_ratings SET folded_at = now(), judge_version = j.judge_version, judge_score = j.score
    WHERE id = r.id;
  INSERT INTO judge_calibration_rollups AS c (use_case, plan_version, judge_version, rated, agreed,
    both_acceptable, judge_only, people_only, neither)
  VALUES (j.use_case, j.plan_version, j.judge_version, 1, (judge_ok = r.acceptable)::int,
    (judge_ok AND r.acceptable)::int, (judge_ok AND NOT r.acceptable)::int,
    (NOT judge_ok AND r.acceptable)::int, (NOT judge_ok AND NOT r.acceptable)::int)
  ON CONFLICT ON CONSTRAINT judge_calibration_rollups_pk DO UPDATE SET
    rated = c.rated + excluded.rated, agreed = c.agreed + excluded.agreed,
    both_acceptable = c.both_acceptable + excluded.both_acceptable,
    judge_only = c.judge_only + excluded.judge_only, people_only = c.people_only + excluded.people_only,
    neither = c.neither + excluded.neither;
END;
$fold$;
--> statement-breakpoint
CREATE FUNCTION judge_calibration_fold_row() RETURNS trigger LANGUAGE plpgsql AS $row$
BEGIN
  PERFORM judge_calibration_fold(NEW.decision_id);
  RETURN NULL;
END;
$row$;
--> statement-breakpoint
CREATE TRIGGER judge_ratings_fold AFTER INSERT ON judge_ratings
  FOR EACH ROW EXECUTE FUNCTION judge_calibration_fold_row();
--> statement-breakpoint
CREATE TRIGGER judge_calls_fold_insert AFTER INSERT ON judge_calls
  FOR EACH ROW WHEN (NEW.state = 'done' AND NEW.score IS NOT NULL)
  EXECUTE FUNCTION judge_calibration_fold_row();
--> statement-breakpoint
CREATE TRIGGER judge_calls_fold_update AFTER UPDATE ON judge_calls
  FOR EACH ROW WHEN (NEW.state = 'done' AND NEW.score IS NOT NULL
    AND (OLD.state IS DISTINCT FROM 'done' OR OLD.score IS NULL))
  EXECUTE FUNCTION judge_calibration_fold_row();
