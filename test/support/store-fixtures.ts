import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';
import type { AiState, NewDecision } from '../../src/db/decision-row.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import type { ApplyPlanInput } from '../../src/plans/use-case-store.js';
import type { RecordedAnswer } from '../../src/shadow/ai-call-store.js';
import { labelPlan } from './test-controller.js';
import { createPgliteDatabase, createTestDatabase, type TestDatabase } from './test-database.js';

/** The two databases every store test runs on, for `describe.each`. */
export const BACKENDS: Array<[string, () => Promise<TestDatabase>]> = [
  ['postgresql', createTestDatabase],
  ['pglite', createPgliteDatabase],
];

/** The AI url of every store-test plan: the stores never call it. */
export const AI_URL = 'http://127.0.0.1:9/decide';

/** An apply-plan input built the way the plan route builds it: parsed, hashed, keyed. */
export function planInput(useCase: string, extra = '', actor = 'key:owner'): ApplyPlanInput {
  const text = labelPlan(useCase, AI_URL, extra);
  const parsed = parsePlanText(text);
  if (!parsed.ok) throw new Error(`test plan is invalid: ${JSON.stringify(parsed.problems)}`);
  return {
    id: useCase,
    plan: parsed.plan,
    text,
    textHash: parsed.hash,
    format: 'yaml',
    aiConfig: aiConfigKey(parsed.plan),
    actor,
  };
}

export interface MirroredOptions {
  payloadHash?: string;
  human?: unknown;
  context?: Record<string, unknown>;
  stage?: string;
  stageVersion?: number;
  aiState?: AiState;
  aiConfig?: string;
}

/** A mirrored decision for the stores; the payload hash defaults to one derived from the request id. */
export function mirrored(useCase: string, requestId: string, options: MirroredOptions = {}): NewDecision {
  return {
    useCase,
    requestId,
    payloadHash: options.payloadHash ?? `hash-of-${requestId}`,
    input: { invoice: requestId, amount: 120 },
    context: options.context ?? {},
    stage: options.stage ?? 'shadow',
    stageVersion: options.stageVersion ?? 1,
    planVersion: 1,
    aiConfig: options.aiConfig ?? 'cfg-test',
    human:
      options.human === undefined ? null : { decision: options.human, decidedBy: 'clerk-7', handlingMs: 900 },
    aiState: options.aiState ?? 'owed',
  };
}

/** An AI answer with the fields the metrics read; everything else fixed. */
export function answer(
  decision: unknown,
  fields: Partial<Omit<RecordedAnswer, 'decision'>> = {},
): RecordedAnswer {
  return {
    decision,
    confidence: 0.9,
    modelVersion: 'model-1',
    latencyMs: 25,
    inputTokens: 300,
    outputTokens: 20,
    costUsd: 0.0001,
    ...fields,
  };
}

/** The stored decision row as PostgreSQL renders it to JSON: every column, both drivers alike. */
export async function decisionRow(
  database: Database,
  useCase: string,
  requestId: string,
): Promise<Record<string, unknown> | undefined> {
  const [row] = await database.rows<{ row: Record<string, unknown> | string }>(
    sql`select to_jsonb(d) as row from decisions d where use_case = ${useCase} and request_id = ${requestId}`,
  );
  if (!row) return undefined;
  return typeof row.row === 'string' ? JSON.parse(row.row) : row.row;
}

export async function countWhere(database: Database, table: string, useCase: string): Promise<number> {
  const [row] = await database.rows<{ n: number }>(
    sql`select count(*)::int as n from ${sql.identifier(table)} where use_case = ${useCase}`,
  );
  return Number(row?.n ?? 0);
}
