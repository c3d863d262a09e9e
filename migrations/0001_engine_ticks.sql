CREATE TABLE "engine_ticks" (
	"slot" bigint PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
