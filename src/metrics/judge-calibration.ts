import type { AgreementStatistics } from '../statistics/agreement-bound.js';
import { agreementLowerBoundFor } from '../statistics/agreement-bound.js';
import { cohensKappaInterval } from '../statistics/kappa.js';

/**
 * The judge's agreement with people (README "Is the judge right?"), per judge version of one plan
 * version: the rated decisions of the calibration sample as a 2×2 of the judge (acceptable: score
 * ≥ 0.5) against the people's rating. Pure: the counts come from `judge_calibration_rollups`.
 */

/** One judge version's rollup row. */
export interface CalibrationCounts {
  judgeVersion: string;
  rated: number;
  agreed: number;
  /** Judge acceptable, people acceptable. */
  bothAcceptable: number;
  /** Judge acceptable, people not. */
  judgeOnly: number;
  /** People acceptable, judge not. */
  peopleOnly: number;
  neither: number;
}

export interface JudgeVersionCalibration extends CalibrationCounts {
  /** agreed / rated; null before any rating is folded. */
  agreement: number | null;
  /** The anytime-valid lower bound of the agreement (the plan's `statistics` and `confidence`). */
  agreementLowerBound: number | null;
  /** Cohen's kappa of judge against people, and its fixed-sample interval (for reading). */
  kappa: number | null;
  kappaInterval: { lower: number; upper: number } | null;
}

export interface JudgeCalibration {
  /** The plan version the judge scores for (its configuration is part of it). */
  planVersion: number;
  /** The judge version that scored the newest judged decisions: the one a gate counts. Null before any. */
  currentJudgeVersion: string | null;
  /** Every judge version rated under this plan version, the current one first. */
  versions: JudgeVersionCalibration[];
}

export function versionCalibration(
  counts: CalibrationCounts,
  statistics: AgreementStatistics,
  confidence: number,
): JudgeVersionCalibration {
  const { rated, agreed } = counts;
  const interval = cohensKappaInterval(
    [
      { human: 'acceptable', ai: 'acceptable', count: counts.bothAcceptable },
      { human: 'unacceptable', ai: 'acceptable', count: counts.judgeOnly },
      { human: 'acceptable', ai: 'unacceptable', count: counts.peopleOnly },
      { human: 'unacceptable', ai: 'unacceptable', count: counts.neither },
    ],
    confidence,
  );
  return {
    ...counts,
    agreement: rated > 0 ? agreed / rated : null,
    agreementLowerBound: agreementLowerBoundFor(statistics, agreed, rated, confidence),
    kappa: interval?.kappa ?? null,
    kappaInterval: interval ? { lower: interval.lower, upper: interval.upper } : null,
  };
}

export function judgeCalibration(
  planVersion: number,
  currentJudgeVersion: string | null,
  rows: readonly CalibrationCounts[],
  statistics: AgreementStatistics,
  confidence: number,
): JudgeCalibration {
  const versions = rows
    .filter((r) => r.rated > 0)
    .map((r) => versionCalibration(r, statistics, confidence))
    .sort((a, b) =>
      a.judgeVersion === currentJudgeVersion
        ? -1
        : b.judgeVersion === currentJudgeVersion
          ? 1
          : b.rated - a.rated || (a.judgeVersion < b.judgeVersion ? -1 : 1),
    );
  return { planVersion, currentJudgeVersion, versions };
}

/** The calibration of the judge version a gate counts (zero ratings when none was folded yet). */
export function currentCalibration(calibration: JudgeCalibration): CalibrationCounts {
  const version = calibration.currentJudgeVersion;
  const found = version === null ? undefined : calibration.versions.find((v) => v.judgeVersion === version);
  return (
    found ?? {
      judgeVersion: version ?? '',
      rated: 0,
      agreed: 0,
      bothAcceptable: 0,
      judgeOnly: 0,
      peopleOnly: 0,
      neither: 0,
    }
  );
}
