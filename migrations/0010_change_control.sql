CREATE TABLE "pending_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"use_case" text NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"base_plan_version" integer,
	"base_stage_version" integer,
	"requested_by" text NOT NULL,
	"requested_key" text NOT NULL,
	"rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"approvals_required" integer NOT NULL,
	"approvals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"decision_reason" text,
	"result" jsonb
);
--> statement-breakpoint
ALTER TABLE "plan_versions" ADD COLUMN "approved_by" text[];--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD COLUMN "approved_by" text[];--> statement-breakpoint
CREATE INDEX "pending_changes_use_case_state" ON "pending_changes" USING btree ("use_case","state");