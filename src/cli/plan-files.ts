import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { aiConfigKey } from '../plans/ai-config-key.js';
import { type PlanProblem, parsePlanText } from '../plans/plan-loader.js';
import type { Plan } from '../plans/plan-schema.js';
import { CliError, EXIT } from './exit-codes.js';

export type PlanFormat = 'yaml' | 'json';

/** A plan file that passed validation offline, ready to be applied. */
export interface CheckedPlan {
  file: string;
  text: string;
  format: PlanFormat;
  plan: Plan;
  hash: string;
  aiConfig: string;
}

export interface PlanFilesCheck {
  plans: CheckedPlan[];
  /** One line per listed problem: `file:line path: problem` (see `parsePlanText` for the limit). */
  problems: string[];
  /** Every problem found, listed or not. */
  problemCount: number;
  invalidFiles: number;
}

const PLAN_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function isPlanFile(name: string): boolean {
  return PLAN_EXTENSIONS.has(extname(name).toLowerCase());
}

/** `.json` files are read as JSON, everything else as YAML (as the API reads them by content type). */
export function planFormatOf(file: string): PlanFormat {
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/** `rollout-plans/x.yaml:12 stages.shadow.promoteWhen.minSamples: expected a number, got string "a"`. */
export function formatPlanProblem(file: string, p: PlanProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return p.path ? `${where} ${p.path}: ${p.problem}` : `${where} ${p.problem}`;
}

export async function readPlanFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (error as Error).message;
    throw new CliError(`cannot read ${file}: ${why}`, EXIT.usage);
  }
}

/**
 * Validates plan files offline, the problems of every file listed (up to the limit per file). With `distinctUseCases`, two
 * files naming the same use case are a problem too (applying both would make two versions at once).
 */
export async function checkPlanFiles(
  files: readonly string[],
  distinctUseCases = false,
): Promise<PlanFilesCheck> {
  const texts = await Promise.all(files.map(readPlanFile));
  const result: PlanFilesCheck = { plans: [], problems: [], problemCount: 0, invalidFiles: 0 };
  const seen = new Map<string, string>();
  files.forEach((file, index) => {
    const text = texts[index] as string;
    const format = planFormatOf(file);
    const parsed = parsePlanText(text, format);
    if (!parsed.ok) {
      result.invalidFiles++;
      result.problems.push(...parsed.problems.map((p) => formatPlanProblem(file, p)));
      result.problemCount += parsed.problemCount;
      return;
    }
    const earlier = seen.get(parsed.plan.useCase);
    if (distinctUseCases && earlier !== undefined) {
      result.invalidFiles++;
      result.problems.push(`${file} useCase: "${parsed.plan.useCase}" is also the use case of ${earlier}`);
      result.problemCount++;
      return;
    }
    seen.set(parsed.plan.useCase, file);
    result.plans.push({
      file,
      text,
      format,
      plan: parsed.plan,
      hash: parsed.hash,
      aiConfig: aiConfigKey(parsed.plan),
    });
  });
  return result;
}

/** The plan files directly in `dir` (`*.yaml`, `*.yml`, `*.json`), in name order. */
export async function planFilesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'ENOTDIR'
          ? 'not a directory'
          : (error as Error).message;
    throw new CliError(`cannot read the plans directory ${dir}: ${why}`, EXIT.usage);
  }
  return names
    .filter(isPlanFile)
    .sort()
    .map((name) => join(dir, name));
}

/** Throws the problems as one error (exit 1) when any file is invalid. */
export function requireValid(check: PlanFilesCheck, doing: string): CheckedPlan[] {
  if (check.invalidFiles === 0) return check.plans;
  const files = check.invalidFiles === 1 ? '1 plan is' : `${check.invalidFiles} plans are`;
  throw new CliError(`${files} invalid; ${doing}`, EXIT.negative, check.problems);
}
