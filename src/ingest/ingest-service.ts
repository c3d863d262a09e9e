import type { Logger } from 'pino';
import type { ComparisonRecorder } from '../shadow/comparison-recorder.js';
import type { IngestResult } from '@shadowgate/sdk/wire';
import type { HumanSide, MirroredDecision } from '../contracts/decision-contracts.js';
import { badRequest, conflict, forbidden, notFound, type ProblemDetail } from '../contracts/errors.js';
import { listProblems } from '../contracts/validation-problems.js';
import { isSampled } from '../contracts/sampling.js';
import { inScope, type Principal } from '../keys/roles.js';
import { checkDecision } from '../comparison/decision-fit.js';
import { storedForms, storedText } from '../privacy/input-policy.js';
import type { NewDecision } from '../db/decision-row.js';
import { withinDeadline } from '../db/database-deadline.js';
import { askChallenger, challengerQueueKey } from '../shadow/challenger-sampling.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import type { ShadowQueue } from '../shadow/shadow-queue.js';
import { CONFLICT_PROBLEM, ConflictingDecisions, type DecisionStore } from './decision-store.js';
import { payloadHashes } from './payload-hash.js';

/** The default of `IngestDeps.timeoutMs` (SHADOWGATE_DATABASE_WAIT_MS). */
export const INGEST_TIMEOUT_MS = 5_000;

export interface IngestDeps {
  useCases: UseCaseStore;
  decisions: DecisionStore;
  queue: ShadowQueue;
  comparisons: ComparisonRecorder;
  logger: Logger;
  /**
   * How long a request waits for the database before it answers 503 (default 5 s, below the
   * SDK's 10 s request timeout so the SDK hears why and resends).
   */
  timeoutMs?: number;
  /** Told, per use case, how many decisions were newly stored and how many were retries (metrics). */
  onIngested?: (useCase: string, outcome: 'accepted' | 'duplicate', count: number) => void;
}

/**
 * Takes mirrored decisions in: checks them against their use cases' plans, stores
 * them idempotently, and owes an AI call for each one mirrored in shadow.
 */
export class IngestService {
  constructor(private readonly deps: IngestDeps) {}

