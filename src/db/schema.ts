import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const useCases = pgTable('use_cases', {
  id: text('id').primaryKey(),
  /** shadow | human-reviewed | limited-autonomous | disabled */
  stage: text('stage').notNull(),
  /** Bumped by every stage change: optimistic concurrency for transitions. */
  stageVersion: integer('stage_version').notNull().default(1),
  stageEnteredAt: at('stage_entered_at').notNull().defaultNow(),
  /** Where `enable` returns to after `disable`. */
  stageBeforeDisable: text('stage_before_disable'),
  /**
   * The AI's model version the current stage was earned with (the gate's cohort at the move,
   * carried over by moves without evidence). Only an answer from this version may decide alone in
   * limited-autonomous; null: not pinned yet (the AI reported none, or a forced move had no
   * evidence: the next tick pins the version the stage answers with).
   */
  earnedModelVersion: text('earned_model_version'),
  planVersion: integer('plan_version').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export const planVersions = pgTable(
  'plan_versions',
  {
    useCase: text('use_case')
      .notNull()
      .references(() => useCases.id),
    version: integer('version').notNull(),
    /** The applied text, verbatim (YAML or JSON). */
    text: text('text').notNull(),
    textHash: text('text_hash').notNull(),
    format: text('format').notNull(),
    /** The validated plan with defaults filled in. */
    plan: jsonb('plan').notNull(),
    /** Hash of what is measured; evidence restarts when it changes. */
    aiConfig: text('ai_config').notNull(),
    appliedBy: text('applied_by').notNull(),
    appliedAt: at('applied_at').notNull().defaultNow(),
    /** Who approved it (README "Change control"): null when it needed no approval. */
    approvedBy: text('approved_by').array(),
  },
  (t) => [primaryKey({ columns: [t.useCase, t.version] })],
);

/**
 * Partitioned by `received_month` (migration 0019, README "Decisions by month"): one partition a
 * month, made ahead by `shadowgate_decision_partitions`, and `decisions_legacy` holding what was
 * stored before. The id carries its month (`id >> 40`), so a statement naming a decision by id
 * names its partition too (`monthOfId`). Uniqueness of (use_case, request_id) is each partition's
 * own index: PostgreSQL allows no unique index across partitions without the partition key.
 */
export const decisions = pgTable(
  'decisions',
  {
    id: bigint('id', { mode: 'number' }).notNull().default(sql`shadowgate_decision_id()`),
    /** Months since January 2000 (UTC) when the row was stored; 0 for rows stored before 0019. */
    receivedMonth: integer('received_month').notNull().default(sql`shadowgate_month(now())`),
    useCase: text('use_case').notNull(),
    requestId: text('request_id').notNull(),
    /** sha256 of the mirrored payload as sent: a retry must match it, else 409. */
    payloadHash: text('payload_hash').notNull(),
    /** The input in the plan's `storeInput` form; null once purged after `retentionDays`. */
    input: jsonb('input'),
    /**
     * The raw input while its AI call is owed and `input` is not the raw input; cleared by the
     * statement that records the AI's answer or final failure. A claim reads
     * `coalesce(pending_input, input)`.
     */
    pendingInput: jsonb('pending_input'),
    context: jsonb('context').notNull().default({}),
    stage: text('stage').notNull(),
    /** The use case's stage version when the decision was received: the gate counts only the current one. */
    stageVersion: integer('stage_version').notNull(),
    planVersion: integer('plan_version').notNull(),
    aiConfig: text('ai_config').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),

    humanDecision: jsonb('human_decision'),
    humanDecidedBy: text('human_decided_by'),
    humanHandlingMs: integer('human_handling_ms'),
    humanAt: at('human_at'),

    /** none (no AI call owed) | owed | done | error */
    aiState: text('ai_state').notNull(),
    /** A worker holds the call until then; an expired lease makes it claimable again. */
    aiLeaseUntil: at('ai_lease_until'),
    aiAttempts: integer('ai_attempts').notNull().default(0),
    aiDecision: jsonb('ai_decision'),
    aiConfidence: doublePrecision('ai_confidence'),
    aiModelVersion: text('ai_model_version'),
    aiLatencyMs: doublePrecision('ai_latency_ms'),
    aiInputTokens: integer('ai_input_tokens'),
    aiOutputTokens: integer('ai_output_tokens'),
    aiCost: doublePrecision('ai_cost'),
    aiError: text('ai_error'),
    aiAt: at('ai_at'),

    /** Comparison score in [0, 1]; null until both sides exist. */
    score: doublePrecision('score'),
    comparedAt: at('compared_at'),
    /**
     * limited-autonomous suggestions: where the request went (`autonomous`, or to a person:
     * `audit`, `boundary`, `confidence`, `model`, `ai-failure`), as the suggestion answered it.
     * Null elsewhere. The escalation rate of the drift measures (migration 0011).
     */
    route: text('route'),
  },
  (t) => [
    // The first and last decision of a rollup's cohort, read by index probes.
    index('decisions_cohort').on(
      t.useCase,
      t.stageVersion,
      t.stage,
      t.aiConfig,
      t.aiModelVersion,
      t.receivedAt,
    ),
    index('decisions_ai_owed').on(t.id).where(sql`ai_state = 'owed'`),
    index('decisions_uncompared')
      .on(t.id)
      .where(sql`score is null and ai_state = 'done' and human_decision is not null`),
    index('decisions_compared').on(t.useCase, t.stage, t.comparedAt),
    // The trailing windows guards judge: the last N compared, the last N AI calls, of a stage
    // version; what they count is in the index too, so a window is read from it alone.
    index('decisions_guard_window_compared')
      .on(t.useCase, t.stageVersion, t.comparedAt, t.score)
      .where(sql`score is not null`),
    // Calls in order of the requests' arrival, not of the calls' end: a failure retried after a
    // burst would otherwise crowd the window with the burst's failures.
    index('decisions_guard_window_calls')
      .on(t.useCase, t.stageVersion, t.receivedAt, t.aiState)
      .where(sql`ai_state in ('done', 'error')`),
    // The trailing window of one human label (a `labelRecallBelow` guard), read from the index alone.
    // Labels are at most 200 characters; a free-text decision (thousands) would not fit a btree row.
    index('decisions_guard_window_label')
      .on(t.useCase, t.stageVersion, sql`(human_decision #>> '{}')`, t.comparedAt, t.score)
      .where(
        sql`score is not null and jsonb_typeof(human_decision) = 'string' and length(human_decision #>> '{}') <= 200`,
      ),
    // What the retention purge has left to clear: an input, or an AI error's text beyond its kind.
    index('decisions_retention')
      .on(t.useCase, t.receivedAt)
      .where(sql`input is not null or ai_error like '%:%'`),
  ],
);

/**
 * The distributions the drift measures compare (README "Drift"), counted per hour of the request
 * by the statement-level triggers on decisions (migration 0011), as the rollups are: a window is
 * the sum of its hours, read from a bounded number of rows whatever the decision count. `kind` is
 * `segment` (a segment's value), `numeric` (a `drift.numeric` context field's bucket) or
 * `built-in` (`humanLabel`, `aiLabel`, `aiConfidence` and `aiLatency` buckets, `override`:
 * `kept` or `changed` in shadow and human-reviewed, `route`: the `decisions.route` values,
 * `decisions`: `all`). Striped like the rollups.
 */
export const driftCounts = pgTable(
  'drift_counts',
  {
    stripe: smallint('stripe').notNull(),
    useCase: text('use_case').notNull(),
    stageVersion: integer('stage_version').notNull(),
    /** Hours since the epoch (UTC) of `received_at`. */
    hour: integer('hour').notNull(),
    kind: text('kind').notNull(),
    field: text('field').notNull(),
    value: text('value').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({
      name: 'drift_counts_pk',
      columns: [t.useCase, t.stageVersion, t.hour, t.kind, t.field, t.value, t.stripe],
    }),
    // The decisions per hour that size a window of N decisions, read from the index alone.
    index('drift_counts_decisions')
      .on(t.useCase, t.stageVersion, t.hour, t.count)
      .where(sql`kind = 'built-in' and field = 'decisions'`),
  ],
);

/**
 * A stage visit's drift reference: the distributions of the evidence that earned it (taken at the
 * stage's entry or a challenger's swap from the window before), or of a window a release key chose
 * (`POST …/drift/baseline`). The newest one per stage version is in force.
 */
export const driftReferences = pgTable(
  'drift_references',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    useCase: text('use_case')
      .notNull()
      .references(() => useCases.id),
    stageVersion: integer('stage_version').notNull(),
    stage: text('stage').notNull(),
    takenAt: at('taken_at').notNull().defaultNow(),
    takenBy: text('taken_by').notNull(),
    reason: text('reason').notNull(),
    /** `{kind: {field: {value: count}}}`, the same cells as drift_counts (see drift-store.ts). */
    counts: jsonb('counts').notNull(),
    /** Where the counts came from: the stage version and the hours summed. */
    source: jsonb('source').notNull(),
    /** When a drift guard tripped against this reference: it trips once until re-baselined. */
    trippedAt: at('tripped_at'),
  },
  (t) => [index('drift_references_current').on(t.useCase, t.stageVersion, t.id)],
);

