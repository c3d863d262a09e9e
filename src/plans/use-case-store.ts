import { and, asc, count, desc, eq, ne, sql } from 'drizzle-orm';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database } from '../db/database.js';
import { auditEvents, challengers, planVersions, stageTransitions, useCases } from '../db/schema.js';
import { cancelOwedCalls } from '../db/challenger-call-cancel.js';
import { aiConfigChanges } from './ai-config-key.js';
import type { Mode, Plan } from './plan-schema.js';

/** A use case as the rest of the controller sees it: its stage and its current plan. */
export interface UseCase {
  id: string;
  stage: Mode;
  stageVersion: number;
  stageEnteredAt: Date;
  stageBeforeDisable: Mode | null;
  /** The model version the stage was earned with; null: not pinned (see schema.ts). */
  earnedModelVersion: string | null;
  planVersion: number;
  plan: Plan;
  planHash: string;
  /** Who applied the current plan version, and who approved it (null: it needed no approval). */
  planAppliedBy: string;
  planApprovedBy: string[] | null;
  /** The AI configuration of the current plan version (the challenger's, while one is active). */
  aiConfig: string;
  /**
   * The AI configuration that answers: suggestions and shadow calls are made with it, decisions
   * are stored under it and the gate judges it. The current plan's, unless a challenger is
   * active: then the champion's.
   */
  serving: { planVersion: number; aiConfig: string };
  challenger: ActiveChallenger | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A new AI configuration judged beside the one that earned the stage (README "Champion and challenger"). */
export interface ActiveChallenger {
  id: number;
  planVersion: number;
  aiConfig: string;
  startedAt: Date;
  startedBy: string;
}

/** The stages in which an AI configuration has authority, so a new one must earn it as a challenger. */
export function holdsAuthority(stage: Mode, stageBeforeDisable: Mode | null): boolean {
  const effective = stage === 'disabled' ? stageBeforeDisable : stage;
  return effective === 'human-reviewed' || effective === 'limited-autonomous';
}

export interface PlanVersionRecord {
  version: number;
  text: string;
  textHash: string;
  format: string;
  plan: Plan;
  aiConfig: string;
  appliedBy: string;
  appliedAt: Date;
  /** Who approved it (README "Change control"); null when it needed no approval. */
  approvedBy: string[] | null;
}

export interface ApplyPlanInput {
  id: string;
  plan: Plan;
  text: string;
  textHash: string;
  format: 'yaml' | 'json';
  aiConfig: string;
  actor: string;
  /** Why, when a person gave a reason (a challenger discarded through the API). */
  reason?: string;
  /** The keys that approved a change held back for approval (recorded on the version). */
  approvedBy?: string[];
  /**
   * The plan version the change was decided on (null: the use case did not exist): when another
   * one is in force by the time it is applied, nothing changes and the answer is 409 `stale_change`.
   */
  expectedPlanVersion?: number | null;
  /** The same for the stage version (a stage change meanwhile makes the change stale too). */
  expectedStageVersion?: number | null;
}

export interface ApplyPlanResult {
  created: boolean;
  /** True when the text is the one already applied: no new version. */
  unchanged: boolean;
  useCase: UseCase;
  /** What the new version did to the challenger, if anything (audited; told by webhook). */
  challengerEvent: ChallengerEvent | null;
}

export interface ChallengerEvent {
  action: 'challenger.started' | 'challenger.discarded';
  details: Record<string, unknown>;
}

interface CurrentPlan {
  planVersion: number;
  textHash: string;
  plan: unknown;
  aiConfig: string;
  stage: string;
  stageBeforeDisable: string | null;
}

type Tx = Parameters<Parameters<Database['db']['transaction']>[0]>[0];

const useCaseColumns = {
  id: useCases.id,
  stage: useCases.stage,
  stageVersion: useCases.stageVersion,
  stageEnteredAt: useCases.stageEnteredAt,
  stageBeforeDisable: useCases.stageBeforeDisable,
  earnedModelVersion: useCases.earnedModelVersion,
  planVersion: useCases.planVersion,
  createdAt: useCases.createdAt,
  updatedAt: useCases.updatedAt,
  plan: planVersions.plan,
  planHash: planVersions.textHash,
  planAppliedBy: planVersions.appliedBy,
  planApprovedBy: planVersions.approvedBy,
  aiConfig: planVersions.aiConfig,
  challengerId: challengers.id,
  challengerPlanVersion: challengers.planVersion,
  challengerStartedAt: challengers.startedAt,
  challengerStartedBy: challengers.startedBy,
  championPlanVersion: challengers.championPlanVersion,
  championAiConfig: challengers.championAiConfig,
};

const currentPlanVersion = and(
  eq(planVersions.useCase, useCases.id),
  eq(planVersions.version, useCases.planVersion),
);
const activeChallenger = and(eq(challengers.useCase, useCases.id), eq(challengers.state, 'active'));

/** A use case's columns without its plan (listActive keeps the plans it read). */
const { plan: _plan, ...listedColumns } = useCaseColumns;

type UseCaseRow = { [K in keyof typeof useCaseColumns]: unknown };

function toUseCase(row: UseCaseRow): UseCase {
  const {
    challengerId,
    challengerPlanVersion,
    challengerStartedAt,
    challengerStartedBy,
    championPlanVersion,
    championAiConfig,
    ...rest
  } = row;
  const base = rest as unknown as Omit<UseCase, 'serving' | 'challenger'>;
  if (challengerId == null) {
    return { ...base, serving: { planVersion: base.planVersion, aiConfig: base.aiConfig }, challenger: null };
  }
  return {
    ...base,
    serving: { planVersion: championPlanVersion as number, aiConfig: championAiConfig as string },
    challenger: {
      id: Number(challengerId),
      planVersion: challengerPlanVersion as number,
      aiConfig: base.aiConfig,
      startedAt: challengerStartedAt as Date,
      startedBy: challengerStartedBy as string,
    },
  };
}

export class UseCaseStore {
  private readonly maxUseCases: number;
  /** The plans `listActive` handed out last, by use case, with the version and text hash they are of. */
  private activePlans = new Map<string, { key: string; plan: unknown }>();

