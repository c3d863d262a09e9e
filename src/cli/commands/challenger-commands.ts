import { type Command, Option } from 'commander';
import { ControllerApiError, type HeldChange, isHeld } from '../../client/controller-api.js';
import { type ChallengerView, challengerText } from '../challenger-view.js';
import { clientFor, segment } from '../command-context.js';
import { reportHeld } from './change-commands.js';
import { CliError, EXIT } from '../exit-codes.js';
import { print, printJson } from '../terminal-output.js';

/**
 * Champion and challenger (README): `challenger` shows them, `discard` drops the active challenger;
 * `promote --challenger` (registered with promote) swaps it in.
 */
export function registerChallengerCommands(program: Command): void {
  program
    .command('challenger')
    .description(
      'the champion, the active challenger (its verdict, criteria, paired comparison with the champion, cohort) and earlier challengers',
    )
    .argument('<useCase>')
    .option('--json', 'print the API JSON (GET /v1/use-cases/:id/challenger)')
    .action(async (useCase: string, options: { json?: boolean }, command: Command) => {
      const view = await clientFor(command).getJson<ChallengerView>(challengerPath(useCase));
      if (options.json) return printJson(view);
      print(challengerText(useCase, view));
    });

  program
    .command('discard')
    .description("discard a use case's challenger: the champion's plan version is applied again as a new one")
    .argument('<useCase>')
    .addOption(
      new Option(
        '--reason <text>',
        'why (recorded with the discard; at least 3 characters)',
      ).makeOptionMandatory(),
    )
    .option('--json', 'print the API JSON (the champion and the challengers after the discard)')
    .addHelpText('after', '\nExit status 5 when the use case has no challenger.')
    .action(async (useCase: string, options: { reason: string; json?: boolean }, command: Command) => {
      const view = await clientFor(command).postJson<ChallengerView>(`${challengerPath(useCase)}/discard`, {
        reason: options.reason,
      });
      if (options.json) return printJson(view);
      const ended = view.history.find((h) => h.state === 'discarded');
      const which = ended ? ` (plan version ${ended.planVersion})` : '';
      print(
        `${useCase}: challenger${which} discarded; plan version ${view.champion.planVersion} applies the champion's AI configuration ${view.champion.aiConfig}`,
      );
    });
}

/**
 * `promote USE_CASE --challenger`: swaps the challenger in; a refusal listing criteria exits 1, a
 * swap held for approval (the plan's `changeControl`) exits 7.
 */
export async function promoteChallenger(
  command: Command,
  useCase: string,
  options: { reason: string; force?: boolean; json?: boolean },
): Promise<void> {
  let view: ChallengerView | HeldChange;
  try {
    view = await clientFor(command).postJson<ChallengerView | HeldChange>(
      `${challengerPath(useCase)}/promote`,
      {
        reason: options.reason,
        ...(options.force ? { force: true } : {}),
      },
    );
  } catch (error) {
    // As a stage promotion's gate_not_eligible: a negative answer, not a conflict.
    if (error instanceof ControllerApiError && error.code === 'challenger_not_eligible') {
      throw new CliError(error.apiMessage, EXIT.negative, error.problemLines);
    }
    throw error;
  }
  if (isHeld(view)) return reportHeld(`${useCase}: challenger promotion`, view, options.json);
  if (options.json) return printJson(view);
  const promoted = view.history.find((h) => h.state === 'promoted');
  print(
    `${useCase}: challenger${promoted ? ` (plan version ${promoted.planVersion})` : ''} promoted; the champion is now plan version ${view.champion.planVersion}, AI configuration ${view.champion.aiConfig}`,
  );
}

function challengerPath(useCase: string): string {
  return `/v1/use-cases/${segment(useCase)}/challenger`;
}
