import { sql } from 'drizzle-orm';
import { monthOfIdText } from '../db/decision-month.js';
import type { Database } from '../db/database.js';
import type { CalibrationCounts } from './judge-calibration.js';

/** Which calibration to read: a use case's plan version, and the stage version its gate counts. */
export interface CalibrationKey {
  useCase: string;
  planVersion: number;
  /** The newest judged decision is looked for in this stage version (the gate's cohort) first. */
  stageVersion: number;
}

/** One plan version's calibration rows and the judge version of its newest judged decision. */
export interface CalibrationRead {
  rows: CalibrationCounts[];
  currentJudgeVersion: string | null;
}

/** Reads the judge's calibration against people (`judge_calibration_rollups`, migration 0018). */
export interface JudgeCalibrationReads {
  read(keys: readonly CalibrationKey[]): Promise<Map<string, CalibrationRead>>;
}

export const calibrationKey = (k: Pick<CalibrationKey, 'useCase' | 'planVersion'>) =>
  `${k.useCase}@${k.planVersion}`;

interface CountsRow {
  use_case: string;
  plan_version: number;
  judge_version: string;
  rated: number;
  agreed: number;
  both_acceptable: number;
  judge_only: number;
  people_only: number;
  neither: number;
}

/**
 * Two queries for any number of use cases: the rollup rows of each plan version, and the judge
 * version of its newest judged decision (an index probe of `judge_calls_judged` per use case: the
 * newest in the gate's stage version, else the plan version's newest).
 */
export class JudgeCalibrationStore implements JudgeCalibrationReads {
  constructor(private readonly database: Database) {}

  async read(keys: readonly CalibrationKey[]): Promise<Map<string, CalibrationRead>> {
    const out = new Map<string, CalibrationRead>(
      keys.map((k) => [calibrationKey(k), { rows: [], currentJudgeVersion: null }]),
    );
    if (keys.length === 0) return out;
    const filters = sql`unnest(${sql.param(keys.map((k) => k.useCase))}::text[],
      ${sql.param(keys.map((k) => k.planVersion))}::int[],
      ${sql.param(keys.map((k) => k.stageVersion))}::int[]) f(use_case, plan_version, stage_version)`;
    const [rows, newest] = await Promise.all([
      this.database.preparedRows<CountsRow>(sql`
        select r.use_case, r.plan_version, r.judge_version, r.rated::float8 as rated, r.agreed::float8 as agreed,
          r.both_acceptable::float8 as both_acceptable, r.judge_only::float8 as judge_only,
          r.people_only::float8 as people_only, r.neither::float8 as neither
        from ${filters} join judge_calibration_rollups r
          on r.use_case = f.use_case and r.plan_version = f.plan_version`),
      this.database.preparedRows<{
        use_case: string;
        plan_version: number;
        judge_version: string | null;
      }>(sql`
        select f.use_case, f.plan_version, coalesce(
          (select coalesce(j.judge_version, '') from judge_calls j join decisions d on d.id = j.decision_id
              and ${sql.raw(monthOfIdText('j.decision_id', 'd.'))}
            where j.use_case = f.use_case and j.plan_version = f.plan_version and j.state = 'done'
              and j.judged_at is not null and d.stage_version = f.stage_version
            order by j.judged_at desc limit 1),
          (select coalesce(j.judge_version, '') from judge_calls j
            where j.use_case = f.use_case and j.plan_version = f.plan_version and j.state = 'done'
              and j.judged_at is not null
            order by j.judged_at desc limit 1)) as judge_version
        from ${filters}`),
    ]);
    for (const r of rows) {
      out.get(calibrationKey({ useCase: r.use_case, planVersion: r.plan_version }))?.rows.push({
        judgeVersion: r.judge_version,
        rated: Number(r.rated),
        agreed: Number(r.agreed),
        bothAcceptable: Number(r.both_acceptable),
        judgeOnly: Number(r.judge_only),
        peopleOnly: Number(r.people_only),
        neither: Number(r.neither),
      });
    }
    for (const n of newest) {
      const read = out.get(calibrationKey({ useCase: n.use_case, planVersion: n.plan_version }));
      if (read) read.currentJudgeVersion = n.judge_version;
    }
    return out;
  }
}
