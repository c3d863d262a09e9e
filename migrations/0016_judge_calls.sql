CREATE TABLE "judge_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"decision_id" bigint NOT NULL,
	"use_case" text NOT NULL,
	"request_id" text NOT NULL,
	"plan_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'owed' NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"score" double precision,
	"verdict" text,
	"rationale" text,
	"judge_version" text,
	"latency_ms" double precision,
	"input_tokens" integer,
	"output_tokens" integer,
	"cost" double precision,
	"error" text,
	"judged_at" timestamp with time zone,
	"calibration" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "judge_calls_once" ON "judge_calls" USING btree ("decision_id");--> statement-breakpoint
CREATE INDEX "judge_calls_owed" ON "judge_calls" USING btree ("id") WHERE state = 'owed';--> statement-breakpoint
CREATE INDEX "judge_calls_use_case" ON "judge_calls" USING btree ("use_case","request_id");