  /** `maxUseCases`: the deployment's quota (SHADOWGATE_MAX_USE_CASES); unset, no quota. */
  constructor(
    private readonly database: Database,
    options: { maxUseCases?: number } = {},
  ) {
    this.maxUseCases = options.maxUseCases ?? Number.POSITIVE_INFINITY;
  }

  private selectUseCases() {
    return this.database.db
      .select(useCaseColumns)
      .from(useCases)
      .innerJoin(planVersions, currentPlanVersion)
      .leftJoin(challengers, activeChallenger);
  }

  async get(id: string): Promise<UseCase | null> {
    const rows = await this.selectUseCases().where(eq(useCases.id, id));
    return rows[0] ? toUseCase(rows[0]) : null;
  }

  async list(): Promise<UseCase[]> {
    const rows = await this.selectUseCases().orderBy(asc(useCases.id));
    return rows.map(toUseCase);
  }

  /**
   * The use cases not disabled: the ones the tick judges, each tick. A plan version never changes
   * once applied, and its plan is most of what a use case's row weighs, so this process keeps the
   * plan of each use case's current version (frozen, shared by every tick) and reads a plan only
   * when its version is new here.
   */
  async listActive(): Promise<UseCase[]> {
    const rows = await this.database.db
      .select(listedColumns)
      .from(useCases)
      .innerJoin(planVersions, currentPlanVersion)
      .leftJoin(challengers, activeChallenger)
      .where(ne(useCases.stage, 'disabled'))
      .orderBy(asc(useCases.id));
    const keyOf = (r: (typeof rows)[number]) => `${r.planVersion}\u0000${r.planHash}`;
    const missing = rows.filter((r) => this.activePlans.get(r.id)?.key !== keyOf(r));
    const read =
      missing.length === 0
        ? []
        : await this.database.db
            .select({ useCase: planVersions.useCase, plan: planVersions.plan })
            .from(planVersions)
            .where(
              sql`(${planVersions.useCase}, ${planVersions.version}) in (select * from unnest(
                ${sql.param(missing.map((r) => r.id))}::text[], ${sql.param(missing.map((r) => r.planVersion))}::int[]))`,
            );
    const plans = new Map(read.map((r) => [r.useCase, r.plan]));
    const kept = new Map<string, { key: string; plan: unknown }>();
    for (const row of rows) {
      const last = this.activePlans.get(row.id);
      kept.set(
        row.id,
        last?.key === keyOf(row) ? last : { key: keyOf(row), plan: deepFrozen(plans.get(row.id)) },
      );
    }
    // Only the use cases listed now are kept: what is kept is bounded by the use cases.
    this.activePlans = kept;
    return rows.map((row) => toUseCase({ ...row, plan: kept.get(row.id)!.plan }));
  }

