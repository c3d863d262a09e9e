import type { Command } from 'commander';
import type { StageSummary } from '../../metrics/stage-summary.js';
import { currentCohort } from '../../metrics/stage-summary.js';
import type { Mode } from '../../plans/plan-schema.js';
import { type ChangeView, type ControllerApi, ControllerApiError } from '../../client/controller-api.js';
import { clientFor, segment } from '../command-context.js';
import { statusDetail, statusOverview, type UseCaseDetail, type UseCaseStatus } from '../status-view.js';
import type { TransitionRow } from '../transitions-view.js';
import { print, printJson } from '../terminal-output.js';

/** The stage changes `status USE_CASE` shows (the newest), with who asked and who approved each. */
const LATEST_TRANSITIONS = 3;

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "stage, samples, agreement and its lower bound, gate verdict and what holds it back, cost per decision, the gate's warnings, changes pending approval",
    )
    .argument(
      '[useCase]',
      'one use case: also its gate criteria, the evidence per label, error cost and coverage, every cohort, its pending changes and its latest stage changes with who approved them',
    )
    .option('--json', 'print the API JSON (GET /v1/use-cases/:id; for all, {useCases: [...]})')
    .action(async (useCase: string | undefined, options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      if (useCase) {
        const detail = await client.getJson<UseCaseDetail>(`/v1/use-cases/${segment(useCase)}`);
        if (options.json) return printJson(detail);
        const [item, pending, transitions] = await Promise.all([
          withGateCohort(client, detail),
          pendingChanges(client, useCase),
          client.getJson<{ transitions: TransitionRow[] }>(`/v1/use-cases/${segment(useCase)}/transitions`),
        ]);
        print(
          statusDetail({
            ...item,
            pending,
            latestTransitions: transitions.transitions.slice(-LATEST_TRANSITIONS),
          }),
        );
        return;
      }
      const { useCases } = await client.getJson<{ useCases: Array<{ id: string }> }>('/v1/use-cases');
      const details = await Promise.all(
        useCases.map((u) => client.getJson<UseCaseDetail>(`/v1/use-cases/${segment(u.id)}`)),
      );
      if (options.json) return printJson({ useCases: details });
      if (details.length === 0)
        return print('no use cases yet: apply a rollout plan (shadowgate plan apply FILE)');
      const [items, pending] = await Promise.all([
        Promise.all(details.map((d) => withGateCohort(client, d))),
        pendingChanges(client),
      ]);
      print(
        statusOverview(
          items.map((item) => ({ ...item, pending: pending.filter((c) => c.useCase === item.detail.id) })),
        ),
      );
    });
}

/** The cohort the gate counts: the current stage since it was entered, under the current AI configuration. */
async function withGateCohort(client: ControllerApi, detail: UseCaseDetail): Promise<UseCaseStatus> {
  const { stages } = await client.getJson<{ stages: StageSummary[] }>(
    `/v1/use-cases/${segment(detail.id)}/metrics`,
    { stage: detail.stage, from: detail.stageEnteredAt },
  );
  return { detail, cohort: currentCohort(stages, detail.stage as Mode, detail.aiConfig) };
}

/**
 * Changes waiting for approval (of one use case, or every one in the key's scope; at most the
 * API's 200); none from a controller before change control (404 on the route).
 */
async function pendingChanges(client: ControllerApi, useCase?: string): Promise<ChangeView[]> {
  try {
    return await client.listChanges({ useCase, state: 'pending', limit: 200 });
  } catch (error) {
    if (error instanceof ControllerApiError && error.status === 404) return [];
    throw error;
  }
}
