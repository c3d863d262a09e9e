DROP INDEX "decisions_retention";--> statement-breakpoint
CREATE INDEX "decisions_retention" ON "decisions" USING btree ("use_case","received_at") WHERE input is not null or ai_error like '%:%';--> statement-breakpoint
-- Errors stored before what the AI system sent was kept apart quoted its answer whatever the
-- plan's storeInput: under a plan that does not keep inputs as sent, they keep only their kind.
UPDATE "decisions" d SET "ai_error" = split_part(d."ai_error", ':', 1)
FROM "plan_versions" p
WHERE p."use_case" = d."use_case" AND p."version" = d."plan_version"
  AND coalesce(p."plan"->>'storeInput', 'full') <> 'full' AND d."ai_error" LIKE '%:%';