  async planVersion(id: string, version: number): Promise<PlanVersionRecord | null> {
    const rows = await this.database.db
      .select()
      .from(planVersions)
      .where(and(eq(planVersions.useCase, id), eq(planVersions.version, version)));
    return (rows[0] as PlanVersionRecord | undefined) ?? null;
  }

  async planVersions(id: string): Promise<PlanVersionRecord[]> {
    const rows = await this.database.db
      .select()
      .from(planVersions)
      .where(eq(planVersions.useCase, id))
      .orderBy(desc(planVersions.version));
    return rows as PlanVersionRecord[];
  }

  /**
   * Applies a plan: the first apply creates the use case in shadow (recorded as a
   * transition); a changed text becomes a new version; the same text changes nothing.
   * A use case is created only within the quota: past it, 409 `quota_exceeded` and nothing changes.
   */
  async applyPlan(input: ApplyPlanInput): Promise<ApplyPlanResult> {
    const outcome = await this.database.db.transaction(async (tx) => {
      let challengerEvent: ChallengerEvent | null = null;
      // Serialises concurrent applies of one use case, including the very first one.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`plan:${input.id}`}))`);
      const [current] = await tx
        .select({
          planVersion: useCases.planVersion,
          textHash: planVersions.textHash,
          plan: planVersions.plan,
          aiConfig: planVersions.aiConfig,
          stage: useCases.stage,
          stageVersion: useCases.stageVersion,
          stageBeforeDisable: useCases.stageBeforeDisable,
        })
        .from(useCases)
        .innerJoin(
          planVersions,
          and(eq(planVersions.useCase, useCases.id), eq(planVersions.version, useCases.planVersion)),
        )
        .where(eq(useCases.id, input.id));
      if (
        (input.expectedPlanVersion !== undefined &&
          (current?.planVersion ?? null) !== input.expectedPlanVersion) ||
        (input.expectedStageVersion !== undefined &&
          (current?.stageVersion ?? null) !== input.expectedStageVersion)
      ) {
        throw staleChange(input.id, input.expectedPlanVersion ?? null, current ?? null);
      }
      if (current && current.textHash === input.textHash)
        return { created: false, unchanged: true, challengerEvent: null };

      const version = (current?.planVersion ?? 0) + 1;
      if (!current) {
        // Creations queue behind one lock (after their use case's), so none can overshoot the quota.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('use-case-quota'))`);
        const [held] = await tx.select({ n: count() }).from(useCases);
        if ((held?.n ?? 0) >= this.maxUseCases) {
          throw new ShadowgateError(
            409,
            'quota_exceeded',
            `use case ${input.id} was not created: this deployment holds ${held?.n} use cases, and SHADOWGATE_MAX_USE_CASES allows ${this.maxUseCases}`,
          );
        }
        await tx.insert(useCases).values({ id: input.id, stage: 'shadow', planVersion: version });
      }
      await tx.insert(planVersions).values({
        useCase: input.id,
        version,
        text: input.text,
        textHash: input.textHash,
        format: input.format,
        plan: input.plan,
        aiConfig: input.aiConfig,
        appliedBy: input.actor,
        approvedBy: input.approvedBy ?? null,
      });
      if (current) {
        await tx
          .update(useCases)
          .set({ planVersion: version, updatedAt: new Date() })
          .where(eq(useCases.id, input.id));
        // Segment rollups count the segments the current plan names (migration 0004).
        if (!sameList((current.plan as Plan).segments, input.plan.segments)) {
          await tx.execute(sql`select rebuild_segment_rollups(${input.id})`);
        }
        challengerEvent = await this.followChallenger(tx, input, version, current as CurrentPlan);
      } else {
        await tx.insert(stageTransitions).values({
          useCase: input.id,
          fromStage: null,
          toStage: 'shadow',
          stageVersion: 1,
          actor: input.actor,
          reason: 'use case created by its first plan',
          planVersion: version,
          approvedBy: input.approvedBy ?? null,
        });
      }
      if (challengerEvent) {
        await tx.insert(auditEvents).values({
          actor: input.actor,
          action: challengerEvent.action,
          useCase: input.id,
          details: challengerEvent.details,
        });
      }
      await tx.insert(auditEvents).values({
        actor: input.actor,
        action: current ? 'plan.update' : 'use-case.create',
        useCase: input.id,
        details: {
          planVersion: version,
          textHash: input.textHash,
          aiConfig: input.aiConfig,
          ...(input.approvedBy ? { approvedBy: input.approvedBy } : {}),
          // Which secret the plan's AI calls carry: a change of it is worth an audit line.
          ...(input.plan.ai.adapter === 'openai-chat' && input.plan.ai.apiKeyEnv
            ? { apiKeyEnv: input.plan.ai.apiKeyEnv }
            : {}),
        },
      });
      return { created: !current, unchanged: false, challengerEvent };
    });
    const useCase = await this.get(input.id);
    if (!useCase) throw new Error(`use case ${input.id} vanished after its plan was applied`);
    return { ...outcome, useCase };
  }

