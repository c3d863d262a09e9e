import type { ControllerApi } from '../../src/client/controller-api.js';
import type { SimulatedAiSystem } from '../simulation/simulated-ai-system.js';
import type { CaseResult, Checks } from './fault-case.js';
import type { FaultDatabase } from './fault-database.js';
import type { SdkHandle } from './fault-stack.js';
import { type Ledger, readLedger, repeatedTransitions } from './ledger.js';
import type { TrafficDriver } from './traffic.js';
import { useCaseView } from './use-case-view.js';

export interface TallyInput {
  name: string;
  /** Date.now() when the case started. */
  startedAt: number;
  traffic: TrafficDriver;
  db: FaultDatabase;
  admin: ControllerApi;
  useCases: string[];
  sims: SimulatedAiSystem[];
  sdks: SdkHandle[];
  checks: Checks;
  facts: string[];
  /** Repeated AI calls the fault may cause (a call in flight when a process died, a retried failure). */
  repeatsAllowed: number | ((ledger: Ledger) => number);
  /** Request ids sent besides the SDK's traffic (e.g. posted to the API directly). */
  alsoSent?: string[];
  /** Every decision was mirrored in shadow, so each owes an AI call. */
  everyDecisionOwesACall: boolean;
}

/**
 * The checks every case makes once the system has settled: every decided request stored
 * once with its human side, nothing the workflow did not send, nothing owed, the SDKs
 * dropped and failed nothing, and the controller's own metrics agree with the rows.
 */
export async function tally(input: TallyInput): Promise<{ result: CaseResult; ledger: Ledger }> {
  const { traffic, checks, useCases } = input;
  const decided = [...traffic.records.map((r) => r.requestId), ...(input.alsoSent ?? [])];
  const ledger = await readLedger(input.db.sql, useCases, decided);
  const transitionsTwice = await repeatedTransitions(input.db.sql);
  const repeats = input.sims.reduce((sum, sim) => sum + sim.stats().duplicateCalls, 0);

  checks.equal(
    traffic.thrown.length,
    0,
    `decide calls that threw (${traffic.thrown.slice(0, 3).join('; ')})`,
  );
  checks.equal(ledger.missing.length, 0, `decisions lost (e.g. ${ledger.missing.slice(0, 5).join(', ')})`);
  checks.equal(ledger.doubleStored, 0, 'request ids stored twice');
  checks.equal(transitionsTwice, 0, 'stage versions recorded twice');
  checks.equal(ledger.unexpected, 0, 'rows the workflow never sent');
  checks.equal(ledger.owed, 0, 'AI calls still owed');
  checks.equal(ledger.uncompared, 0, 'answered decisions without a comparison');
  if (input.everyDecisionOwesACall) {
    checks.equal(ledger.aiDone + ledger.aiErrors, ledger.rows, 'AI calls ended (one per mirrored decision)');
  }
  const allowed =
    typeof input.repeatsAllowed === 'number' ? input.repeatsAllowed : input.repeatsAllowed(ledger);
  checks.atMost(repeats, allowed, 'repeated AI calls');
  input.sdks.forEach((handle, i) => {
    const stats = handle.sdk.stats();
    checks.equal(stats.dropped, 0, `SDK ${i + 1}: items dropped`);
    checks.equal(stats.failed, 0, `SDK ${i + 1}: items refused for good`);
    checks.equal(stats.buffered, 0, `SDK ${i + 1}: items still buffered`);
  });

  // What the controller reports must be what the rows say: nothing counted twice on the way.
  let apiDecisions = 0;
  let apiSamples = 0;
  let apiAiCalls = 0;
  for (const id of useCases) {
    const view = await useCaseView(input.admin, id);
    for (const stage of view.metrics.stages) {
      apiDecisions += stage.decisions;
      apiSamples += stage.samples;
      for (const cohort of stage.cohorts) apiAiCalls += cohort.aiCalls;
    }
  }
  checks.equal(apiDecisions, ledger.rows, 'decisions in GET /v1/use-cases/:id against rows');
  checks.equal(apiSamples, ledger.compared, 'samples in GET /v1/use-cases/:id against compared rows');
  checks.equal(apiAiCalls, ledger.aiDone + ledger.aiErrors, 'AI calls in GET /v1/use-cases/:id against rows');

  const retries = input.sdks.reduce((sum, h) => sum + h.retries, 0);
  const reasons = new Map<string, number>();
  for (const h of input.sdks) for (const [r, n] of h.retryReasons) reasons.set(r, (reasons.get(r) ?? 0) + n);
  if (retries > 0) {
    input.facts.push(
      `SDK resent ${retries} items (${[...reasons].map(([r, n]) => `${r} ×${n}`).join(', ')})`,
    );
  }

  return {
    ledger,
    result: {
      name: input.name,
      sent: decided.length,
      stored: ledger.stored,
      lost: ledger.missing.length,
      doubleCounted: ledger.doubleStored + transitionsTwice,
      aiCompleted: ledger.aiDone + ledger.aiErrors,
      aiErrors: ledger.aiErrors,
      compared: ledger.compared,
      repeats,
      facts: input.facts,
      problems: checks.problems,
      seconds: (Date.now() - input.startedAt) / 1000,
    },
  };
}
