import type { Mode } from '@shadowgate/sdk';
import type { z } from 'zod';
import { count, decimal, duration, percent } from '../../src/format/figures.js';
import type { driftResponseSchema } from '../../src/http/routes/drift-routes.js';
import { driftVerdict } from '../../src/statistics/drift.js';
import { makeInvoice } from '../simulation/reference-labeler.js';
import { stableUnit } from '../simulation/stable-hash.js';
import type { DemoOptions } from './demo-options.js';
import { DEMO_CLERK_MS, DEMO_SET_ASIDE_RATE, type DemoService, startDemoService } from './demo-service.js';
import type { DemoStage } from './demo-setup.js';
import { seeMode } from './journey-act.js';
import { type GuardEvidence, guardCheckLines, type TransitionLine } from './journey-report.js';
import { stageSummaries } from './journey-traffic.js';
import type { SimulatedClock } from './simulated-clock.js';
import { type Answered, clerkDecidesLater } from './simulated-workflow.js';
import { type Cleanup, say, step } from './steps.js';
import { textTable } from './text-table.js';

/**
 * `npm run demo -- --drift` (README "Drift"): the use case is earned on one region mix and then
 * sees another. Shadow on EU/US/APAC 60/30/10; a release manager moves it to human-reviewed, whose
 * drift reference is shadow's window; stable traffic there keeps the drift guard quiet; then the
 * mix shifts to 10/30/60 and the guard (`driftAbove: {psi: 0.25, fields: [region]}`) trips at a
 * tick within one window and rolls the use case back to shadow. The drift view's figures as the
 * tick judged them, and the transition with its evidence, are printed; the dashboard shows the same.
 */

export type DriftBody = z.infer<typeof driftResponseSchema>;
type Mix = ReadonlyArray<readonly [string, number]>;

/** The region mix the stage is earned on, and the one it then sees (issue 16's shift). */
export const REGIONS_BEFORE: Mix = [
  ['EU', 0.6],
  ['US', 0.3],
  ['APAC', 0.1],
];
export const REGIONS_AFTER: Mix = [
  ['EU', 0.1],
  ['US', 0.3],
  ['APAC', 0.6],
];
/** Invoices in shadow (the reference), in rounds of SHADOW_ROUND. */
const SHADOW_INVOICES = 600;
const SHADOW_ROUND = 200;
/** Stable invoices in human-reviewed, then shifted ones at most (one window), a tick after each round. */
const STABLE_INVOICES = 400;
const GUARDED_ROUND = 100;
/** How long the owed human decisions and AI answers may stay unchanged before the demo goes on. */
const PENDING_STALL_MS = 20_000;
/** The PSI a field not named by a guard is called drifted above in the printed table (README: a major shift). */
export const MAJOR_SHIFT_PSI = 0.25;

export interface DriftResult {
  service: DemoService;
  /** Invoice numbers sent, in order; and those sent while the use case was in shadow. */
  sent: number[];
  shadowInvoices: number[];
  /** The drift view the tripping tick judged (read just before it), or null when no guard tripped. */
  judged: DriftBody | null;
  /** Shifted invoices sent when the guard tripped, or null. */
  trippedAfter: number | null;
  stoppedShort: string | null;
}

/** Draws a value of `mix` for the k-th invoice (a hash: the same in every run). */
function draw(k: number, mix: Mix): string {
  const u = stableUnit('demo-drift-region', k);
  let cum = 0;
  for (const [value, share] of mix) {
    cum += share;
    if (u < cum) return value;
  }
  return mix[mix.length - 1]![0];
}

/** The synthetic invoices by region, each handed out once, in order of their numbers. */
class RegionPools {
  private scanned = 0;
  private readonly queues = new Map<string, number[]>();

  take(region: string): number {
    const queue = this.queues.get(region) ?? [];
    this.queues.set(region, queue);
    while (queue.length === 0) {
      if (this.scanned > 1_000_000) throw new Error(`no synthetic invoice from region ${region}`);
      const i = this.scanned++;
      const r = makeInvoice(i).context.region;
      if (r === region) queue.push(i);
      else {
        const other = this.queues.get(r) ?? [];
        other.push(i);
        this.queues.set(r, other);
      }
    }
    return queue.shift()!;
  }
}

export const mixText = (mix: Mix) => mix.map(([v, s]) => `${v} ${percent(s, 0)}`).join(' · ');

