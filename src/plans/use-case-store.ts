import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database } from '../db/database.js';
import { auditEvents, planVersions, stageTransitions, useCases } from '../db/schema.js';
import type { Mode, Plan } from './plan-schema.js';

/** A use case as the rest of the controller sees it: its stage and its current plan. */
export interface UseCase {
  id: string;
  stage: Mode;
  stageVersion: number;
  stageEnteredAt: Date;
  stageBeforeDisable: Mode | null;
  planVersion: number;
  plan: Plan;
  planHash: string;
  aiConfig: string;
  createdAt: Date;
  updatedAt: Date;
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
}

export interface ApplyPlanInput {
  id: string;
  plan: Plan;
  text: string;
  textHash: string;
  format: 'yaml' | 'json';
  aiConfig: string;
  actor: string;
}

export interface ApplyPlanResult {
  created: boolean;
  /** True when the text is the one already applied: no new version. */
  unchanged: boolean;
  useCase: UseCase;
}

const useCaseColumns = {
  id: useCases.id,
  stage: useCases.stage,
  stageVersion: useCases.stageVersion,
  stageEnteredAt: useCases.stageEnteredAt,
  stageBeforeDisable: useCases.stageBeforeDisable,
  planVersion: useCases.planVersion,
  createdAt: useCases.createdAt,
  updatedAt: useCases.updatedAt,
  plan: planVersions.plan,
  planHash: planVersions.textHash,
  aiConfig: planVersions.aiConfig,
};

type UseCaseRow = { [K in keyof typeof useCaseColumns]: unknown };

function toUseCase(row: UseCaseRow): UseCase {
  return row as unknown as UseCase;
}

export class UseCaseStore {
  private readonly maxUseCases: number;

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
      .innerJoin(
        planVersions,
        and(eq(planVersions.useCase, useCases.id), eq(planVersions.version, useCases.planVersion)),
      );
  }

  async get(id: string): Promise<UseCase | null> {
    const rows = await this.selectUseCases().where(eq(useCases.id, id));
    return rows[0] ? toUseCase(rows[0]) : null;
  }

  async list(): Promise<UseCase[]> {
    const rows = await this.selectUseCases().orderBy(asc(useCases.id));
    return rows.map(toUseCase);
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
      // Serialises concurrent applies of one use case, including the very first one.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`plan:${input.id}`}))`);
      const [current] = await tx
        .select({
          planVersion: useCases.planVersion,
          textHash: planVersions.textHash,
          plan: planVersions.plan,
        })
        .from(useCases)
        .innerJoin(
          planVersions,
          and(eq(planVersions.useCase, useCases.id), eq(planVersions.version, useCases.planVersion)),
        )
        .where(eq(useCases.id, input.id));
      if (current && current.textHash === input.textHash) return { created: false, unchanged: true };

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
      } else {
        await tx.insert(stageTransitions).values({
          useCase: input.id,
          fromStage: null,
          toStage: 'shadow',
          stageVersion: 1,
          actor: input.actor,
          reason: 'use case created by its first plan',
          planVersion: version,
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
          // Which secret the plan's AI calls carry: a change of it is worth an audit line.
          ...(input.plan.ai.adapter === 'openai-chat' && input.plan.ai.apiKeyEnv
            ? { apiKeyEnv: input.plan.ai.apiKeyEnv }
            : {}),
        },
      });
      return { created: !current, unchanged: false };
    });
    const useCase = await this.get(input.id);
    if (!useCase) throw new Error(`use case ${input.id} vanished after its plan was applied`);
    return { ...outcome, useCase };
  }
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
