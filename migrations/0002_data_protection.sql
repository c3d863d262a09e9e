ALTER TABLE "decisions" ADD COLUMN "pending_input" jsonb;--> statement-breakpoint
CREATE INDEX "decisions_retention" ON "decisions" USING btree ("use_case","received_at") WHERE input is not null;