/** A field's values as shares, largest first: "EU 61% · US 29% · APAC 10%". */
function sharesText(values: DriftBody['fields'][number]['values'], side: 'reference' | 'current'): string {
  const share = side === 'reference' ? 'referenceShare' : 'currentShare';
  const shown = [...values].filter((v) => v[side] > 0).sort((a, b) => b[share] - a[share]);
  if (shown.length === 0) return '-';
  const head = shown.slice(0, 4).map((v) => `${v.value} ${percent(v[share], 0)}`);
  return shown.length > 4 ? `${head.join(' · ')} · …` : head.join(' · ');
}

/**
 * A field's verdict as the guards judge theirs (and the dashboard shows it): insufficient until the
 * window holds minWindow observations of it, then drifted above the stage's driftAbove PSI (a major
 * shift when it has none).
 */
export function fieldVerdict(body: DriftBody, f: DriftBody['fields'][number]): string {
  if (f.psi === null) return 'insufficient';
  const psi = body.guards.find((g) => g.guard === 'driftAbove')?.threshold ?? MAJOR_SHIFT_PSI;
  return driftVerdict(
    { psi: f.psi, referenceTotal: f.referenceTotal, currentTotal: f.currentTotal },
    { psi },
    body.minWindow,
  ).status;
}

/** The drift view as a table: field, reference, current, PSI, the other measures, verdict; most moved first. */
export function driftTable(body: DriftBody): string[] {
  const fields = body.fields
    .filter((f) => f.referenceTotal > 0 || f.currentTotal > 0)
    .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
  return textTable(
    ['field', 'reference', 'current', 'PSI', 'JS / KS', 'verdict'],
    fields.map((f) => [
      f.field,
      f.type === 'categorical' ? sharesText(f.values, 'reference') : `${count(f.referenceTotal)} values`,
      f.type === 'categorical' ? sharesText(f.values, 'current') : `${count(f.currentTotal)} values`,
      decimal(f.psi),
      f.type === 'categorical' ? `JS ${decimal(f.jsDistance)}` : `KS ${decimal(f.ks)}`,
      fieldVerdict(body, f),
    ]),
  );
}

