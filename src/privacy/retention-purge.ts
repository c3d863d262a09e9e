import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';

export interface RetentionOutcome {
  useCase: string;
  /** Decisions whose stored input (and AI error text) this run cleared. */
  purged: number;
  /** Decisions past retention whose AI call is still owed: their input is kept until the call is made. */
  keptOwed: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_BATCH = 5_000;

/**
 * Purges the stored inputs of decisions older than their use case's current `retentionDays`.
 * Only `input` (and a leftover `pending_input`) is cleared, and an AI error is cut to its kind
 * (`http-status`; under `storeInput: full` its text may quote what the AI sent, which may echo
 * the input): context, both decisions, scores, latencies and costs stay, so every metric and
 * gate reads the same before and after.
 *
 * An owed AI call's input is never dropped (the AI would be asked with nothing): such decisions
 * are skipped, counted and logged, and purged by a later run once answered. Batches are small
 * transactions, so a purge never holds many rows locked; concurrent purges skip each other's rows.
 */
/** What a purge reads of a use case (the use-case store's rows have this shape). */
export interface RetainedUseCase {
  id: string;
  plan: { retentionDays?: number | undefined };
}

export class RetentionPurge {
  constructor(
    private readonly deps: {
      database: Database;
      useCases: { list(): Promise<RetainedUseCase[]> };
      logger: Logger;
      batchSize?: number;
    },
  ) {}

  async purge(now: Date): Promise<RetentionOutcome[]> {
    const outcomes: RetentionOutcome[] = [];
    for (const useCase of await this.deps.useCases.list()) {
      const days = useCase.plan.retentionDays;
      if (days === undefined) continue;
      const cutoff = new Date(now.getTime() - days * DAY_MS);
      const outcome = {
        useCase: useCase.id,
        purged: await this.purgeBefore(useCase.id, cutoff),
        keptOwed: 0,
      };
      outcome.keptOwed = await this.owedBefore(useCase.id, cutoff);
      if (outcome.keptOwed > 0) {
        this.deps.logger.warn(
          { useCase: useCase.id, keptOwed: outcome.keptOwed, retentionDays: days },
          'inputs past retention kept: their AI calls are still owed',
        );
      }
      if (outcome.purged > 0) {
        this.deps.logger.info(
          { useCase: useCase.id, purged: outcome.purged, retentionDays: days },
          'inputs purged',
        );
      }
      outcomes.push(outcome);
    }
    return outcomes;
  }

  private async purgeBefore(useCase: string, cutoff: Date): Promise<number> {
    const batch = this.deps.batchSize ?? DEFAULT_BATCH;
    let total = 0;
    for (;;) {
      const [row] = await this.deps.database.rows<{ n: number }>(sql`
        with batch as (
          select id, received_month from decisions
          where use_case = ${useCase} and received_at < ${cutoff.toISOString()}::timestamptz
            and (input is not null or ai_error like '%:%') and ai_state <> 'owed'
          order by received_at
          limit ${batch}
          for update skip locked
        ), purged as (
          -- An error's kind has no colon: what follows it is the message (decisions_retention's predicate).
          update decisions d set input = null, pending_input = null, ai_error = split_part(d.ai_error, ':', 1)
          from batch where d.id = batch.id and d.received_month = batch.received_month
          returning 1
        )
        select count(*)::int as n from purged`);
      const n = Number(row?.n ?? 0);
      total += n;
      if (n < batch) break;
    }
    // A challenger's failed calls keep their error text the same way; their inputs are never
    // stored (only kept while owed).
    await this.deps.database.rows(sql`
      update challenger_calls set error = split_part(error, ':', 1)
      where use_case = ${useCase} and received_at < ${cutoff.toISOString()}::timestamptz
        and error like '%:%'`);
    return total;
  }

  private async owedBefore(useCase: string, cutoff: Date): Promise<number> {
    const [row] = await this.deps.database.rows<{ n: number }>(sql`
      select count(*)::int as n from decisions
      where use_case = ${useCase} and received_at < ${cutoff.toISOString()}::timestamptz
        and ai_state = 'owed'`);
    return Number(row?.n ?? 0);
  }
}
