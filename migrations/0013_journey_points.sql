CREATE TABLE "journey_points" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"use_case" text NOT NULL,
	"stage_version" integer NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"stage" text NOT NULL,
	"plan_version" integer NOT NULL,
	"samples" integer NOT NULL,
	"agreement" double precision,
	"lower_bound" double precision,
	"required" double precision,
	"target_stage" text,
	"verdict" text NOT NULL,
	"guard_samples" integer,
	"guard_agreement" double precision,
	"guard_threshold" double precision
);
--> statement-breakpoint
ALTER TABLE "journey_points" ADD CONSTRAINT "journey_points_use_case_use_cases_id_fk" FOREIGN KEY ("use_case") REFERENCES "public"."use_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "journey_points_once" ON "journey_points" USING btree ("use_case","stage_version","seq");