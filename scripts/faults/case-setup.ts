/**
 * The set-up every fault case shares, so a case file states only its fault: the simulated AI,
 * the pieces a case owns so it may break them (Redis, PostgreSQL, Unleash), one use case's
 * plan, SDK and traffic on a fresh stack, and the final tally.
 */
import type { ShadowgateOptions } from '@shadowgate/sdk';
import type { PlanApplied } from '../../src/client/controller-api.js';
import { type SimulatedAiSystem, startSimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import { startUnleashServer, type TestUnleash } from '../../test/support/unleash-server.js';
import type { ControllerProcess } from './controller-process.js';
import { type CaseContext, type CaseResult, Checks } from './fault-case.js';
import { faultPlan, LABELS, type PlanOptions } from './fault-plans.js';
import { type SdkHandle, type Stack, type StackOptions, startSdk, startStack } from './fault-stack.js';
import { settle } from './ledger.js';
import { type OwnPostgres, startOwnPostgres } from './postgres-cluster.js';
import { jobStates, type OwnRedis, startOwnRedis } from './redis-server.js';
import { type TallyInput, tally } from './tally.js';
import { TrafficDriver } from './traffic.js';

/** What a case collects from its start to its tally. */
export class CaseRun {
  readonly startedAt = Date.now();
  readonly checks = new Checks();
  readonly facts: string[] = [];

  constructor(readonly name: string) {}

  /** The checks every case makes once settled (tally.ts), with this run's checks and facts. */
  async tally(
    stack: Stack,
    parts: Omit<TallyInput, 'name' | 'startedAt' | 'db' | 'admin' | 'checks' | 'facts'>,
  ): Promise<CaseResult> {
    const { result } = await tally({
      name: this.name,
      startedAt: this.startedAt,
      db: stack.db,
      admin: stack.admin,
      checks: this.checks,
      facts: this.facts,
      ...parts,
    });
    return result;
  }
}

/** A simulated AI system agreeing with the reference label 90% of the time, closed when the case ends. */
export async function startSim(
  ctx: CaseContext,
  latencyMs: { min: number; max: number },
): Promise<SimulatedAiSystem> {
  const sim = await startSimulatedAiSystem({ latencyMs, agreement: 0.9 });
  ctx.defer(() => sim.close());
  return sim;
}

/** A redis-server of the case's own: flushing or killing the machine's would hit everyone on it. */
export async function ownRedis(ctx: CaseContext): Promise<OwnRedis> {
  const redis = await startOwnRedis();
  ctx.defer(() => redis.close());
  return redis;
}

/** A cluster of the case's own: crashing the machine's PostgreSQL would hit everyone on it. */
export async function ownPostgres(ctx: CaseContext): Promise<OwnPostgres> {
  const postgres = await startOwnPostgres();
  ctx.defer(() => postgres.destroy());
  return postgres;
}

export async function ownUnleash(ctx: CaseContext): Promise<TestUnleash> {
  const unleash = await startUnleashServer();
  ctx.defer(() => unleash.close());
  return unleash;
}

/**
 * Applies a plan as the stack's admin. One held for approval (an automatic gate widens the AI's
 * authority: README "Change control") is approved by a release key of the case's own.
 */
export async function applyPlanApproved(
  stack: Stack,
  useCase: string,
  plan: string | object,
): Promise<PlanApplied> {
  const put = (await stack.admin.applyPlan(useCase, plan)) as PlanApplied & {
    pending?: true;
    change?: { id: number };
  };
  if (!put.pending || !put.change) return put;
  const { id } = put.change;
  const release = stack.admin.withKey(await stack.admin.createKey(`faults-release-${id}`, 'release'));
  const approved = await release.postJson<{ applied: PlanApplied }>(`/v1/changes/${id}/approve`, {
    reason: 'the fault case approves its own plan',
  });
  return approved.applied;
}

export interface LaneOptions {
  /** The stack's label also prefixes the traffic's request ids. */
  stack: StackOptions;
  useCase: string;
  plan?: PlanOptions;
  /** Decisions per second once the traffic starts. */
  perSecond: number;
  sdk?: Partial<ShadowgateOptions>;
}

/** One use case on a fresh stack, served by its first controller through one SDK. */
export interface Lane {
  stack: Stack;
  controller: ControllerProcess;
  useCase: string;
  sim: SimulatedAiSystem;
  handle: SdkHandle;
  /** Not started: the case starts it when its fault is ready. */
  traffic: TrafficDriver;
  /** What the SDK's ready() answered: false when it got no flags in time. */
  ready: boolean;
}

export async function startLane(
  ctx: CaseContext,
  sim: SimulatedAiSystem,
  options: LaneOptions,
): Promise<Lane> {
  const stack = await startStack(ctx, options.stack);
  const controller = stack.controllers[0]!;
  const { useCase } = options;
  await applyPlanApproved(stack, useCase, faultPlan(useCase, sim.url, options.plan));
  const handle = startSdk(ctx, controller.url, stack.ingestKey, options.sdk);
  const ready = await handle.sdk.ready();
  const traffic = new TrafficDriver({
    lanes: [{ sdk: handle.sdk, useCase }],
    perSecond: options.perSecond,
    idPrefix: options.stack.label,
    labels: LABELS,
    random: ctx.random.next,
  });
  return { stack, controller, useCase, sim, handle, traffic, ready };
}

/** Waits until the lane's SDK has sent everything and nothing is owed; the ms it took. */
export function settleLane(lane: Lane, timeoutMs: number): Promise<number> {
  const { stack, useCase } = lane;
  return settle([lane.handle.sdk], stack.db.sql, [useCase], timeoutMs, (ids) =>
    jobStates(stack.redisUrl, stack.queuePrefix, `ai-${useCase}`, ids),
  );
}

export function tallyLane(
  run: CaseRun,
  lane: Lane,
  rules: Pick<TallyInput, 'repeatsAllowed' | 'everyDecisionOwesACall'>,
): Promise<CaseResult> {
  return run.tally(lane.stack, {
    traffic: lane.traffic,
    useCases: [lane.useCase],
    sims: [lane.sim],
    sdks: [lane.handle],
    ...rules,
  });
}