/**
 * The gate's evidence as the tick saw it, thinned (src/promotion/journey-points.ts): the cohort's
 * agreement and sequential lower bound against the gate's threshold, and the guard window's
 * agreement against its guard, at the controller's time, so "agreement over the journey" reads
 * on the same clock as the transitions. `seq` numbers a stage visit's points (bounded per visit).
 */
export const journeyPoints = pgTable(
  'journey_points',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    useCase: text('use_case')
      .notNull()
      .references(() => useCases.id),
    stageVersion: integer('stage_version').notNull(),
    seq: integer('seq').notNull(),
    at: at('at').notNull(),
    stage: text('stage').notNull(),
    planVersion: integer('plan_version').notNull(),
    samples: integer('samples').notNull(),
    agreement: doublePrecision('agreement'),
    lowerBound: doublePrecision('lower_bound'),
    required: doublePrecision('required'),
    targetStage: text('target_stage'),
    verdict: text('verdict').notNull(),
    guardSamples: integer('guard_samples'),
    guardAgreement: doublePrecision('guard_agreement'),
    guardThreshold: doublePrecision('guard_threshold'),
  },
  (t) => [uniqueIndex('journey_points_once').on(t.useCase, t.stageVersion, t.seq)],
);

export const stageTransitions = pgTable(
  'stage_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    useCase: text('use_case')
      .notNull()
      .references(() => useCases.id),
    fromStage: text('from_stage'),
    toStage: text('to_stage').notNull(),
    /** The stage version this transition produced: unique, so a transition happens once. */
    stageVersion: integer('stage_version').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    forced: boolean('forced').notNull().default(false),
    planVersion: integer('plan_version').notNull(),
    modelVersion: text('model_version'),
    snapshot: jsonb('snapshot').notNull().default({}),
    at: at('at').notNull().defaultNow(),
    /** Who approved a change held back by change control; null when it needed no approval. */
    approvedBy: text('approved_by').array(),
  },
  (t) => [uniqueIndex('stage_transitions_once').on(t.useCase, t.stageVersion)],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** null: every use case. */
    useCases: jsonb('use_cases').$type<string[] | null>(),
    /** sha256 of the secret; the secret itself is shown once and never stored. */
    secretHash: text('secret_hash').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    lastUsedAt: at('last_used_at'),
    revokedAt: at('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_secret_hash').on(t.secretHash)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    useCase: text('use_case'),
    details: jsonb('details').notNull().default({}),
  },
  (t) => [
    index('audit_events_use_case').on(t.useCase, t.at),
    // The last event of a kind of a use case, one probe each (the tick's notices, migration 0020).
    index('audit_events_use_case_action').on(t.useCase, t.action, t.id),
  ],
);

