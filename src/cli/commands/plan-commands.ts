import type { Command } from 'commander';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { type ControllerApi, ControllerApiError, type PlanApplied } from '../../client/controller-api.js';
import { asCliError, clientFor, segment } from '../command-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CheckedPlan, checkPlanFiles, requireValid } from '../plan-files.js';
import { print, printJson } from '../terminal-output.js';

/** `GET /v1/use-cases/:id/plan`. */
export interface AppliedPlan {
  useCase: string;
  version: number;
  text: string;
  textHash: string;
  format: string;
  aiConfig: string;
  appliedBy: string;
  appliedAt: string;
}

const CONTENT_TYPES = { yaml: 'application/yaml', json: 'application/json' } as const;

export function registerPlanCommands(program: Command): void {
  const plan = program.command('plan').description('validate, apply and compare rollout plans');

  plan
    .command('validate')
    .description('check plan files offline: each problem with its file, line and field path')
    .argument('<files...>', 'plan files (.yaml, .yml or .json)')
    .option('--json', 'print {files, problems} as JSON')
    .action(async (files: string[], options: { json?: boolean }) => {
      const check = await checkPlanFiles(files);
      if (options.json) {
        printJson({
          valid: check.invalidFiles === 0,
          plans: check.plans.map((p) => ({ file: p.file, useCase: p.plan.useCase, aiConfig: p.aiConfig })),
          problems: check.problems,
        });
      } else {
        for (const p of check.plans) print(`${p.file}: ok (use case ${p.plan.useCase})`);
        for (const line of check.problems) print(line);
        if (check.invalidFiles > 0) {
          print(`${check.problemCount} problem(s) in ${check.invalidFiles} of ${files.length} file(s)`);
        }
      }
      if (check.invalidFiles > 0) process.exitCode = EXIT.negative;
    });

  plan
    .command('apply')
    .description('apply plan files (each names its use case); nothing is applied if one is invalid')
    .argument('<files...>', 'plan files (.yaml, .yml or .json)')
    .option('--json', 'print the answers as JSON')
    .action(async (files: string[], options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const plans = requireValid(await checkPlanFiles(files, true), 'nothing was applied');
      const answers: PlanApplied[] = [];
      for (const p of plans) {
        const answer = await applyOne(client, p).catch((error: unknown) => {
          throw withApplied(error, answers);
        });
        answers.push(answer);
        if (!options.json) print(`${p.file}: ${describeApply(answer)}`);
      }
      if (options.json) printJson({ applied: answers });
    });

  plan
    .command('diff')
    .description(
      'what applying a plan file would change: a line diff against the applied text, and whether the evidence restarts',
    )
    .argument('<file>', 'a plan file')
    .option('--json', 'print {changed, diff, aiConfig, applied} as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 no change, 1 the plan would change something, 2 the local plan is invalid.',
    )
    .action(async (file: string, options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const check = await checkPlanFiles([file]);
      const [local] = check.plans;
      if (!local) throw new CliError(`${file} is invalid; nothing to compare`, EXIT.usage, check.problems);
      const applied = await appliedPlan(client, local.plan.useCase);
      const result = comparePlans(local, applied);
      if (options.json) printJson({ ...result, applied });
      else print(result.summary);
      if (result.changed) process.exitCode = EXIT.negative;
    });
}

async function applyOne(client: ControllerApi, p: CheckedPlan): Promise<PlanApplied> {
  try {
    return await client.putText<PlanApplied>(
      `/v1/use-cases/${segment(p.plan.useCase)}/plan`,
      p.text,
      CONTENT_TYPES[p.format],
    );
  } catch (error) {
    // The controller judged the plan and refused it: a negative answer, like plan validate's.
    if (error instanceof ControllerApiError && error.status === 400) {
      throw new CliError(
        `${p.file}: ${error.apiMessage} (HTTP ${error.status})`,
        EXIT.negative,
        error.problemLines,
      );
    }
    throw error;
  }
}

