import type { Mode } from '@shadowgate/sdk';
import { count, duration, percent } from '../../src/format/figures.js';
import { parseDurationMs } from '../../src/plans/duration.js';
import { changeControlAct } from './change-control-act.js';
import type { DemoOptions } from './demo-options.js';
import { DEMO_CLERK_MS, DEMO_SET_ASIDE_RATE, type DemoService, startDemoService } from './demo-service.js';
import type { DemoStage } from './demo-setup.js';
import { DAY_MS, type SimulatedClock } from './simulated-clock.js';
import { type Cleanup, say, step } from './steps.js';
import {
  escalationReasons,
  type Round,
  sendRound,
  stageSummaries,
  suggestionTally,
  type Traffic,
} from './journey-traffic.js';
import { type GuardEvidence, guardCheckLines, type TransitionLine } from './journey-report.js';

/**
 * The journey (`npm run demo`): the use case earns human-reviewed and limited-autonomous on the
 * evidence of the invoices the example service sends, its simulated AI then degrades, the
 * limited-autonomous guard rolls it back, and the release manager disables it. One example
 * service runs throughout: its SDK reads each new mode from the flag, never restarted.
 */

/** The simulated AI's agreement once it degrades (the guard's bound is 90% over the last 200). */
export const DEGRADED_AGREEMENT = 0.6;
/** Invoices per round in the gated stages; the gate is read after each. */
const GATED_ROUND = 250;
/** Invoices per round in limited-autonomous; the demo runs the controller's tick after each. */
const GUARDED_ROUND = 60;
/** Each phase's share of --decisions, at most. */
const SHARE = { shadow: 0.35, humanReviewed: 0.45, autonomous: 0.1, degraded: 0.06, disabled: 0.04 };

export interface JourneyResult {
  service: DemoService;
  traffic: Traffic;
  /** Invoices sent in each phase that ran. */
  phases: Array<{ name: string; stage: Mode; rounds: Round[] }>;
  /** The simulated AI's calls when the use case was disabled, and at the end. */
  aiCallsDisabled: { before: number; after: number } | null;
  /** Where the journey stopped short, and why (null: it went the whole way). */
  stoppedShort: string | null;
}