export async function driftAct(
  opts: DemoOptions,
  stage: DemoStage,
  clock: SimulatedClock,
  tickMs: number,
  cleanup: Cleanup,
  out: (text?: string) => void,
): Promise<DriftResult> {
  const { keys, labels, embedded } = stage;
  const plan = stage.applied.plan;
  const { useCase } = plan;
  const hr = plan.stages['human-reviewed'];
  const guard = hr?.rollbackWhen?.driftAbove;
  if (!guard) throw new Error('the drift demo plan must have a driftAbove guard in human-reviewed');
  const watched = guard.fields[0]!;
  const windowSize = plan.drift.window;
  // After the rollback the mix stays shifted: a full window for shadow's drift view (and the dashboard).
  const afterRollback = plan.drift.minWindow;
  if (typeof windowSize !== 'number')
    throw new Error('the drift demo plan must have a drift.window of decisions');

  const service = await step('could not start the example service', () =>
    startDemoService({
      controllerUrl: embedded.url,
      apiKey: keys.service.target.key,
      useCase,
      labels,
      batch: opts.batch,
      rememberAnswers: SHADOW_INVOICES + STABLE_INVOICES + 2 * windowSize + afterRollback,
      refreshIntervalMs: 1_000,
    }),
  );
  cleanup.add(service.stop);
  out(
    say(
      'example service',
      `the app of scripts/example-workflow-service.ts, in this process on ${service.url}; its SDK reads`,
      `the flags from the controller's /api each second (ingest key): ${useCase} is in ${service.mode}.`,
      `Its simulated clerks decide most invoices at once (in ${DEMO_CLERK_MS} ms) and set about ${percent(DEMO_SET_ASIDE_RATE, 0)} aside for later`,
    ),
  );
  out(
    say(
      'simulated workflow',
      `picks each synthetic invoice by region from a mix it draws per invoice (a hash: the same every run): ${mixText(REGIONS_BEFORE)}`,
    ),
  );
  out(
    say(
      'demo clock',
      `the controller's tick (gates, guards) runs when the demo says so, after each round of ${GUARDED_ROUND} in human-reviewed;`,
      `the demo's clock is the host's, moved on by the tick interval (${duration(tickMs)}) at each tick, so each has a slot of its own`,
    ),
  );
  out();

  const pools = new RegionPools();
  const result: DriftResult = {
    service,
    sent: [],
    shadowInvoices: [],
    judged: null,
    trippedAfter: null,
    stoppedShort: null,
  };
  let drawn = 0;
  const suggestions = { suggested: 0, overridden: 0 };
  const round = async (n: number, mix: Mix, inShadow: boolean) => {
    const numbers = Array.from({ length: n }, () => pools.take(draw(drawn++, mix)));
    await step('the simulated workflow failed', () =>
      sendInvoices(service, labels, numbers, opts.concurrency, suggestions),
    );
    result.sent.push(...numbers);
    if (inShadow) result.shadowInvoices.push(...numbers);
    await step('the controller did not settle', () => settle(stage, service, result.sent.length, out));
  };
  const readDrift = () =>
    step('could not read the drift view', () =>
      keys.viewer.getJson<DriftBody>(`/v1/use-cases/${useCase}/drift`),
    );
  const tick = async () => {
    clock.advance(tickMs);
    return step('the tick failed', () => embedded.controller.engine.tick(clock.now()));
  };
  const field = (body: DriftBody) => body.fields.find((f) => f.field === watched);
  const driftGuard = (body: DriftBody) => body.guards.find((g) => g.guard === 'driftAbove');

  // 1. Shadow: the evidence the stage is earned on, on the first mix.
  out(
    say(
      'phase 1 · shadow',
      `people decide every invoice, the AI is measured on the side; ${count(SHADOW_INVOICES)} invoices on the mix ${mixText(REGIONS_BEFORE)}`,
    ),
  );
  for (let sent = 0; sent < SHADOW_INVOICES; sent += SHADOW_ROUND) {
    await round(Math.min(SHADOW_ROUND, SHADOW_INVOICES - sent), REGIONS_BEFORE, true);
  }
  const shadowSummary = (await stageSummaries(stage)).find((s) => s.stage === 'shadow');
  const shadowAgreement = shadowSummary?.cohorts.at(-1)?.agreement;
  const shadowDisagreement =
    shadowAgreement === null || shadowAgreement === undefined ? null : 1 - shadowAgreement;
  out(
    say(
      'controller',
      `shadow: ${count(SHADOW_INVOICES)} invoices · ${count(shadowSummary?.samples ?? 0)} compared · agreement ${percent(shadowAgreement, 2)}`,
    ),
  );

  // 2. Human-reviewed: forced (the gate's week is not what this act is about), its reference taken.
  const reason = 'demo: the drift act starts from human-reviewed without the week its gate asks for';
  await step('could not promote the use case', () =>
    keys.release.postJson(`/v1/use-cases/${useCase}/promote`, { reason, force: true }),
  );
  out(
    say(
      'release manager',
      `promoted ${useCase} to human-reviewed with force and a reason (the gate asks for a week of evidence;`,
      'a forced move is recorded as such): the clerks now get the AI’s suggestions',
    ),
  );
  await seeMode(service, useCase, 'human-reviewed', out);
  const entered = await readDrift();
  const refField = field(entered);
  out(
    say(
      'controller',
      `took human-reviewed's drift reference when the stage moved (${entered.reference.reason}):`,
      `${count(entered.reference.window.decisions)} decisions; ${watched} ${refField ? sharesText(refField.values, 'reference') : '-'}.`,
      `Its guard: driftAbove ${watched} PSI > ${guard.psi} over drift.window (${count(Number(entered.window))} decisions; it judges once ${count(entered.minWindow)} are in it).`,
      'Counts are kept per hour, so the window is the whole hours holding that many: this run fits in an hour or',
      'two, so the window holds every invoice since the promotion, and a shift shows diluted by what came before it',
    ),
  );
  out();

  const report = (what: string, body: DriftBody, tripped: boolean) => {
    const f = field(body);
    const g = driftGuard(body);
    out(
      say(
        'controller',
        `${what}: window ${count(body.current.decisions)} decisions · ${watched} ${f ? sharesText(f.values, 'current') : '-'} · PSI ${decimal(f?.psi)}` +
          ` · guard ${g?.status ?? '-'} · tick: ${tripped ? 'the guard TRIPPED' : 'the guard holds'}`,
      ),
    );
  };

  out(
    say(
      'phase 2 · stable',
      `human-reviewed on the same mix (${mixText(REGIONS_BEFORE)}): ${count(STABLE_INVOICES)} invoices, the tick after each ${GUARDED_ROUND}`,
    ),
  );
  const trips = (r: Awaited<ReturnType<typeof tick>>) =>
    r.guardTrips.includes(useCase) || r.rolledBack.includes(useCase) || r.disabled.includes(useCase);
  for (let sent = 0; sent < STABLE_INVOICES; sent += GUARDED_ROUND) {
    await round(GUARDED_ROUND, REGIONS_BEFORE, false);
    const body = await readDrift();
    const tripped = trips(await tick());
    report(`${count(sent + GUARDED_ROUND)} stable`, body, tripped);
    if (tripped) {
      result.stoppedShort = 'the drift guard tripped on stable traffic';
      out(say('demo', `the act stops here: ${result.stoppedShort}`));
      return result;
    }
  }
  out(
    say(
      'simulated clerks',
      `had ${count(suggestions.suggested)} suggestions and overrode ${count(suggestions.overridden)} (${percent(suggestions.overridden / Math.max(1, suggestions.suggested), 1)}); in shadow they disagreed`,
      `with the AI on ${percent(shadowDisagreement, 1)} of the invoices compared. No tick tripped a guard: the agreement guard`,
      `(under ${percent(hr?.rollbackWhen?.agreementBelow, 0)} over the last ${count(hr?.rollbackWhen?.window ?? 0)} compared) holds, and the region mix is the one the stage was earned on`,
    ),
  );
  out();

  // 3. The mix shifts: the guard trips at a tick within one window.
  out(
    say(
      'phase 3 · the mix shifts',
      `the region mix moves from ${mixText(REGIONS_BEFORE)} to ${mixText(REGIONS_AFTER)} (a new market's invoices,`,
      'say); the AI agrees as often as before, so the agreement guard sees nothing. Invoices keep coming',
    ),
  );
  const limit = windowSize;
  for (let shifted = 0; shifted < limit; ) {
    await round(GUARDED_ROUND, REGIONS_AFTER, false);
    shifted += GUARDED_ROUND;
    // What the tick is about to judge: no invoice is sent between this read and the tick.
    const body = await readDrift();
    const tripped = trips(await tick());
    report(`${count(shifted)} shifted`, body, tripped);
    if (tripped) {
      result.judged = body;
      result.trippedAfter = shifted;
      break;
    }
  }
  if (result.judged === null) {
    result.stoppedShort = `the drift guard did not trip within ${count(limit)} shifted invoices (one window)`;
    out(say('demo', `the act stops here: ${result.stoppedShort}`));
    return result;
  }
  out();
  out(
    `The drift view the tick judged (GET /v1/use-cases/:id/drift, read just before it), ${count(result.trippedAfter)} invoices after the shift:`,
  );
  out(
    `  reference: ${count(result.judged.reference.window.decisions)} decisions of shadow; current window: ${count(result.judged.current.decisions)} of human-reviewed (minWindow ${count(result.judged.minWindow)})`,
  );
  out();
  for (const line of driftTable(result.judged)) out(line);
  out(
    `  PSI: population stability index (add-½ smoothed); JS: Jensen–Shannon distance; KS: Kolmogorov–Smirnov. verdict: drifted`,
  );
  out(
    `  above the guard's PSI ${guard.psi} (it watches ${guard.fields.join(', ')}); insufficient under minWindow.`,
  );
  const latency = result.judged.fields.find((f) => f.field === 'aiLatency');
  if (latency && fieldVerdict(result.judged, latency) === 'drifted') {
    out(
      '  aiLatency moved too: in human-reviewed the AI is asked live, as each invoice comes (32 at a time), in the',
    );
    out(
      "  one process that also runs the controller and the service, so its answers are timed longer than shadow's",
    );
    out('  mirrored calls; no guard watches it here.');
  }
  const o = result.judged.overrideRate;
  out(
    `  override rate ${percent(o.current, 1)} of ${count(o.samples)} suggestions (reference, shadow's disagreements: ${percent(o.reference, 1)} of ${count(o.referenceSamples)})`,
  );
  out();

  const { transitions } = await keys.viewer.getJson<{ transitions: TransitionLine[] }>(
    `/v1/use-cases/${useCase}/transitions`,
  );
  const trip = [...transitions]
    .sort((a, b) => b.stageVersion - a.stageVersion)
    .find((t) => t.fromStage === 'human-reviewed' && t.actor === 'system');
  out(
    say(
      'controller',
      `moved ${useCase} ${trip?.fromStage} → ${trip?.toStage}; actor ${trip?.actor}, reason: ${trip?.reason}`,
      'the evidence kept with the transition (its guard checks):',
      ...guardCheckLines((trip?.snapshot as { guard?: GuardEvidence } | undefined)?.guard),
    ),
  );
  if (trip?.toStage) await seeMode(service, useCase, trip.toStage as Mode, out);
  out();

  // 4. After the rollback: the mix stays shifted; people decide again, the AI is measured.
  out(
    say(
      'phase 4 · back in shadow',
      `${count(afterRollback)} more invoices on the shifted mix: the clerks decide them all and the AI is measured again, on the`,
      'traffic it now sees, before anyone promotes it a second time',
    ),
  );
  await round(afterRollback, REGIONS_AFTER, true);
  const after = await readDrift();
  const afterField = field(after);
  out(
    say(
      'controller',
      `shadow's drift view now: its reference is the window of the visit before (${count(after.reference.window.decisions)} decisions of`,
      `human-reviewed, the shift partly in it), its current window the ${count(after.current.decisions)} invoices since the rollback:`,
      `${watched} ${afterField ? sharesText(afterField.values, 'current') : '-'}, PSI ${decimal(afterField?.psi)}; shadow has no drift guard, so nothing trips`,
    ),
  );
  out();
  return result;
}

