import { type Command, Option } from 'commander';
import { clientFor, segment } from '../command-context.js';
import type { JourneyView } from '../../promotion/journey-store.js';
import { journeyTable } from '../journey-view.js';
import { type TransitionRow, transitionsTable } from '../transitions-view.js';
import { print, printJson } from '../terminal-output.js';

/** transitions, journey and report: the audit trail, the journey and the evidence report of one use case. */
export function registerReadCommands(program: Command): void {
  program
    .command('transitions')
    .description('every stage change of a use case with actor, reason, forced, plan and model version')
    .argument('<useCase>')
    .option('--json', 'print the API JSON (with each transition’s evidence snapshot)')
    .action(async (useCase: string, options: { json?: boolean }, command: Command) => {
      const body = await clientFor(command).getJson<{ useCase: string; transitions: TransitionRow[] }>(
        `/v1/use-cases/${segment(useCase)}/transitions`,
      );
      if (options.json) return printJson(body);
      print(
        body.transitions.length === 0 ? `${useCase}: no transitions` : transitionsTable(body.transitions),
      );
    });

  program
    .command('journey')
    .description(
      'each stage visit of a use case with who moved it and why, and what the last tick of each visit judged it on',
    )
    .argument('<useCase>')
    .option('--json', 'print the API JSON (with every point the ticks kept)')
    .action(async (useCase: string, options: { json?: boolean }, command: Command) => {
      const body = await clientFor(command).getJson<JourneyView>(`/v1/use-cases/${segment(useCase)}/journey`);
      if (options.json) return printJson(body);
      print(body.visits.length === 0 ? `${useCase}: no stage visits` : journeyTable(body));
    });

  program
    .command('report')
    .description('the evidence report of a use case, for a governance review')
    .argument('<useCase>')
    .addOption(
      new Option('--format <format>', 'Markdown or JSON').choices(['md', 'markdown', 'json']).default('md'),
    )
    .option('--json', 'the same as --format json')
    .action(
      async (
        useCase: string,
        options: { format: 'md' | 'markdown' | 'json'; json?: boolean },
        command: Command,
      ) => {
        const client = clientFor(command);
        const path = `/v1/use-cases/${segment(useCase)}/report`;
        if (options.json || options.format === 'json') {
          printJson(await client.getJson<unknown>(path, { format: 'json' }));
          return;
        }
        print(await client.getText(path, { format: 'markdown' }, 'text/markdown'));
      },
    );
}
