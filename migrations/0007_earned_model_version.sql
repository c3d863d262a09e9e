ALTER TABLE "use_cases" ADD COLUMN "earned_model_version" text;--> statement-breakpoint
-- Use cases already in a stage keep the model version of the evidence they moved on.
UPDATE "use_cases" AS u SET "earned_model_version" = t."model_version"
FROM "stage_transitions" AS t
WHERE t."use_case" = u."id" AND t."stage_version" = u."stage_version";