function withApplied(thrown: unknown, answers: readonly PlanApplied[]): unknown {
  const error = asCliError(thrown);
  if (!(error instanceof CliError) || answers.length === 0) return error;
  const done = answers.map((a) => `already applied: ${a.useCase} (plan version ${a.planVersion})`);
  return new CliError(error.message, error.exitCode, [...error.details, ...done]);
}

export function describeApply(a: PlanApplied): string {
  if (a.created) return `use case ${a.useCase} created in ${a.stage} (plan version ${a.planVersion})`;
  if (a.unchanged) return `${a.useCase} unchanged (plan version ${a.planVersion} is this text)`;
  return `${a.useCase} updated to plan version ${a.planVersion} (stage ${a.stage})`;
}

/** The applied plan, or null when the use case does not exist yet (applying would create it). */
async function appliedPlan(client: ControllerApi, useCase: string): Promise<AppliedPlan | null> {
  try {
    return await client.getJson<AppliedPlan>(`/v1/use-cases/${segment(useCase)}/plan`);
  } catch (error) {
    if (
      error instanceof ControllerApiError &&
      error.status === 404 &&
      error.apiMessage.startsWith('unknown use case')
    ) {
      return null;
    }
    throw error;
  }
}

export interface PlanComparison {
  useCase: string;
  changed: boolean;
  /** Unified diff of the applied text (or nothing) and the local one; empty when equal. */
  diff: string;
  aiConfig: { applied: string | null; local: string; evidenceRestarts: boolean };
  summary: string;
}

/** Pure: what applying `local` over `applied` would do. */
export function comparePlans(local: CheckedPlan, applied: AppliedPlan | null): PlanComparison {
  const useCase = local.plan.useCase;
  const aiConfig = {
    applied: applied?.aiConfig ?? null,
    local: local.aiConfig,
    evidenceRestarts: applied !== null && applied.aiConfig !== local.aiConfig,
  };
  if (applied === null) {
    const diff = unifiedDiff('', local.text, '/dev/null', local.file);
    const summary = `${useCase} does not exist yet: applying ${local.file} creates it in shadow.\n${diff}`;
    return { useCase, changed: true, diff, aiConfig, summary };
  }
  if (applied.textHash === local.hash) {
    const summary = `${useCase}: no change (${local.file} is plan version ${applied.version} as applied).`;
    return { useCase, changed: false, diff: '', aiConfig, summary };
  }
  const diff = unifiedDiff(
    applied.text,
    local.text,
    `${useCase} plan version ${applied.version} (applied by ${applied.appliedBy})`,
    local.file,
  );
  const evidence = aiConfig.evidenceRestarts
    ? `The AI configuration changes (${applied.aiConfig} → ${local.aiConfig}): the evidence restarts; the gate counts only decisions under the new configuration.`
    : `The AI configuration is unchanged (${local.aiConfig}): the evidence is kept and judged again under the new plan.`;
  const summary = `${diff}\n\nApplying ${local.file} makes plan version ${applied.version + 1} of ${useCase}.\n${evidence}`;
  return { useCase, changed: true, diff, aiConfig, summary };
}

/** Unchanged lines shown around each change, as `diff -u` does. */
const DIFF_CONTEXT = 3;

/** `diff -u` of two texts with `---`/`+++` headers, without a final newline; empty when equal. */
function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string): string {
  if (oldText === newText) return '';
  const patch = createTwoFilesPatch(oldLabel, newLabel, oldText, newText, undefined, undefined, {
    context: DIFF_CONTEXT,
    stripTrailingCr: true,
    headerOptions: FILE_HEADERS_ONLY,
  }).replace(/\n$/, '');
  // Texts can differ where lines (read without their CR) cannot show it.
  return patch.includes('\n@@ ') ? patch : `${patch}\n(the texts differ only in line endings)`;
}
