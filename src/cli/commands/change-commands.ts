import { type Command, Option } from 'commander';
import type { HeldChange } from '../../client/controller-api.js';
import { CHANGE_STATES, MAX_CHANGES_LISTED } from '../../contracts/change-contracts.js';
import { approvalText, changeDetailText, changesTable, heldLines } from '../changes-view.js';
import { clientFor } from '../command-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { print, printJson } from '../terminal-output.js';

/**
 * Change control (README "Change control"): `changes list|show|approve|reject`, and what every
 * command that may be held back does with a 202.
 */
export function registerChangeCommands(program: Command): void {
  const changes = program
    .command('changes')
    .description("changes held back for a release key's approval: list, show, approve, reject, withdraw");

  changes
    .command('list')
    .description(
      'changes newest first: kind, state, who asked, approvals so far of those required, expiry, why held',
    )
    .option('--use-case <id>', 'only this use case')
    .addOption(new Option('--state <state>', 'only changes in this state').choices(CHANGE_STATES))
    .addOption(
      new Option('--limit <n>', `at most this many (1 to ${MAX_CHANGES_LISTED})`)
        .argParser(limitOf)
        .default(50),
    )
    .option('--json', 'print the API JSON (GET /v1/changes)')
    .action(
      async (
        options: { useCase?: string; state?: (typeof CHANGE_STATES)[number]; limit: number; json?: boolean },
        command: Command,
      ) => {
        const list = await clientFor(command).listChanges({
          useCase: options.useCase,
          state: options.state,
          limit: options.limit,
        });
        if (options.json) return printJson({ changes: list });
        print(list.length === 0 ? 'no changes' : changesTable(list));
      },
    );

  changes
    .command('show')
    .description(
      'one change: why it is held, its approvals, the diff against the plan in force and what it does to the evidence',
    )
    .argument('<id>', 'the change id')
    .option('--json', 'print the API JSON (GET /v1/changes/:id)')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const detail = await clientFor(command).change(changeId(id));
      if (options.json) return printJson({ change: detail });
      print(changeDetailText(detail));
    });

  changes
    .command('approve')
    .description(
      'approve a change (a release or admin key other than the one that asked); the approval that completes the count applies it',
    )
    .argument('<id>', 'the change id')
    .addOption(reasonOption('why you approve it (recorded with the approval)'))
    .option('--json', 'print the API JSON ({change, applied})')
    .addHelpText(
      'after',
      '\nExit status 3 for the key that asked (self_approval) or a key that may not; 5 when this key approved it already, or the change is no longer pending (applied, rejected, stale, expired).',
    )
    .action(async (id: string, options: { reason: string; json?: boolean }, command: Command) => {
      const outcome = await clientFor(command).approveChange(changeId(id), options.reason);
      if (options.json) return printJson(outcome);
      print(approvalText(outcome));
    });

  changes
    .command('reject')
    .description('reject a pending change: it is never applied (the key that asked may withdraw its own)')
    .argument('<id>', 'the change id')
    .addOption(reasonOption('why you reject it (recorded with the rejection)'))
    .option('--json', 'print the API JSON ({change})')
    .action(async (id: string, options: { reason: string; json?: boolean }, command: Command) => {
      const change = await clientFor(command).rejectChange(changeId(id), options.reason);
      if (options.json) return printJson({ change });
      print(`change ${change.id} of ${change.useCase} rejected by ${change.decidedBy ?? 'this key'}`);
    });

  changes
    .command('withdraw')
    .description('take back a pending change this key requested (an owner key clears its own mistakes)')
    .argument('<id>', 'the change id')
    .addOption(reasonOption('why you take it back (recorded with the withdrawal)'))
    .option('--json', 'print the API JSON ({change})')
    .addHelpText('after', '\nExit status 3 when another key requested the change (not_requester).')
    .action(async (id: string, options: { reason: string; json?: boolean }, command: Command) => {
      const change = await clientFor(command).withdrawChange(changeId(id), options.reason);
      if (options.json) return printJson({ change });
      print(`change ${change.id} of ${change.useCase} withdrawn by ${change.decidedBy ?? 'this key'}`);
    });
}

function reasonOption(text: string): Option {
  return new Option('--reason <text>', `${text}; at least 3 characters`).makeOptionMandatory();
}

/** The controller checks the id too; a typo is a usage error before any request. */
function changeId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new CliError(`invalid change id "${text}": a positive whole number`, EXIT.usage);
  }
  return Number(text);
}

function limitOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CHANGES_LISTED) {
    throw new CliError(
      `--limit must be a whole number from 1 to ${MAX_CHANGES_LISTED}, got "${text}"`,
      EXIT.usage,
    );
  }
  return n;
}

/**
 * A command's answer when change control held it back (202): the change, why, the approvals it
 * needs and the command that approves it (or the JSON); the exit status is 7, since nothing was
 * applied.
 */
export function reportHeld(subject: string, held: HeldChange, json: boolean | undefined): void {
  if (json) printJson(held);
  else print(heldLines(subject, held).join('\n'));
  process.exitCode = EXIT.held;
}
