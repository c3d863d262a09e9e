import { type Command, Option } from 'commander';
import { MODES } from '../../plans/plan-schema.js';
import { ControllerApiError, type HeldChange, isHeld } from '../../client/controller-api.js';
import { clientFor, segment } from '../command-context.js';
import { reportHeld } from './change-commands.js';
import { promoteChallenger } from './challenger-commands.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type TransitionRow, transitionsTable } from '../transitions-view.js';
import { print, printJson } from '../terminal-output.js';

interface ReleaseOptions {
  reason: string;
  force?: boolean;
  challenger?: boolean;
  to?: string;
  json?: boolean;
}

/**
 * promote, rollback, disable, enable: each records a transition with the reason given. Under the
 * plan's `changeControl` promote, rollback and enable are held for approval (exit 7); disable,
 * the kill switch, never is.
 */
export function registerReleaseCommands(program: Command): void {
  const reason = () =>
    new Option(
      '--reason <text>',
      'why (recorded with the transition; at least 3 characters)',
    ).makeOptionMandatory();

  program
    .command('promote')
    .description(
      "move a use case to its plan's next stage when its gate is eligible; with --challenger, swap its challenger in",
    )
    .argument('<useCase>')
    .addOption(reason())
    .option('--force', 'promote even though the gate does not hold (recorded as forced)')
    .option(
      '--challenger',
      'swap the active challenger in as champion instead (the stage does not change; shadowgate challenger USE_CASE)',
    )
    .option('--json', 'print the transition (with --challenger: the champion and challengers) as JSON')
    .addHelpText(
      'after',
      '\nExit status 1 when the gate (with --challenger: a criterion of the challenger) does not hold, listing the criteria that do not; --force overrides. Exit status 7 when the plan asks for approvals (changeControl): the promotion is held as a change for release keys to approve.',
    )
    .action((useCase: string, options: ReleaseOptions, command: Command) =>
      options.challenger
        ? promoteChallenger(command, useCase, options)
        : release(
            command,
            useCase,
            'promote',
            { reason: options.reason, ...(options.force ? { force: true } : {}) },
            options,
          ),
    );

  program
    .command('rollback')
    .description("move a use case back (to the plan's rollbackTo, else the previous stage)")
    .argument('<useCase>')
    .addOption(reason())
    .addOption(
      new Option('--to <stage>', 'the stage to return to').choices(MODES.filter((m) => m !== 'disabled')),
    )
    .option('--json', 'print the transition as JSON')
    .action((useCase: string, options: ReleaseOptions, command: Command) =>
      release(
        command,
        useCase,
        'rollback',
        { reason: options.reason, ...(options.to ? { to: options.to } : {}) },
        options,
      ),
    );

  program
    .command('disable')
    .description('the kill switch: no AI calls and no AI decisions until enabled')
    .argument('<useCase>')
    .addOption(reason())
    .option('--json', 'print the transition as JSON')
    .action((useCase: string, options: ReleaseOptions, command: Command) =>
      release(command, useCase, 'disable', { reason: options.reason }, options),
    );

  program
    .command('enable')
    .description('undo disable: back to the stage the use case had')
    .argument('<useCase>')
    .addOption(reason())
    .option('--json', 'print the transition as JSON')
    .action((useCase: string, options: ReleaseOptions, command: Command) =>
      release(command, useCase, 'enable', { reason: options.reason }, options),
    );
}

async function release(
  command: Command,
  useCase: string,
  action: 'promote' | 'rollback' | 'disable' | 'enable',
  body: Record<string, unknown>,
  options: ReleaseOptions,
): Promise<void> {
  const client = clientFor(command);
  let answer: TransitionRow | HeldChange;
  try {
    answer = await client.postJson<TransitionRow | HeldChange>(
      `/v1/use-cases/${segment(useCase)}/${action}`,
      body,
    );
  } catch (error) {
    throw gateRefusal(error, action);
  }
  if (isHeld(answer)) return reportHeld(`${useCase}: ${action}`, answer, options.json);
  const transition = answer;
  if (options.json) return printJson(transition);
  const forced = transition.forced ? ' (forced)' : '';
  print(`${useCase}: ${transition.fromStage} → ${transition.toStage}${forced}`);
  print(transitionsTable([transition]));
}

/**
 * A promotion refused because the gate does not hold is a negative answer (exit 1), not a conflict:
 * the controller answers it with a 409 of its own code, `gate_not_eligible`, listing each criterion
 * that does not hold; its other 409s (disabled, no next stage, the stage changed meanwhile) do not.
 */
function gateRefusal(error: unknown, action: string): unknown {
  if (action === 'promote' && error instanceof ControllerApiError && error.code === 'gate_not_eligible') {
    return new CliError(error.apiMessage, EXIT.negative, error.problemLines);
  }
  return error;
}
