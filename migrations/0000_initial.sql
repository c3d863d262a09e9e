CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"use_cases" jsonb,
	"secret_hash" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"use_case" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "decisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"use_case" text NOT NULL,
	"request_id" text NOT NULL,
	"payload_hash" text NOT NULL,
	"input" jsonb,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"stage" text NOT NULL,
	"plan_version" integer NOT NULL,
	"ai_config" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"human_decision" jsonb,
	"human_decided_by" text,
	"human_handling_ms" integer,
	"human_at" timestamp with time zone,
	"ai_state" text NOT NULL,
	"ai_lease_until" timestamp with time zone,
	"ai_attempts" integer DEFAULT 0 NOT NULL,
	"ai_decision" jsonb,
	"ai_confidence" double precision,
	"ai_model_version" text,
	"ai_latency_ms" double precision,
	"ai_input_tokens" integer,
	"ai_output_tokens" integer,
	"ai_cost" double precision,
	"ai_error" text,
	"ai_at" timestamp with time zone,
	"score" double precision,
	"compared_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "plan_versions" (
	"use_case" text NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"text_hash" text NOT NULL,
	"format" text NOT NULL,
	"plan" jsonb NOT NULL,
	"ai_config" text NOT NULL,
	"applied_by" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plan_versions_use_case_version_pk" PRIMARY KEY("use_case","version")
);
--> statement-breakpoint
CREATE TABLE "stage_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"use_case" text NOT NULL,
	"from_stage" text,
	"to_stage" text NOT NULL,
	"stage_version" integer NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"plan_version" integer NOT NULL,
	"model_version" text,
	"snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "use_cases" (
	"id" text PRIMARY KEY NOT NULL,
	"stage" text NOT NULL,
	"stage_version" integer DEFAULT 1 NOT NULL,
	"stage_entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stage_before_disable" text,
	"plan_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "plan_versions" ADD CONSTRAINT "plan_versions_use_case_use_cases_id_fk" FOREIGN KEY ("use_case") REFERENCES "public"."use_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_transitions" ADD CONSTRAINT "stage_transitions_use_case_use_cases_id_fk" FOREIGN KEY ("use_case") REFERENCES "public"."use_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_secret_hash" ON "api_keys" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "audit_events_use_case" ON "audit_events" USING btree ("use_case","at");--> statement-breakpoint
CREATE UNIQUE INDEX "decisions_use_case_request_id" ON "decisions" USING btree ("use_case","request_id");--> statement-breakpoint
CREATE INDEX "decisions_cohort" ON "decisions" USING btree ("use_case","stage","ai_config","ai_model_version");--> statement-breakpoint
CREATE INDEX "decisions_ai_owed" ON "decisions" USING btree ("id") WHERE ai_state = 'owed';--> statement-breakpoint
CREATE INDEX "decisions_uncompared" ON "decisions" USING btree ("id") WHERE score is null and ai_state = 'done' and human_decision is not null;--> statement-breakpoint
CREATE INDEX "decisions_compared" ON "decisions" USING btree ("use_case","stage","compared_at");--> statement-breakpoint
CREATE UNIQUE INDEX "stage_transitions_once" ON "stage_transitions" USING btree ("use_case","stage_version");