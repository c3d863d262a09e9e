import {
  bigint,
  date,
  doublePrecision,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
} from 'drizzle-orm/pg-core';

/**
 * Incremental rollups of `decisions`, kept by the statement-level triggers of migration 0004
 * (`decisions_rollup_*`): every INSERT, UPDATE or DELETE of decisions adds what the changed rows
 * contribute now and subtracts what they contributed before, in the same transaction. Reads of a
 * use case's metrics and the promotion engine's tick read these, so their cost does not grow with
 * the number of decisions stored. Keyed by the cohort (stage × AI configuration × model version,
 * '' while no AI answer carried one) and the stage version, so a gate counts only the current one.
 */
const cohortColumns = {
  useCase: text('use_case').notNull(),
  stageVersion: integer('stage_version').notNull(),
  stage: text('stage').notNull(),
  aiConfig: text('ai_config').notNull(),
  modelVersion: text('model_version').notNull(),
};
/**
 * Concurrent writers would queue on one row per cohort (or latency bucket, or day) (a row lock is held until commit, WAL flush
 * included), so each connection writes its own stripe of a rollup (`pg_backend_pid() % 8`) and
 * reads sum the stripes: a key has up to this many rows (the triggers' SQL says 8, held to this by
 * test/unit/rollup-trigger-migrations.test.ts).
 */
export const ROLLUP_STRIPES = 8;
const stripe = { stripe: smallint('stripe').notNull() };
const count = (name: string) => bigint(name, { mode: 'number' }).notNull().default(0);
const sum = (name: string) => doublePrecision(name).notNull().default(0);

export const cohortRollups = pgTable(
  'cohort_rollups',
  {
    ...stripe,
    ...cohortColumns,
    decisions: count('decisions'),
    compared: count('compared'),
    scoreSum: sum('score_sum'),
    aiAttempted: count('ai_attempted'),
    aiErrors: count('ai_errors'),
    aiCost: sum('ai_cost'),
    inputTokens: count('input_tokens'),
    outputTokens: count('output_tokens'),
    humanDecisions: count('human_decisions'),
    pendingHuman: count('pending_human'),
    pendingAi: count('pending_ai'),
    /** AI calls failed for good on decisions a human decided (migration 0009): `aiFailures: disagree`. */
    aiFailedWithHuman: count('ai_failed_with_human'),
  },
  (t) => [
    primaryKey({
      name: 'cohort_rollups_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.stripe],
    }),
  ],
);

/** Compared decisions per value of each segment the use case's plan names. */
export const segmentRollups = pgTable(
  'segment_rollups',
  {
    ...stripe,
    ...cohortColumns,
    segment: text('segment').notNull(),
    value: text('value').notNull(),
    compared: count('compared'),
    scoreSum: sum('score_sum'),
    /** AI calls failed for good on decisions a human decided, per segment value (migration 0009). */
    failed: count('failed'),
  },
  (t) => [
    primaryKey({
      name: 'segment_rollups_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.segment, t.value, t.stripe],
    }),
  ],
);

/** Compared decisions by (human label, AI label), for decisions that are both strings. */
export const confusionRollups = pgTable(
  'confusion_rollups',
  {
    ...stripe,
    ...cohortColumns,
    human: text('human').notNull(),
    ai: text('ai').notNull(),
    count: count('count'),
  },
  (t) => [
    primaryKey({
      name: 'confusion_rollups_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.human, t.ai, t.stripe],
    }),
  ],
);

/**
 * AI calls failed for good on decisions a human labelled, by that label (migration 0009): the
 * requests of a label the AI never answered, counted against its recall under `aiFailures: disagree`.
 */
export const labelFailureRollups = pgTable(
  'label_failure_rollups',
  {
    ...stripe,
    ...cohortColumns,
    human: text('human').notNull(),
    count: count('count'),
  },
  (t) => [
    primaryKey({
      name: 'label_failure_rollups_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.human, t.stripe],
    }),
  ],
);

/**
 * Answered AI calls by latency bucket: bucket b holds latencies in [1.02^b − 1, 1.02^(b+1) − 1) ms,
 * so a percentile read from it is within 1% of 1 ms + the exact one (see latency-histogram.ts).
 * A cohort's histogram is one row per stripe (migration 0022): the buckets it has counted, in
 * increasing order, and their counts, so a read takes at most ROLLUP_STRIPES rows a cohort however
 * widely its latencies spread. A stripe's count may be negative (a decision counted in one stripe
 * and taken back in another); a bucket whose count comes to 0 is dropped from its row.
 */
