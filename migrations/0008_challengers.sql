CREATE TABLE "challenger_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"challenger_id" bigint NOT NULL,
	"use_case" text NOT NULL,
	"request_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pending_input" jsonb,
	"state" text DEFAULT 'owed' NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"decision" jsonb,
	"confidence" double precision,
	"model_version" text,
	"latency_ms" double precision,
	"input_tokens" integer,
	"output_tokens" integer,
	"cost" double precision,
	"error" text,
	"ai_at" timestamp with time zone,
	"score" double precision,
	"paired" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "challengers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"use_case" text NOT NULL,
	"plan_version" integer NOT NULL,
	"ai_config" text NOT NULL,
	"champion_plan_version" integer NOT NULL,
	"champion_ai_config" text NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_by" text NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_by" text,
	"end_reason" text,
	"paired" jsonb,
	"eligible_notified_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "challenger_calls" ADD CONSTRAINT "challenger_calls_challenger_id_challengers_id_fk" FOREIGN KEY ("challenger_id") REFERENCES "public"."challengers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "challengers" ADD CONSTRAINT "challengers_use_case_use_cases_id_fk" FOREIGN KEY ("use_case") REFERENCES "public"."use_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "challenger_calls_once" ON "challenger_calls" USING btree ("challenger_id","request_id");--> statement-breakpoint
CREATE INDEX "challenger_calls_owed" ON "challenger_calls" USING btree ("id") WHERE state = 'owed';--> statement-breakpoint
CREATE INDEX "challenger_calls_unscored" ON "challenger_calls" USING btree ("challenger_id","id") WHERE state = 'done' and score is null;--> statement-breakpoint
CREATE INDEX "challenger_calls_unpaired" ON "challenger_calls" USING btree ("challenger_id","id") WHERE score is not null and not paired;--> statement-breakpoint
CREATE UNIQUE INDEX "challengers_one_active" ON "challengers" USING btree ("use_case") WHERE state = 'active';