/** One row per tick slot: the process that inserts it does that tick's work. */
export const engineTicks = pgTable('engine_ticks', {
  slot: bigint('slot', { mode: 'number' }).primaryKey(),
  owner: text('owner').notNull(),
  at: at('at').notNull().defaultNow(),
});

/**
 * Challengers (issue 13): a new AI configuration applied while the use case holds authority
 * (human-reviewed or limited-autonomous). The champion, the configuration that earned the stage,
 * keeps serving; the challenger is asked the same requests off the live path and judged against the
 * humans and against the champion. At most one is active per use case.
 */
export const challengers = pgTable(
  'challengers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    useCase: text('use_case')
      .notNull()
      .references(() => useCases.id),
    /** The plan version whose AI configuration is the challenger. */
    planVersion: integer('plan_version').notNull(),
    aiConfig: text('ai_config').notNull(),
    /** The plan version whose AI configuration serves meanwhile (the champion). */
    championPlanVersion: integer('champion_plan_version').notNull(),
    championAiConfig: text('champion_ai_config').notNull(),
    /** active | promoted | discarded | replaced | ended (the use case left the stages with authority) */
    state: text('state').notNull().default('active'),
    startedAt: at('started_at').notNull().defaultNow(),
    startedBy: text('started_by').notNull(),
    endedAt: at('ended_at'),
    endedBy: text('ended_by'),
    endReason: text('end_reason'),
    /** The paired confidence sequence (statistics/paired-difference.ts), folded by the tick. */
    paired: jsonb('paired'),
    /** When `challenger.eligible` was told, so it is told once. */
    eligibleNotifiedAt: at('eligible_notified_at'),
  },
  (t) => [uniqueIndex('challengers_one_active').on(t.useCase).where(sql`state = 'active'`)],
);

