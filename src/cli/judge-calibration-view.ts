import type { JudgeCalibration } from '../metrics/judge-calibration.js';
import { oneLine } from '../contracts/safe-text.js';
import { count, kappa, NONE, percent } from '../format/figures.js';
import { formatTable } from './format-table.js';

/**
 * The judge against people (README "Is the judge right?"): one row per judge version of the
 * serving plan version, the version that scores now first and marked. Null without a judge.
 */
export function judgeCalibrationLines(calibration: JudgeCalibration | null | undefined): string[] {
  if (!calibration) return [];
  const current = calibration.currentJudgeVersion;
  const head = `Judge against people (plan version ${calibration.planVersion}; ratings of the calibration sample, judge acceptable at score ≥ 0.5):`;
  if (calibration.versions.length === 0) {
    const scoring = current === null ? 'no decision judged yet' : `judge ${versionName(current)} scores now`;
    return [head, `  no ratings yet (${scoring})`];
  }
  const rows = calibration.versions.map((v) => [
    // A judge names its own version: shown on one line, whatever it sent.
    oneLine(`${versionName(v.judgeVersion)}${v.judgeVersion === current ? ' (now)' : ''}`),
    count(v.rated),
    percent(v.agreement),
    percent(v.agreementLowerBound),
    kappa(v.kappa, v.kappaInterval),
    `${count(v.bothAcceptable)} / ${count(v.judgeOnly)} / ${count(v.peopleOnly)} / ${count(v.neither)}`,
  ]);
  const table = formatTable(
    [
      { header: 'JUDGE VERSION' },
      { header: 'RATED', align: 'right' },
      { header: 'AGREEMENT', align: 'right' },
      { header: 'LOWER BOUND', align: 'right' },
      { header: 'KAPPA (95%)', align: 'right' },
      { header: 'BOTH OK / JUDGE ONLY / PEOPLE ONLY / NEITHER' },
    ],
    rows,
  );
  return [head, table];
}

const versionName = (version: string) => (version === '' ? NONE : version);
