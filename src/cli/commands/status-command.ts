import type { Command } from 'commander';
import type { StageSummary } from '../../metrics/stage-summary.js';
import { currentCohort } from '../../metrics/stage-summary.js';
import type { Mode } from '../../plans/plan-schema.js';
import type { ControllerApi } from '../../client/controller-api.js';
import { clientFor, segment } from '../command-context.js';
import { statusDetail, statusOverview, type UseCaseDetail, type UseCaseStatus } from '../status-view.js';
import { print, printJson } from '../terminal-output.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "stage, samples, agreement and its lower bound, gate verdict and what holds it back, cost per decision, the gate's warnings",
    )
    .argument(
      '[useCase]',
      'one use case: also its gate criteria, the evidence per label, error cost and coverage, and every cohort',
    )
    .option('--json', 'print the API JSON (GET /v1/use-cases/:id; for all, {useCases: [...]})')
    .action(async (useCase: string | undefined, options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      if (useCase) {
        const detail = await client.getJson<UseCaseDetail>(`/v1/use-cases/${segment(useCase)}`);
        if (options.json) return printJson(detail);
        print(statusDetail(await withGateCohort(client, detail)));
        return;
      }
      const { useCases } = await client.getJson<{ useCases: Array<{ id: string }> }>('/v1/use-cases');
      const details = await Promise.all(
        useCases.map((u) => client.getJson<UseCaseDetail>(`/v1/use-cases/${segment(u.id)}`)),
      );
      if (options.json) return printJson({ useCases: details });
      if (details.length === 0)
        return print('no use cases yet: apply a rollout plan (shadowgate plan apply FILE)');
      print(statusOverview(await Promise.all(details.map((d) => withGateCohort(client, d)))));
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
