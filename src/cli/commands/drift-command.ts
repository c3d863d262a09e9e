import type { Command } from 'commander';
import { clientFor, segment } from '../command-context.js';
import { type DriftResponse, driftText } from '../drift-view.js';
import { print, printJson } from '../terminal-output.js';

/** `drift USE_CASE` (README "Drift"): the current window against the reference, and the guards. */
export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description(
      'the reference against the current window per field (PSI, JS distance, unseen share; numeric: KS, Wasserstein/IQR), the override and escalation rates, and whether each drift guard would trip',
    )
    .argument('<useCase>')
    .option('--json', 'print the API JSON (GET /v1/use-cases/:id/drift)')
    .action(async (useCase: string, options: { json?: boolean }, command: Command) => {
      const body = await clientFor(command).getJson<DriftResponse>(`/v1/use-cases/${segment(useCase)}/drift`);
      if (options.json) return printJson(body);
      print(driftText(useCase, body));
    });
}