/**
 * The challenger's AI calls: one per sampled decision received while it is active, owed in
 * PostgreSQL like a shadow call (claimed under a lease, swept back into the queue when lost).
 */
export const challengerCalls = pgTable(
  'challenger_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    challengerId: bigint('challenger_id', { mode: 'number' })
      .notNull()
      .references(() => challengers.id),
    useCase: text('use_case').notNull(),
    requestId: text('request_id').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
    /** The raw input while the call is owed; cleared with its outcome. */
    pendingInput: jsonb('pending_input'),
    /** owed | done | error | cancelled (its challenger ended first) */
    state: text('state').notNull().default('owed'),
    leaseUntil: at('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    decision: jsonb('decision'),
    confidence: doublePrecision('confidence'),
    modelVersion: text('model_version'),
    latencyMs: doublePrecision('latency_ms'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cost: doublePrecision('cost'),
    error: text('error'),
    aiAt: at('ai_at'),
    /** Against the human decision of the same request, once both exist. */
    score: doublePrecision('score'),
    /** Folded into the challenger's paired sequence (with the champion's score of the same request). */
    paired: boolean('paired').notNull().default(false),
  },
  (t) => [
    uniqueIndex('challenger_calls_once').on(t.challengerId, t.requestId),
    index('challenger_calls_owed').on(t.id).where(sql`state = 'owed'`),
    index('challenger_calls_unscored').on(t.challengerId, t.id).where(sql`state = 'done' and score is null`),
    index('challenger_calls_unpaired').on(t.challengerId, t.id).where(sql`score is not null and not paired`),
  ],
);

/**
 * Judge calls (comparator type `judge`, issue 17): one per decision whose plan version scores with
 * a judge, owed in PostgreSQL like a shadow call (claimed under a lease, retried, swept back when
 * lost). The decision's score stays null (pending) until the judge answers; a judge that fails for
 * good leaves it pending, never 0 or 1. A sampled share (`calibration`) is offered to people for a
 * rating, against which the judge itself is measured.
 */
export const judgeCalls = pgTable(
  'judge_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** decisions.id; one judge call per decision (a new judge means a new plan version). */
    decisionId: bigint('decision_id', { mode: 'number' }).notNull(),
    useCase: text('use_case').notNull(),
    requestId: text('request_id').notNull(),
    /** The plan version whose comparator is the judge (the decision's). */
    planVersion: integer('plan_version').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    /** owed | done | error (failed for good: the comparison stays pending) */
    state: text('state').notNull().default('owed'),
    leaseUntil: at('lease_until'),
    attempts: integer('attempts').notNull().default(0),
    /** The judge's score in [0, 1], also written to decisions.score. */
    score: doublePrecision('score'),
    verdict: text('verdict'),
    rationale: text('rationale'),
    /** What the judge says it is (its answer's judgeVersion), else the configuration's hash. */
    judgeVersion: text('judge_version'),
    latencyMs: doublePrecision('latency_ms'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cost: doublePrecision('cost'),
    error: text('error'),
    judgedAt: at('judged_at'),
    /** Sampled (comparator.calibrationRate) to be offered to people for a rating. */
    calibration: boolean('calibration').notNull().default(false),
  },
  (t) => [
    uniqueIndex('judge_calls_once').on(t.decisionId),
    index('judge_calls_owed').on(t.id).where(sql`state = 'owed'`),
    index('judge_calls_use_case').on(t.useCase, t.requestId),
    /** The judge version of a plan version's newest judged decisions (migration 0018: the gate's calibration). */
    index('judge_calls_judged').on(t.useCase, t.planVersion, t.judgedAt).where(sql`state = 'done'`),
  ],
);

/**
 * People's ratings of decisions a judge scored (README "Is the judge right?"): one per decision,
 * the first stands (a repeat with the same answer is a no-op, another answer is refused). Migration
 * 0018's triggers fold a rating into `judge_calibration_rollups` once both it and a `done` judge
 * call of the calibration sample exist, whichever arrives last, and record here what it was folded
 * with. No foreign key: a rating is kept when its decision is purged after `retentionDays`.
 */
export const judgeRatings = pgTable(
  'judge_ratings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** decisions.id */
    decisionId: bigint('decision_id', { mode: 'number' }).notNull(),
    useCase: text('use_case').notNull(),
    requestId: text('request_id').notNull(),
    /** The decision's plan version. */
    planVersion: integer('plan_version').notNull(),
    /** Whether the people found the AI's output acceptable. */
    acceptable: boolean('acceptable').notNull(),
    /** Who rated (one line, at most 200 characters, the plan's redaction applied). */
    ratedBy: text('rated_by').notNull(),
    ratedAt: at('rated_at').notNull().defaultNow(),
    /** Set once, by the fold: the judge version and score the rating was compared with. */
    foldedAt: at('folded_at'),
    judgeVersion: text('judge_version'),
    judgeScore: doublePrecision('judge_score'),
  },
  (t) => [uniqueIndex('judge_ratings_once').on(t.decisionId)],
);