/** Sends the invoices numbered `numbers` to the service, `concurrency` at a time; the clerk decides those set aside. */
async function sendInvoices(
  service: DemoService,
  labels: string[],
  numbers: readonly number[],
  concurrency: number,
  suggestions: { suggested: number; overridden: number },
): Promise<void> {
  const setAsideAt = new Map<number, number>();
  const answers = new Map<number, string>();
  let next = 0;
  const worker = async () => {
    while (next < numbers.length) {
      const i = numbers[next++]!;
      const response = await fetch(`${service.url}/invoices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(makeInvoice(i)),
      });
      const text = await response.text();
      const body = (text === '' ? {} : JSON.parse(text)) as {
        decision?: string;
        suggestion?: string;
        message?: string;
      };
      if (response.status === 202) setAsideAt.set(i, Date.now());
      else if (response.status === 200) {
        answers.set(i, String(body.decision));
        if (body.suggestion !== undefined) {
          suggestions.suggested++;
          if (body.suggestion !== body.decision) suggestions.overridden++;
        }
      } else throw new Error(`POST /invoices → ${response.status}: ${body.message ?? text}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, worker));
  const decided = new Map<number, Answered>();
  await clerkDecidesLater(
    { serviceUrl: service.url, labels, decisions: numbers.length, concurrency },
    setAsideAt,
    answers,
    8,
    decided,
  );
  for (const a of decided.values()) {
    if (a.suggestion === undefined) continue;
    suggestions.suggested++;
    if (a.suggestion !== a.decision) suggestions.overridden++;
  }
}

/**
 * Until the controller holds a decision for every invoice sent, then until it owes no human
 * decision and no AI call but for those the simulated AI fails on every attempt (the controller
 * retries them on its own schedule): what the next tick judges. The region a drift guard watches is
 * counted when a decision is stored, so what is still owed after it has stopped moving for a while
 * (a loaded machine: a suggestion the SDK stopped waiting for, say) is said, not waited on.
 */
async function settle(
  stage: DemoStage,
  service: DemoService,
  sent: number,
  out: (text?: string) => void,
): Promise<void> {
  let last = '';
  let movedAt = Date.now();
  for (;;) {
    await service.sg.flush(10_000);
    const stages = await stageSummaries(stage);
    const decisions = stages.reduce((n, s) => n + s.decisions, 0);
    const pendingAi = stages.reduce((n, s) => n + s.pendingAi, 0);
    const pendingHuman = stages.reduce((n, s) => n + s.pendingHuman, 0);
    const failing = Object.values(stage.sim.stats().byRequest).filter((r) => r.decision === null).length;
    const pending = Math.max(0, pendingAi - failing) + pendingHuman;
    if (decisions >= sent && pending === 0) return;
    // A loaded machine is slow, not stuck: nothing (not even an AI call, a retry included) moves.
    const now = `${decisions}/${pendingAi}/${pendingHuman}/${stage.sim.stats().calls}`;
    if (now !== last) {
      last = now;
      movedAt = Date.now();
    } else if (decisions >= sent && Date.now() - movedAt > PENDING_STALL_MS) {
      out(
        say(
          'controller',
          `holds all ${count(sent)} decisions; ${count(pendingHuman)} still without the clerk's decision and ${count(Math.max(0, pendingAi - failing))} without`,
          `the AI's answer after ${PENDING_STALL_MS / 1000} s without change (the SDK's counters at the end say what it did not deliver);`,
          'the demo goes on: the region is counted as each decision is stored',
        ),
      );
      return;
    } else if (Date.now() - movedAt > 120_000) {
      throw new Error(
        `the controller holds ${decisions} of ${sent} decisions, ${pending} still wait for the AI or a person (AI ${pendingAi}, of which the simulation fails ${failing}; person ${pendingHuman})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
