import { isHeld, type PlanApplied } from '../../src/client/controller-api.js';
import { readPlan } from './demo-ai-system.js';
import type { DemoStage } from './demo-setup.js';
import { say, step } from './steps.js';

/**
 * The demo's change-control step (README "Change control"): the product owner widens the boundary
 * inside which the AI will decide alone (`rolloutPercent` doubled); the controller holds that plan
 * version until a release manager, another key, approves it; the evidence report then names both.
 */

/** The boundary's rollout line of the plan file; edited in place, so the diff is that line alone. */
const ROLLOUT = /^(\s*rolloutPercent:\s*)(\d+)(.*)$/m;

const EVIDENCE: Record<string, string> = {
  're-judge': 'the evidence gathered so far is kept and judged again under it',
  restart: 'the evidence starts over under the new AI configuration',
  challenger: 'the new AI configuration is judged as a challenger beside the champion',
};

/** A plan version as the evidence report lists it (`plan.history`). */
export interface PlanVersionLine {
  version: number;
  appliedBy: string;
  appliedAt: string;
  approvedBy?: string[] | null;
}

/** The product owner's widening edit, held, then approved by the release manager. */
export async function changeControlAct(stage: DemoStage, out: (text?: string) => void): Promise<void> {
  const { keys } = stage;
  const { useCase } = stage.applied.plan;
  const before = stage.applied.plan.stages['limited-autonomous']?.boundary.rolloutPercent;
  if (before === undefined || !ROLLOUT.test(stage.applied.text)) {
    throw new Error('the plan has no limited-autonomous rolloutPercent to widen');
  }
  const after = Math.min(100, before * 2);
  const text = stage.applied.text.replace(
    ROLLOUT,
    (_line, head: string, _n, tail: string) =>
      `${head}${after}${tail.replace(/#.*$/, '# twice the share the plan started with')}`,
  );
  if (readPlan(text, 'the widened plan').stages['limited-autonomous']?.boundary.rolloutPercent !== after) {
    throw new Error('could not widen the rolloutPercent of the plan');
  }

  const answer = await step('could not send the widened plan', () => keys.owner.applyPlan(useCase, text));
  if (!isHeld(answer)) {
    throw new Error(
      `the controller applied a wider boundary without approval (plan version ${answer.planVersion})`,
    );
  }
  const { id } = answer.change;
  const change = await step('could not read the held change', () => keys.viewer.change(id));
  const rules = change.rules.map((r) => ('path' in r ? `${r.rule} ${r.path}` : r.rule)).join(', ');
  const diff = (change.diff ?? '').split('\n').filter((l) => /^[+-]\s/.test(l));
  out(
    say(
      'product owner',
      `raised limited-autonomous rolloutPercent from ${before} to ${after}: once the AI decides alone, it would`,
      `decide up to ${after}% of the low-risk invoices. No key may widen the AI's authority by itself, so the`,
      `controller held it as change ${id} (${rules});`,
      'the diff against the plan in force (GET /v1/changes/:id):',
      ...diff.map((l) => `  ${l.replace(/\s+/g, ' ')}`),
    ),
  );
  const approved = await step('could not approve the change', () =>
    keys.release.approveChange(
      id,
      'demo: a wider boundary for when the AI decides alone; it still has to get there',
    ),
  );
  const applied = approved.applied as PlanApplied;
  out(
    say(
      'release manager',
      `approved change ${id} with a key of its own: plan version ${applied.planVersion} applied, requested by`,
      `${change.requestedBy} and approved by ${approved.change.approvals.map((a) => a.by).join(', ')};`,
      `${EVIDENCE[change.evidence ?? ''] ?? 'nothing else changes'}`,
    ),
  );
  out();
}

/** The closing lines: each plan version, who applied it and who approved it (from the evidence report). */
export function planVersionLines(history: readonly PlanVersionLine[]): string[] {
  return [
    'Who changed the plan (GET /v1/use-cases/:id/report: every plan version, who asked, who approved)',
    '',
    ...[...history]
      .sort((a, b) => a.version - b.version)
      .map(
        (v) =>
          `  plan version ${v.version}: by ${v.appliedBy}, ${v.approvedBy?.length ? `approved by ${v.approvedBy.join(', ')}` : 'no approval needed'}`,
      ),
  ];
}