/**
 * Changes held back for approval (README "Change control"): a plan version that widens the AI's
 * authority, or any plan or manual stage change of a use case whose plan asks for approvals. A
 * change is applied once, by the approval that completes it, and only on the plan and stage
 * versions it was requested on (its base).
 */
export const pendingChanges = pgTable(
  'pending_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** No foreign key: the first plan of a use case is held before the use case exists. */
    useCase: text('use_case').notNull(),
    /** plan | promote | rollback | enable | challenger-promote */
    kind: text('kind').notNull(),
    /** plan: `{text, format, textHash}`; a stage change: `{reason, force?, to?}`. */
    payload: jsonb('payload').notNull(),
    /** null: the use case did not exist when the change was requested. */
    basePlanVersion: integer('base_plan_version'),
    baseStageVersion: integer('base_stage_version'),
    /** The actor as transitions and the audit log name it (`key:<name>`, `bootstrap-admin`). */
    requestedBy: text('requested_by').notNull(),
    /** Who asked, as approvals are told apart: a key id, or `bootstrap:<name>`. */
    requestedKey: text('requested_key').notNull(),
    /** Why it is held: the widening changes, and/or `{rule: 'change-control', approvals: N}`. */
    rules: jsonb('rules').notNull().default([]),
    approvalsRequired: integer('approvals_required').notNull(),
    /** `[{by, key, at, reason}]`, in the order given. */
    approvals: jsonb('approvals').notNull().default([]),
    /** pending | applying | applied | rejected | stale | expired | failed */
    state: text('state').notNull().default('pending'),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
    decidedAt: at('decided_at'),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
    /** What applying it did (plan version, transition), or why it could not be applied. */
    result: jsonb('result'),
  },
  (t) => [index('pending_changes_use_case_state').on(t.useCase, t.state)],
);