  /**
   * `paths[i]` is the prefix under which item i's problems are reported (`decisions[3]`). Storing
   * waits for the database at most `timeoutMs`; enqueuing is best effort and bounded by the
   * queue's own command timeout (a silent Redis must not hold ingest: the sweep re-enqueues).
   */
  async ingest(items: MirroredDecision[], principal: Principal, paths: string[]): Promise<IngestResult> {
    const { inserted, duplicates, completed } = await withinDeadline(
      () => this.store(items, principal, paths),
      this.timeoutMs,
      'ingest',
    );
    // Requests stored before without their human decision, completed by this one: compared now, as
    // a late human decision is (a failed comparison is repaired by the sweep).
    for (const row of completed) {
      await this.deps.comparisons
        .compareIfComplete(row)
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { err: error, decision: row.id },
            'comparison failed; the sweep will repair it',
          ),
        );
    }
    const owed = inserted.filter((r) => r.aiState === 'owed');
    const jobs = owed.map((r) => ({ useCase: r.useCase, requestId: r.requestId }));
    for (const r of inserted) {
      if (r.challengerInput) jobs.push({ useCase: challengerQueueKey(r.useCase), requestId: r.requestId });
    }
    if (jobs.length > 0) {
      // Enqueuing is best effort: PostgreSQL holds what is owed and the sweep re-enqueues it.
      await this.deps.queue
        .enqueue(jobs)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, count: owed.length }, 'enqueue failed; the sweep will retry'),
        );
    }
    const accepted = [...inserted, ...completed];
    if (this.deps.onIngested) this.countIngested(items, accepted, this.deps.onIngested);
    return { accepted: accepted.length, duplicates, aiCallsOwed: owed.length };
  }

  private get timeoutMs(): number {
    return this.deps.timeoutMs ?? INGEST_TIMEOUT_MS;
  }

  /** Checks the items against their plans and stores them: what was newly inserted, and how many were not. */
  private async store(items: MirroredDecision[], principal: Principal, paths: string[]) {
    const useCases = await this.loadUseCases(items, principal, paths);
    const problems: ProblemDetail[] = [];
    const repeats: ProblemDetail[] = [];
    const rows: NewDecision[] = [];
    const seen = new Map<string, { hash: string; path: string }>();
    let batchDuplicates = 0;

    items.forEach((item, i) => {
      const useCase = useCases.get(item.useCase)!;
      if (item.human) {
        const misfit = checkDecision(useCase.plan.decision, item.human.decision);
        if (misfit) problems.push({ path: join(paths[i], 'human.decision'), problem: misfit });
      }
      const hashes = payloadHashes(item);
      const hash = hashes.full;
      const key = `${item.useCase}\u0000${item.requestId}`;
      const earlier = seen.get(key);
      if (earlier) {
        if (earlier.hash !== hash) {
          repeats.push({
            path: join(paths[i], 'requestId'),
            problem: `repeats ${earlier.path} with a different payload`,
          });
        }
        batchDuplicates++;
        return;
      }
      seen.set(key, { hash, path: paths[i] ?? '' });
      rows.push(this.toRow(item, useCase, hashes));
    });
    if (repeats.length > 0) {
      throw conflict(
        'the request repeats a requestId with a different payload; nothing was stored',
        listProblems(repeats),
      );
    }
    if (problems.length > 0)
      throw badRequest('some decisions do not fit their plan; nothing was stored', listProblems(problems));

    const { inserted, duplicates, completed } = await this.deps.decisions
      .insertMirrored(rows)
      .catch((error: unknown) => {
        if (!(error instanceof ConflictingDecisions)) throw error;
        // Name the items of this request, as every other problem is named.
        const index = new Map(items.map((item, i) => [`${item.useCase}\u0000${item.requestId}`, i]));
        throw conflict(
          error.message,
          listProblems(
            error.keys.map((k) => ({
              path: join(paths[index.get(`${k.useCase}\u0000${k.requestId}`) ?? -1], 'requestId'),
              problem: CONFLICT_PROBLEM,
            })),
          ),
        );
      });
    return { inserted, completed, duplicates: duplicates + batchDuplicates };
  }

  /** A human decision arriving after the mirror (possibly after the AI's answer). */
  recordLateHuman(
    useCaseId: string,
    requestId: string,
    human: HumanSide,
    principal: Principal,
  ): Promise<{ status: 'recorded' | 'duplicate'; score: number | null }> {
    return withinDeadline(
      () => this.recordLateHumanNow(useCaseId, requestId, human, principal),
      this.timeoutMs,
      'late human decision',
    );
  }

  private async recordLateHumanNow(
    useCaseId: string,
    requestId: string,
    human: HumanSide,
    principal: Principal,
  ): Promise<{ status: 'recorded' | 'duplicate'; score: number | null }> {
    const useCase = await this.requireUseCase(useCaseId, principal);
    const misfit = checkDecision(useCase.plan.decision, human.decision);
    if (misfit)
      throw badRequest('the human decision does not fit the plan', [{ path: 'decision', problem: misfit }]);
    const outcome = await this.deps.decisions.recordHuman(
      { useCase: useCaseId, requestId },
      {
        decision: human.decision,
        decidedBy: human.decidedBy == null ? null : storedText(human.decidedBy, useCase.plan),
        handlingMs: human.handlingMs ?? null,
      },
    );
    switch (outcome.status) {
      case 'not-found':
        throw notFound(`no decision ${requestId} in use case ${useCaseId}: mirror the request first`);
      case 'conflict':
        throw conflict(`decision ${requestId} already has another human decision`, [
          { path: 'decision', problem: `already recorded as ${JSON.stringify(outcome.existing)}` },
        ]);
      case 'duplicate':
        return { status: 'duplicate', score: null };
      case 'recorded':
        return { status: 'recorded', score: await this.deps.comparisons.compareIfComplete(outcome.row) };
    }
  }

  /** All or nothing: every item of an accepted request is either newly stored or a duplicate. */
  private countIngested(
    items: MirroredDecision[],
    inserted: ReadonlyArray<{ useCase: string }>,
    report: NonNullable<IngestDeps['onIngested']>,
  ): void {
    const tally = new Map<string, { items: number; accepted: number }>();
    for (const { useCase } of items) {
      const t = tally.get(useCase) ?? { items: 0, accepted: 0 };
      t.items++;
      tally.set(useCase, t);
    }
    for (const { useCase } of inserted) {
      const t = tally.get(useCase);
      if (t) t.accepted++;
    }
    for (const [useCase, t] of tally) {
      report(useCase, 'accepted', t.accepted);
      report(useCase, 'duplicate', t.items - t.accepted);
    }
  }

  private toRow(
    item: MirroredDecision,
    useCase: UseCase,
    hashes: { full: string; bare: () => string },
  ): NewDecision {
    const shadow = useCase.stage === 'shadow';
    const owesAi = shadow && isSampled(item.requestId, useCase.plan.stages.shadow.sampleRate);
    // Redacted before it is stored; the payload hash is of the payload as sent, so retries still match.
    const stored = storedForms(item.input, item.context ?? {}, useCase.plan, owesAi);
    return {
      useCase: item.useCase,
      requestId: item.requestId,
      payloadHash: hashes.full,
      ...(item.human ? { bareHash: hashes.bare } : {}),
      input: stored.input,
      pendingInput: stored.pendingInput,
      context: stored.context,
      stage: useCase.stage,
      stageVersion: useCase.stageVersion,
      planVersion: useCase.serving.planVersion,
      aiConfig: useCase.serving.aiConfig,
      human: item.human
        ? {
            decision: item.human.decision,
            decidedBy: item.human.decidedBy == null ? null : storedText(item.human.decidedBy, useCase.plan),
            handlingMs: item.human.handlingMs ?? null,
          }
        : null,
      aiState: owesAi ? 'owed' : 'none',
      ...(askChallenger(useCase, item.requestId) ? { challengerInput: { input: item.input } } : {}),
    };
  }

  private async requireUseCase(id: string, principal: Principal): Promise<UseCase> {
    if (!inScope(principal, id)) throw forbidden(`this key may not write decisions of use case ${id}`);
    const useCase = await this.deps.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}: apply its plan first`);
    return useCase;
  }

  private async loadUseCases(items: MirroredDecision[], principal: Principal, paths: string[]) {
    const ids = [...new Set(items.map((i) => i.useCase))];
    const denied = ids.filter((id) => !inScope(principal, id));
    if (denied.length > 0)
      throw forbidden(`this key may not write decisions of use case(s) ${shortList(denied)}`);
    const found = new Map<string, UseCase>();
    for (const id of ids) {
      const useCase = await this.deps.useCases.get(id);
      if (useCase) found.set(id, useCase);
    }
    const unknown = items.flatMap((item, i) =>
      found.has(item.useCase)
        ? []
        : [{ path: join(paths[i], 'useCase'), problem: `unknown use case ${item.useCase}` }],
    );
    if (unknown.length > 0)
      throw notFound('unknown use case: apply its plan first; nothing was stored', listProblems(unknown));
    return found;
  }
}

/** A batch may name 1,000 use cases: a message names a few and counts the others. */
function shortList(ids: readonly string[], shown = 5): string {
  const listed = ids.slice(0, shown).join(', ');
  return ids.length > shown ? `${listed} and ${ids.length - shown} more` : listed;
}

const join = (prefix: string | undefined, path: string) => (prefix ? `${prefix}.${path}` : path);