export const latencyHistograms = pgTable(
  'latency_histograms',
  {
    ...stripe,
    ...cohortColumns,
    buckets: integer('buckets').array().notNull(),
    counts: bigint('counts', { mode: 'number' }).array().notNull(),
  },
  (t) => [
    primaryKey({
      name: 'latency_histograms_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.stripe],
    }),
  ],
);

/**
 * The same counts as `latency_histograms`, a row per bucket: read by releases before migration 0022
 * and still written for them while a rolling upgrade runs both; to be dropped by the release after.
 */
export const latencyRollups = pgTable(
  'latency_rollups',
  {
    ...stripe,
    ...cohortColumns,
    bucket: integer('bucket').notNull(),
    count: count('count'),
  },
  (t) => [
    primaryKey({
      name: 'latency_rollups_pk',
      columns: [t.useCase, t.stageVersion, t.stage, t.aiConfig, t.modelVersion, t.bucket, t.stripe],
    }),
  ],
);

/**
 * Decisions per use case, stage and UTC hour of arrival (migration 0006), for the time series: the
 * same counts and sums as a cohort, by the hour the decision was received. `hour` counts hours since
 * 1970-01-01T00:00Z, so a UTC day is 24 of them.
 */
export const hourlyRollups = pgTable(
  'hourly_rollups',
  {
    ...stripe,
    useCase: text('use_case').notNull(),
    hour: integer('hour').notNull(),
    stage: text('stage').notNull(),
    decisions: count('decisions'),
    compared: count('compared'),
    scoreSum: sum('score_sum'),
    aiAttempted: count('ai_attempted'),
    aiErrors: count('ai_errors'),
    aiCost: sum('ai_cost'),
  },
  (t) => [primaryKey({ name: 'hourly_rollups_pk', columns: [t.useCase, t.hour, t.stage, t.stripe] })],
);

/**
 * Answered AI calls per hour of `hourly_rollups` by a coarse latency bucket: bucket b holds
 * latencies in [1.1^b − 1, 1.1^(b+1) − 1) ms, so an hour holds a few dozen rows at most and a
 * percentile read from it is within 5% of 1 ms + the exact one (see latency-histogram.ts).
 */
export const hourlyLatencyRollups = pgTable(
  'hourly_latency_rollups',
  {
    ...stripe,
    useCase: text('use_case').notNull(),
    hour: integer('hour').notNull(),
    stage: text('stage').notNull(),
    bucket: integer('bucket').notNull(),
    count: count('count'),
  },
  (t) => [
    primaryKey({
      name: 'hourly_latency_rollups_pk',
      columns: [t.useCase, t.hour, t.stage, t.bucket, t.stripe],
    }),
  ],
);

/** AI spend per use case and UTC day of the call (`ai.maxDailyCost`). */
export const dailyAiSpend = pgTable(
  'daily_ai_spend',
  {
    ...stripe,
    useCase: text('use_case').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    cost: sum('cost'),
  },
  (t) => [primaryKey({ name: 'daily_ai_spend_pk', columns: [t.useCase, t.day, t.stripe] })],
);

/**
 * The judge's calibration against people (migration 0018): per plan version and judge version,
 * the rated decisions of the calibration sample and the 2×2 of judge (acceptable: score ≥ 0.5)
 * against people. Kept by triggers on `judge_ratings` and `judge_calls`; one row per key (ratings
 * are few, so writers need no stripes).
 */
export const judgeCalibrationRollups = pgTable(
  'judge_calibration_rollups',
  {
    useCase: text('use_case').notNull(),
    planVersion: integer('plan_version').notNull(),
    /** As the judge reported it ('' when it reported none). */
    judgeVersion: text('judge_version').notNull(),
    rated: count('rated'),
    agreed: count('agreed'),
    /** Judge acceptable, people acceptable. */
    bothAcceptable: count('both_acceptable'),
    /** Judge acceptable, people not. */
    judgeOnly: count('judge_only'),
    /** People acceptable, judge not. */
    peopleOnly: count('people_only'),
    /** Neither found it acceptable. */
    neither: count('neither'),
  },
  (t) => [
    primaryKey({
      name: 'judge_calibration_rollups_pk',
      columns: [t.useCase, t.planVersion, t.judgeVersion],
    }),
  ],
);