export async function journeyAct(
  opts: DemoOptions,
  stage: DemoStage,
  clock: SimulatedClock,
  tickMs: number,
  cleanup: Cleanup,
  out: (text?: string) => void,
): Promise<JourneyResult> {
  const { keys, labels, embedded, sim } = stage;
  const { useCase } = stage.applied.plan;
  const plan = stage.applied.plan;

  const service = await step('could not start the example service', () =>
    startDemoService({
      controllerUrl: embedded.url,
      apiKey: keys.service.target.key,
      useCase,
      labels,
      batch: opts.batch,
      rememberAnswers: opts.decisions,
      refreshIntervalMs: 1_000,
    }),
  );
  cleanup.add(service.stop);
  out(
    say(
      'example service',
      `the app of scripts/example-workflow-service.ts, in this process on ${service.url}; its SDK reads`,
      `the flags from the controller's /api each second (ingest key): ${useCase} is in ${service.mode}.`,
      `Its simulated clerks decide most invoices at once (in ${DEMO_CLERK_MS} ms), set about ${percent(DEMO_SET_ASIDE_RATE, 0)} aside for`,
      'later, and decide by the same policy whatever the AI suggests; the service is never restarted below',
    ),
  );
  out();

  const traffic: Traffic = { sent: 0, answers: new Map() };
  const workflow = { serviceUrl: service.url, labels, concurrency: opts.concurrency };
  const result: JourneyResult = { service, traffic, phases: [], aiCallsDisabled: null, stoppedShort: null };
  const budget = (share: number) => Math.max(1, Math.floor(opts.decisions * share));
  const round = async (n: number) =>
    step('the simulated workflow failed', () => sendRound(stage, service, workflow, traffic, n));
  const tick = async () => {
    // Each tick claims a slot of the tick interval: the demo's clock moves on by one interval.
    clock.advance(tickMs);
    return step('the tick failed', () => embedded.controller.engine.tick(clock.now()));
  };
  const release = (what: string, body: { reason: string }) =>
    step(`could not ${what}`, () =>
      keys.release.postJson<TransitionLine>(`/v1/use-cases/${useCase}/${what}`, body),
    );
  const cli = (command: string, reason: string) =>
    `  $ SHADOWGATE_URL=${embedded.url} SHADOWGATE_KEY=<release key> npm run shadowgate -- ${command} ${useCase} --reason '${reason}'`;

  /** A gated stage: rounds until its gate is eligible, the clock moved past minDuration once. */
  const earn = async (name: string, from: Mode, share: number): Promise<boolean> => {
    const rounds: Round[] = [];
    result.phases.push({ name, stage: from, rounds });
    const minDuration = (from === 'shadow' ? plan.stages.shadow : plan.stages['human-reviewed'])?.promoteWhen
      ?.minDuration;
    const limit = budget(share);
    let sent = 0;
    for (;;) {
      const n = Math.min(GATED_ROUND, limit - sent);
      rounds.push(await round(n));
      sent += n;
      if (rounds.length === 1 && minDuration !== undefined) {
        const days = Math.ceil(parseDurationMs(minDuration) / DAY_MS);
        clock.advance(days * DAY_MS);
        out(
          say(
            'simulated clock',
            `+${days} d: the plan's ${from} minDuration is ${minDuration}, counted in simulated time; the samples are real`,
          ),
        );
      }
      // The controller's tick judges what the round added, as a running controller would within
      // seconds: the dashboard's journey view draws what each tick judged.
      await tick();
      const gate = await readGate(stage);
      const summary = (await stageSummaries(stage)).find((s) => s.stage === from);
      const c = summary?.cohorts.at(-1);
      out(
        say(
          'controller',
          `${from}: ${count(sent)} invoices · ${count(summary?.samples ?? 0)} compared · agreement ${percent(c?.agreement, 2)}` +
            ` · gate ${gate.verdict}${gate.verdict === 'eligible' ? '' : ` (not yet: ${gate.waiting.join(', ') || 'nothing'})`}`,
        ),
      );
      if (gate.verdict === 'eligible') return true;
      if (sent >= limit) {
        result.stoppedShort = `the ${from} gate was ${gate.verdict} after ${count(sent)} invoices (${gate.waiting.join(', ')}): more with --decisions, or a higher --agreement`;
        out(say('demo', `the journey stops here: ${result.stoppedShort}`));
        return false;
      }
    }
  };

  const promote = async (from: Mode, to: Mode) => {
    const reason = `demo: the ${from} gate holds`;
    const moved = await release('promote', { reason });
    out(
      say(
        'release manager',
        `promoted ${useCase} to ${moved.toStage} through the API (POST /v1/use-cases/:id/promote); the CLI's equivalent:`,
      ),
    );
    out(cli('promote', reason));
    await seeMode(service, useCase, to, out);
  };

  // 1. Shadow: people decide, the AI is only measured.
  out(
    say(
      'phase 1 · shadow',
      'people decide every invoice; the SDK mirrors each to the controller, which asks the AI on the side',
      `and compares. The gate to human-reviewed: ${count(plan.stages.shadow.promoteWhen?.minSamples ?? 0)} samples, ${plan.stages.shadow.promoteWhen?.minDuration ?? 'no minimum duration'}, agreement and per-label bounds`,
    ),
  );
  if (!(await earn('shadow', 'shadow', SHARE.shadow))) return result;
  await promote('shadow', 'human-reviewed');
  out();

  // 2. Human-reviewed: the AI suggests, the clerk decides.
  const hrWhen = plan.stages['human-reviewed']?.promoteWhen;
  out(
    say(
      'phase 2 · human-reviewed',
      "for each invoice the SDK asks the controller for the AI's suggestion (POST /v1/use-cases/:id/suggest)",
      `and hands it to the clerk, who accepts or overrides it. The gate to limited-autonomous: ${count(hrWhen?.minSamples ?? 0)}`,
      `samples, ${hrWhen?.minDuration ?? 'no minimum duration'}, higher bars`,
    ),
  );
  if (!(await earn('human-reviewed', 'human-reviewed', SHARE.humanReviewed))) return result;
  const hr = suggestionTally(traffic, result.phases.at(-1)!.rounds);
  out(
    say(
      'simulated clerks',
      `had a suggestion for ${count(hr.suggested)} of ${count(hr.invoices)} invoices: accepted ${count(hr.accepted)} (${percent(hr.accepted / Math.max(1, hr.suggested), 1)}),`,
      `overrode ${count(hr.overridden)} (${percent(hr.overridden / Math.max(1, hr.suggested), 1)}); ${count(hr.withoutSuggestion)} decided without one (the AI failed or was late)`,
    ),
  );
  out();
  await changeControlAct(stage, out);
  await promote('human-reviewed', 'limited-autonomous');
  out();

  // 3. Limited-autonomous: inside the boundary the AI decides alone.
  const la = plan.stages['limited-autonomous']!;
  out(
    say(
      'phase 3 · limited-autonomous',
      `the AI decides alone inside the boundary (riskTier low, confidence ≥ ${la.boundary.minConfidence}, the rollout share); ${percent(la.auditRate, 0)} of`,
      "those are drawn for audit (the auditor's verdict comes back later); everything else goes to a clerk with",
      `the suggestion. The guard: over the last ${la.rollbackWhen?.window ?? '?'} compared, agreement under ${percent(la.rollbackWhen?.agreementBelow, 0)} rolls back. The demo runs the`,
      `controller's tick after each round of ${GUARDED_ROUND} invoices, moving its clock on by the tick's ${duration(tickMs)}`,
    ),
  );
  const autonomous: Round[] = [];
  result.phases.push({ name: 'limited-autonomous', stage: 'limited-autonomous', rounds: autonomous });
  const auditsBefore = service.audits.length;
  for (let sent = 0; sent < budget(SHARE.autonomous); sent += GUARDED_ROUND) {
    autonomous.push(await round(Math.min(GUARDED_ROUND, budget(SHARE.autonomous) - sent)));
    const report = await tick();
    if (report.rolledBack.includes(useCase) || report.disabled.includes(useCase)) {
      result.stoppedShort = 'a guard tripped while the simulated AI was still healthy';
      out(say('demo', `the journey stops here: ${result.stoppedShort}`));
      return result;
    }
  }
  const t = suggestionTally(traffic, autonomous);
  const audits = service.audits.slice(auditsBefore);
  const agreedAudits = audits.filter((a) => a.ai === a.auditor).length;
  out(
    say(
      'example service',
      `${count(t.invoices)} invoices: the AI decided ${count(t.autonomous)} alone (${percent(t.autonomous / Math.max(1, t.invoices), 1)}), ${count(audits.length)} of them audited (the auditor`,
      `agreed with ${count(agreedAudits)}); clerks decided ${count(t.suggested + t.withoutSuggestion)}, overriding ${count(t.overridden)} suggestions. Why a clerk decided:`,
      ...[...escalationReasons(service, traffic, autonomous, la.boundary.minConfidence)]
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `  ${count(n)} ${reason}`),
    ),
  );
  out();

  // 4. The AI degrades; the guard trips at a tick and rolls back.
  sim.setOptions({ agreement: DEGRADED_AGREEMENT });
  out(
    say(
      'phase 4 · the AI degrades',
      `the simulated AI now gives the clerk's label for ${percent(DEGRADED_AGREEMENT, 0)} of new invoices (its setOptions hook), as a bad`,
      'model update would; invoices keep coming',
    ),
  );
  const degraded: Round[] = [];
  result.phases.push({ name: 'degraded', stage: 'limited-autonomous', rounds: degraded });
  let tripped = false;
  for (let sent = 0; sent < budget(SHARE.degraded) && !tripped; sent += GUARDED_ROUND) {
    degraded.push(await round(Math.min(GUARDED_ROUND, budget(SHARE.degraded) - sent)));
    const report = await tick();
    tripped = report.rolledBack.includes(useCase) || report.disabled.includes(useCase);
    const sentSoFar = degraded.reduce((n, r) => n + r.count, 0);
    out(
      say(
        'controller',
        `tick after ${count(sentSoFar)} degraded invoices: ${tripped ? 'the guard TRIPPED' : 'the guard holds (its window still mostly healthy)'}`,
      ),
    );
  }
  if (!tripped) {
    result.stoppedShort = `the guard did not trip within ${count(budget(SHARE.degraded))} degraded invoices`;
    out(say('demo', `the journey stops here: ${result.stoppedShort}`));
    return result;
  }
  const moves = await stage.keys.viewer.getJson<{ transitions: TransitionLine[] }>(
    `/v1/use-cases/${useCase}/transitions`,
  );
  const trip = moves.transitions.find((m) => m.fromStage === 'limited-autonomous' && m.actor === 'system');
  out(
    say(
      'controller',
      `moved ${useCase} ${trip?.fromStage} → ${trip?.toStage}; actor ${trip?.actor}, reason: ${trip?.reason}`,
      'the evidence kept with the transition (its guard checks):',
      ...guardCheckLines((trip?.snapshot as { guard?: GuardEvidence } | undefined)?.guard),
    ),
  );
  await seeMode(service, useCase, trip?.toStage as Mode, out);
  out();

  // 5. The kill switch.
  const reason = 'demo: the AI degraded; no AI at all until it is fixed';
  await release('disable', { reason });
  out(
    say(
      'phase 5 · release manager',
      `disabled ${useCase} (POST /v1/use-cases/:id/disable; never held for approval). The CLI's equivalent:`,
    ),
  );
  out(cli('disable', reason));
  await seeMode(service, useCase, 'disabled', out);
  const before = sim.stats().calls;
  const disabled: Round[] = [];
  result.phases.push({ name: 'disabled', stage: 'disabled', rounds: disabled });
  disabled.push(await round(budget(SHARE.disabled)));
  const after = sim.stats().calls;
  result.aiCallsDisabled = { before, after };
  out(
    say(
      'simulated AI',
      `${count(budget(SHARE.disabled))} more invoices, all decided by clerks without a suggestion and still mirrored (volume and human`,
      `cost stay measured): the simulated AI's call count was ${count(before)} before and is ${count(after)} after${after === before ? ': no AI call while disabled' : ''}`,
    ),
  );
  out();
  return result;
}

