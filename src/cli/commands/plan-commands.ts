import type { Command } from 'commander';
import {
  type ControllerApi,
  ControllerApiError,
  type HeldChange,
  isHeld,
  type PlanApplied,
} from '../../client/controller-api.js';
import { heldLines } from '../changes-view.js';
import type { ChampionView } from '../challenger-view.js';
import { asCliError, clientFor, segment } from '../command-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { criteriaChangesFromText, planBaselineWarnings } from '../plan-changes.js';
import { type CheckedPlan, checkPlanFiles, requireValid } from '../plan-files.js';
import { print, printError, printJson } from '../terminal-output.js';
import type { GateAssessment, GateWarning } from '../../promotion/gate-types.js';
import { unifiedDiff } from '../../plans/plan-text-diff.js';

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
    .description(
      'check plan files offline: each problem with its file, line and field path; given --url or --key, also what the gate would warn of on the traffic of a use case the controller has',
    )
    .argument('<files...>', 'plan files (.yaml, .yml or .json)')
    .option('--json', 'print {valid, plans, problems, warnings} as JSON')
    .action(async (files: string[], options: { json?: boolean }, command: Command) => {
      const check = await checkPlanFiles(files);
      // Offline unless the controller is named on the command line (the environment alone does not).
      const { url, key } = command.optsWithGlobals<{ url?: string; key?: string }>();
      const warnings =
        url !== undefined || key !== undefined ? await controllerWarnings(command, check.plans) : [];
      if (options.json) {
        printJson({
          valid: check.invalidFiles === 0,
          plans: check.plans.map((p) => ({ file: p.file, useCase: p.plan.useCase, aiConfig: p.aiConfig })),
          problems: check.problems,
          warnings,
        });
      } else {
        for (const p of check.plans) print(`${p.file}: ok (use case ${p.plan.useCase})`);
        for (const w of warnings) print(`warning: ${w.file}: ${w.message}`);
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
    .option('--json', 'print the answers as JSON ({applied, pending})')
    .addHelpText(
      'after',
      "\nExit status 7 when a plan is held for a release key's approval (it widens the AI's authority, or the plan in force asks for approvals): the others are applied, the held one waits as a change.",
    )
    .action(async (files: string[], options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const plans = requireValid(await checkPlanFiles(files, true), 'nothing was applied');
      const answers: PlanAppliedAnswer[] = [];
      const pending: HeldChange[] = [];
      for (const p of plans) {
        const answer = await applyOne(client, p).catch((error: unknown) => {
          throw withApplied(error, answers, pending);
        });
        if (isHeld(answer)) {
          pending.push(answer);
          if (!options.json) print(heldLines(`${p.file}: ${p.plan.useCase}`, answer).join('\n'));
          continue;
        }
        answers.push(answer);
        if (!options.json) print(applyLines(p.file, answer).join('\n'));
      }
      if (options.json) printJson({ applied: answers, pending: pending.map((h) => h.change) });
      // Nothing of a held plan is in force yet: a script must not read this as applied.
      if (pending.length > 0) process.exitCode = EXIT.held;
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
      const context = applied ? await championContext(client, local.plan.useCase) : null;
      const result = comparePlans(local, applied, context);
      if (options.json) printJson({ ...result, applied });
      else print(result.summary);
      if (result.changed) process.exitCode = EXIT.negative;
    });
}

async function applyOne(client: ControllerApi, p: CheckedPlan): Promise<PlanAppliedAnswer | HeldChange> {
  try {
    return await client.putText<PlanAppliedAnswer | HeldChange>(
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

function withApplied(
  thrown: unknown,
  answers: readonly PlanApplied[],
  pending: readonly HeldChange[],
): unknown {
  const error = asCliError(thrown);
  if (!(error instanceof CliError) || answers.length + pending.length === 0) return error;
  const done = answers.map((a) => `already applied: ${a.useCase} (plan version ${a.planVersion})`);
  const held = pending.map((h) => `already held for approval: ${h.change.useCase} (change ${h.change.id})`);
  return new CliError(error.message, error.exitCode, [...error.details, ...done, ...held]);
}

/**
 * `PUT …/plan`'s answer: what the new version did to the challenger, if anything, and what its
 * gate warns of on the evidence already there (absent from controllers before them).
 */
type PlanAppliedAnswer = PlanApplied & {
  challenger?: {
    action: 'challenger.started' | 'challenger.discarded';
    details: { changes?: unknown };
  } | null;
  majorityBaseline?: { label: string; agreement: number } | null;
  warnings?: GateWarning[];
};

/** A warning of `plan validate`: what the plan's gate would say on the controller's evidence. */
export interface PlanFileWarning extends GateWarning {
  file: string;
  useCase: string;
}

/**
 * For each plan whose use case the controller has, the warnings its gate would carry on that use
 * case's traffic (the majority baseline of GET /v1/use-cases/:id). Advisory: a use case the
 * controller does not have has no traffic yet, and a controller that cannot be asked leaves a
 * note on stderr, not a failed validation.
 */
async function controllerWarnings(
  command: Command,
  plans: readonly CheckedPlan[],
): Promise<PlanFileWarning[]> {
  const warnings: PlanFileWarning[] = [];
  try {
    const client = clientFor(command);
    for (const p of plans) {
      const detail = await useCaseGate(client, p.plan.useCase);
      if (!detail) continue;
      const baseline = detail.gate?.majorityBaseline ?? null;
      for (const w of planBaselineWarnings(p.plan, detail.stage, baseline)) {
        warnings.push({ file: p.file, useCase: p.plan.useCase, ...w });
      }
    }
  } catch (thrown) {
    const error = asCliError(thrown);
    if (!(error instanceof CliError)) throw error;
    printError(`shadowgate: note: the gate's warnings were not checked on the controller: ${error.message}`);
  }
  return warnings;
}

/** The use case's stage and gate, or null when the controller does not have it. */
async function useCaseGate(
  client: ControllerApi,
  useCase: string,
): Promise<{ stage: string; gate: { majorityBaseline?: GateAssessment['majorityBaseline'] } | null } | null> {
  try {
    return await client.getJson(`/v1/use-cases/${segment(useCase)}`);
  } catch (error) {
    if (isUnknownUseCase(error)) return null;
    throw error;
  }
}

function isUnknownUseCase(error: unknown): boolean {
  return (
    error instanceof ControllerApiError &&
    error.status === 404 &&
    error.apiMessage.startsWith('unknown use case')
  );
}

/** What `plan apply` prints for one file: what happened, then each warning of the new gate. */
export function applyLines(file: string, a: PlanAppliedAnswer): string[] {
  return [
    `${file}: ${describeApply(a)}`,
    ...(a.warnings ?? []).map((w) => `warning: ${a.useCase}: ${w.message}`),
  ];
}

export function describeApply(a: PlanAppliedAnswer): string {
  if (a.created) return `use case ${a.useCase} created in ${a.stage} (plan version ${a.planVersion})`;
  if (a.unchanged) return `${a.useCase} unchanged (plan version ${a.planVersion} is this text)`;
  const updated = `${a.useCase} updated to plan version ${a.planVersion} (stage ${a.stage})`;
  if (a.challenger?.action === 'challenger.started') {
    const changes = Array.isArray(a.challenger.details.changes)
      ? a.challenger.details.changes.join(', ')
      : '';
    return `${updated}; its AI configuration${changes ? ` (${changes})` : ''} is judged as a challenger while the champion keeps answering (shadowgate challenger ${a.useCase})`;
  }
  if (a.challenger?.action === 'challenger.discarded') {
    return `${updated}; the champion's AI configuration again: the challenger is discarded`;
  }
  return updated;
}

/**
 * What the use case makes of a new AI configuration: in human-reviewed or limited-autonomous it is
 * judged as a challenger (README "Champion and challenger"). Null from a controller before that.
 */
export interface ChampionContext {
  stage: string;
  champion: ChampionView;
  challenger: { planVersion: number; aiConfig: string } | null;
}

async function championContext(client: ControllerApi, useCase: string): Promise<ChampionContext | null> {
  const detail = await client.getJson<Partial<ChampionContext>>(`/v1/use-cases/${segment(useCase)}`);
  if (!detail.champion || detail.stage === undefined) return null;
  return { stage: detail.stage, champion: detail.champion, challenger: detail.challenger ?? null };
}

/** The applied plan, or null when the use case does not exist yet (applying would create it). */
async function appliedPlan(client: ControllerApi, useCase: string): Promise<AppliedPlan | null> {
  try {
    return await client.getJson<AppliedPlan>(`/v1/use-cases/${segment(useCase)}/plan`);
  } catch (error) {
    if (isUnknownUseCase(error)) return null;
    throw error;
  }
}

export interface PlanComparison {
  useCase: string;
  changed: boolean;
  /** Unified diff of the applied text (or nothing) and the local one; empty when equal. */
  diff: string;
  /** `evidenceRestarts`: the gate's evidence starts over (not so when a challenger is judged instead). */
  aiConfig: { applied: string | null; local: string; evidenceRestarts: boolean };
  /**
   * What the new AI configuration does beside the champion: becomes the challenger (`starts`),
   * replaces the active one (`replaces`), returns to the champion's (`discards` the challenger);
   * null when no challenger is involved.
   */
  challenger: 'starts' | 'replaces' | 'discards' | null;
  /**
   * The paths of the gates' and guards' criteria that change (`errorCosts.approve.reject`,
   * `stages.shadow.promoteWhen.labelRecallLowerBound.reject`, …): thresholds that judge the evidence
   * again. Empty without an applied plan or a change; null when the applied text cannot be read.
   */
  criteria: string[] | null;
  summary: string;
}

const AUTHORITY_STAGES = ['human-reviewed', 'limited-autonomous'];

/**
 * What a new AI configuration does beside the champion (use-case-store's followChallenger): the
 * champion's discards an active challenger; the active challenger's keeps it; another replaces it,
 * or, in a stage with authority, becomes the challenger.
 */
function challengerEffect(
  localConfig: string,
  context: ChampionContext | null,
): PlanComparison['challenger'] {
  if (!context) return null;
  const { champion, challenger } = context;
  if (challenger) {
    if (localConfig === champion.aiConfig) return 'discards';
    return localConfig === challenger.aiConfig ? null : 'replaces';
  }
  if (localConfig === champion.aiConfig) return null;
  return AUTHORITY_STAGES.includes(context.stage) ? 'starts' : null;
}

/** Pure: what applying `local` over `applied` would do (`context`: the use case's champion and stage). */
export function comparePlans(
  local: CheckedPlan,
  applied: AppliedPlan | null,
  context: ChampionContext | null = null,
): PlanComparison {
  const useCase = local.plan.useCase;
  const challenger = applied === null ? null : challengerEffect(local.aiConfig, context);
  const aiConfig = {
    applied: applied?.aiConfig ?? null,
    local: local.aiConfig,
    evidenceRestarts: applied !== null && applied.aiConfig !== local.aiConfig && challenger === null,
  };
  if (applied === null) {
    const diff = unifiedDiff('', local.text, '/dev/null', local.file);
    const summary = `${useCase} does not exist yet: applying ${local.file} creates it in shadow.\n${diff}`;
    return { useCase, changed: true, diff, aiConfig, challenger, criteria: [], summary };
  }
  if (applied.textHash === local.hash) {
    const summary = `${useCase}: no change (${local.file} is plan version ${applied.version} as applied).`;
    return { useCase, changed: false, diff: '', aiConfig, challenger: null, criteria: [], summary };
  }
  const criteria = criteriaChangesFromText(applied.text, applied.format, local.plan);
  const diff = unifiedDiff(
    applied.text,
    local.text,
    `${useCase} plan version ${applied.version} (applied by ${applied.appliedBy})`,
    local.file,
  );
  const evidence = evidenceNote(useCase, aiConfig, challenger, context);
  const judged = criteriaNote(criteria ?? [], aiConfig, challenger);
  const summary = `${diff}\n\nApplying ${local.file} makes plan version ${applied.version + 1} of ${useCase}.\n${evidence}${judged}`;
  return { useCase, changed: true, diff, aiConfig, challenger, criteria, summary };
}

/** The criteria that change: thresholds that judge the kept evidence again (or the new evidence). */
function criteriaNote(
  criteria: readonly string[],
  aiConfig: PlanComparison['aiConfig'],
  challenger: PlanComparison['challenger'],
): string {
  if (criteria.length === 0) return '';
  const kept = !aiConfig.evidenceRestarts && challenger === null;
  return kept
    ? `\nThe criteria that change judge that evidence again: ${criteria.join(', ')}.`
    : `\nThe criteria that change: ${criteria.join(', ')}.`;
}

function evidenceNote(
  useCase: string,
  aiConfig: PlanComparison['aiConfig'],
  challenger: PlanComparison['challenger'],
  context: ChampionContext | null,
): string {
  const champion = context?.champion.aiConfig;
  const active = context?.challenger;
  const judged = `judged as the challenger beside the champion, which keeps answering; the stage and the gate's evidence stay (shadowgate challenger ${useCase})`;
  if (challenger === 'starts') {
    return `The AI configuration changes (${champion} → ${aiConfig.local}): in ${context?.stage} it is ${judged}.`;
  }
  if (challenger === 'replaces') {
    return `The AI configuration changes (${champion} → ${aiConfig.local}): it replaces the challenger of plan version ${active?.planVersion} (whose evidence ends) and is ${judged}.`;
  }
  if (challenger === 'discards') {
    return `The AI configuration returns to the champion's (${aiConfig.local}): the challenger of plan version ${active?.planVersion} is discarded.`;
  }
  if (aiConfig.evidenceRestarts) {
    const disabled =
      context?.stage === 'disabled'
        ? ' (if the use case was disabled from human-reviewed or limited-autonomous, it is judged as a challenger instead)'
        : '';
    return `The AI configuration changes (${aiConfig.applied} → ${aiConfig.local}): the evidence restarts; the gate counts only decisions under the new configuration${disabled}.`;
  }
  return `The AI configuration is unchanged (${aiConfig.local}): the evidence is kept and judged again under the new plan.`;
}
