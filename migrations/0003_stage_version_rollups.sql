ALTER TABLE "decisions" ADD COLUMN "stage_version" integer;--> statement-breakpoint
-- Decisions stored before this column: the stage version in force when each was received.
UPDATE "decisions" d SET "stage_version" = coalesce((
  SELECT max(t."stage_version") FROM "stage_transitions" t
  WHERE t."use_case" = d."use_case" AND t."at" <= d."received_at"), 1);--> statement-breakpoint
ALTER TABLE "decisions" ALTER COLUMN "stage_version" SET NOT NULL;
