import type { ControllerApi } from '../../src/client/controller-api.js';

/** The parts of `GET /v1/use-cases/:id` the suite reads. */
export interface UseCaseView {
  id: string;
  stage: string;
  metrics: {
    stages: Array<{
      stage: string;
      decisions: number;
      samples: number;
      pendingHuman: number;
      pendingAi: number;
      cohorts: Array<{ aiCalls: number; aiErrors: number; aiErrorRate: number | null; samples: number }>;
    }>;
  };
}

export function useCaseView(api: ControllerApi, id: string): Promise<UseCaseView> {
  return api.getJson<UseCaseView>(`/v1/use-cases/${encodeURIComponent(id)}`);
}