/** Until the service's SDK reads `mode` from the flag for a low-risk invoice (the boundary's), bounded. */
export async function seeMode(
  service: DemoService,
  useCase: string,
  mode: Mode,
  out: (text?: string) => void,
) {
  const started = Date.now();
  const probes = Array.from({ length: 20 }, (_, i) => ({
    requestId: `demo-mode-probe-${i}`,
    context: { region: 'EU', riskTier: 'low' },
  }));
  while (!probes.some((p) => service.sg.modeOf(useCase, p) === mode)) {
    // The SDK polls each second; a loaded machine may take longer, a broken flag never shows.
    if (Date.now() - started > 120_000) throw new Error(`the service's SDK did not see ${mode} within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  out(
    say(
      'example service',
      `its SDK read ${mode} from the flag ${((Date.now() - started) / 1000).toFixed(1)} s later, without a restart`,
    ),
  );
}

interface GateRead {
  verdict: string;
  waiting: string[];
}

async function readGate(stage: DemoStage): Promise<GateRead> {
  const detail = await stage.keys.viewer.getJson<{
    gate: { verdict: string; criteria?: Array<{ name: string; status: string }> } | null;
  }>(`/v1/use-cases/${stage.applied.plan.useCase}`);
  const criteria = detail.gate?.criteria ?? [];
  return {
    verdict: detail.gate?.verdict ?? 'none',
    waiting: criteria.filter((c) => c.status !== 'holds').map((c) => c.name),
  };
}
