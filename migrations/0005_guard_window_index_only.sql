DROP INDEX "decisions_guard_compared";--> statement-breakpoint
DROP INDEX "decisions_guard_calls";--> statement-breakpoint
CREATE INDEX "decisions_guard_window_compared" ON "decisions" USING btree ("use_case","stage_version","compared_at","score") WHERE score is not null;--> statement-breakpoint
CREATE INDEX "decisions_guard_window_calls" ON "decisions" USING btree ("use_case","stage_version","ai_at","ai_state") WHERE ai_state in ('done', 'error');