  /**
   * What a new plan version does to the challenger (README "Champion and challenger"): while the
   * use case holds authority, a new AI configuration becomes the challenger (replacing one already
   * there, whose evidence ends) and the one serving stays champion; the champion's own configuration
   * again discards the challenger. Without authority (shadow) the new configuration simply serves.
   */
  private async followChallenger(
    tx: Tx,
    input: ApplyPlanInput,
    version: number,
    current: CurrentPlan,
  ): Promise<ChallengerEvent | null> {
    const [active] = await tx
      .select()
      .from(challengers)
      .where(and(eq(challengers.useCase, input.id), eq(challengers.state, 'active')))
      .for('update');
    const champion = active
      ? { planVersion: active.championPlanVersion, aiConfig: active.championAiConfig }
      : { planVersion: current.planVersion, aiConfig: current.aiConfig };
    const end = async (state: 'replaced' | 'discarded' | 'ended', reason: string) => {
      await tx
        .update(challengers)
        .set({ state, endedAt: sql`now()`, endedBy: input.actor, endReason: reason })
        .where(eq(challengers.id, active!.id));
      await tx.execute(cancelOwedCalls(active!.id));
    };
    if (input.aiConfig === champion.aiConfig) {
      if (!active) return null;
      await end(
        'discarded',
        input.reason ?? `plan version ${version} returns to the champion's AI configuration`,
      );
      return {
        action: 'challenger.discarded',
        details: { challenger: active.id, planVersion: version, reason: 'the champion configuration again' },
      };
    }
    if (active && active.aiConfig === input.aiConfig) {
      // The same challenger configuration under other thresholds: its evidence is kept.
      await tx.update(challengers).set({ planVersion: version }).where(eq(challengers.id, active.id));
      return null;
    }
    if (!holdsAuthority(current.stage as Mode, current.stageBeforeDisable as Mode | null)) {
      if (active) await end('ended', 'the use case holds no authority: the new configuration serves');
      return null;
    }
    if (active) await end('replaced', `replaced by the AI configuration of plan version ${version}`);
    const championPlan = (
      await tx
        .select({ plan: planVersions.plan })
        .from(planVersions)
        .where(and(eq(planVersions.useCase, input.id), eq(planVersions.version, champion.planVersion)))
    )[0]?.plan as Plan | undefined;
    const [started] = await tx
      .insert(challengers)
      .values({
        useCase: input.id,
        planVersion: version,
        aiConfig: input.aiConfig,
        championPlanVersion: champion.planVersion,
        championAiConfig: champion.aiConfig,
        startedBy: input.actor,
      })
      .returning({ id: challengers.id });
    return {
      action: 'challenger.started',
      details: {
        challenger: started!.id,
        planVersion: version,
        aiConfig: input.aiConfig,
        champion,
        changes: championPlan ? aiConfigChanges(championPlan, input.plan) : [],
        ...(active ? { replaced: active.id } : {}),
      },
    };
  }
}

/** A change decided on a plan version that is no longer the one in force (README "Change control"). */
export function staleChange(
  id: string,
  expected: number | null,
  current: { planVersion: number; stageVersion: number } | null,
): ShadowgateError {
  const was = expected === null ? 'before the use case existed' : `on plan version ${expected}`;
  const now = current
    ? `it is at plan version ${current.planVersion} and stage version ${current.stageVersion}`
    : 'the use case does not exist';
  return new ShadowgateError(
    409,
    'stale_change',
    `the plan change to ${id} was requested ${was}, and ${now}: resubmit it against the current version`,
  );
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/** A plan shared by every tick that lists its version: frozen, so no reader can change another's. */
function deepFrozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFrozen(child);
    Object.freeze(value);
  }
  return value;
}
