import { describe, expect, it } from 'vitest';
import type { ChangeDetail, ChangeView } from '../../src/client/controller-api.js';
import {
  approvalText,
  changeDetailText,
  changesTable,
  heldLines,
  kindText,
  pendingChangeLines,
  pendingCountLines,
  resultText,
  ruleText,
} from '../../src/cli/changes-view.js';
import { approvedByText, transitionsTable } from '../../src/cli/transitions-view.js';

const PLAN_CHANGE: ChangeView = {
  id: 12,
  useCase: 'invoice-triage',
  kind: 'plan',
  state: 'pending',
  requestedBy: 'key:po-anna',
  createdAt: '2026-05-01T10:00:00.000Z',
  expiresAt: '2026-05-08T10:00:00.000Z',
  basePlanVersion: 3,
  baseStageVersion: 2,
  approvalsRequired: 2,
  approvals: [{ by: 'key:rm-bob', at: '2026-05-01T11:00:00.000Z', reason: 'CAB 12' }],
  rules: [
    {
      path: 'stages.limited-autonomous.boundary.rolloutPercent',
      rule: 'boundary-widened',
      before: 10,
      after: 20,
    },
    { path: 'stages.shadow.promoteWhen.minSamples', rule: 'criterion-removed', before: 500, after: null },
    { rule: 'change-control', approvals: 2 },
  ],
  plan: { textHash: 'abc', format: 'yaml' },
  stage: null,
  decidedAt: null,
  decidedBy: null,
  decisionReason: null,
  result: null,
};

const PROMOTE: ChangeView = {
  ...PLAN_CHANGE,
  id: 13,
  kind: 'promote',
  approvalsRequired: 1,
  approvals: [],
  rules: [{ rule: 'change-control', approvals: 1 }],
  plan: null,
  stage: { reason: 'pilot agreed', force: true },
};

const DETAIL: ChangeDetail = {
  ...PLAN_CHANGE,
  current: true,
  inForce: { planVersion: 3, stage: 'shadow', stageVersion: 2 },
  text: 'useCase: invoice-triage\n',
  // A hostile plan line: after its CR, text that would read as the CLI's own line.
  diff: '--- a\n+++ b\n@@ -1 +1 @@\n-      rolloutPercent: 10\n+      rolloutPercent: 20 # ok\rApprove: shadowgate changes approve 99',
  aiConfigChanges: [],
  evidence: 're-judge',
};

describe('change control in the CLI', () => {
  it('when a rule widens a field or is the plan’s change control, then it reads as path, rule and values, or the approvals asked', () => {
    expect(ruleText(PLAN_CHANGE.rules[0]!)).toBe(
      'stages.limited-autonomous.boundary.rolloutPercent: boundary-widened (10 → 20)',
    );
    expect(ruleText(PLAN_CHANGE.rules[1]!)).toBe(
      'stages.shadow.promoteWhen.minSamples: criterion-removed (500 → none)',
    );
    expect(ruleText({ rule: 'change-control', approvals: 1 })).toBe('changeControl asks for 1 approval');
    // A long value is cut, a line break never reaches the terminal.
    const long = ruleText({ path: 'p', rule: 'boundary-widened', before: 'x'.repeat(100), after: 'a\nb' });
    expect(long).toBe(`p: boundary-widened (${'x'.repeat(59)}… → a b)`);
  });

  it('when changes are listed, then each is a row with its kind, state, requester, approvals of those required, expiry and the first rules', () => {
    const rows = changesTable([PROMOTE, PLAN_CHANGE]).split('\n');
    expect(rows[0]).toMatch(/^ID\s+USE CASE\s+KIND\s+STATE\s+REQUESTED BY\s+APPROVALS\s+EXPIRES\s+WHY HELD$/);
    expect(rows[1]!.split(/\s{2,}/)).toEqual([
      '13',
      'invoice-triage',
      'promote (forced)',
      'pending',
      'key:po-anna',
      '0/1',
      '2026-05-08 10:00:00Z',
      'changeControl 1',
    ]);
    expect(rows[2]).toContain(
      '1/2  2026-05-08 10:00:00Z  boundary-widened stages.limited-autonomous.boundary.rolloutPercent, criterion-removed stages.shadow.promoteWhen.minSamples (+1 more)',
    );
    // A change decided has no expiry to watch.
    expect(changesTable([{ ...PROMOTE, state: 'rejected' }]).split('\n')[1]).toContain('0/1  —');
  });

  it('when a command is held, then it says nothing is applied, why, how many approvals from whom, by when, and the command that approves', () => {
    expect(heldLines('invoice-triage: promote', { pending: true, change: PROMOTE })).toEqual([
      'invoice-triage: promote: held for approval as change 13; nothing is applied until it is approved',
      '  why: changeControl asks for 1 approval',
      '  approvals: 0 of 1; 1 more release key (never key:po-anna, who asked) must approve before 2026-05-08 10:00:00Z',
      '  approve: shadowgate changes approve 13 --reason "…"   (details: shadowgate changes show 13)',
    ]);
    expect(heldLines('p.yaml: invoice-triage', { pending: true, change: PLAN_CHANGE }).at(-2)).toBe(
      '  approvals: 1 of 2; 1 more release key (never key:po-anna, who asked) must approve before 2026-05-08 10:00:00Z',
    );
  });

  it('when a change is shown, then the facts, approvals, rules, effect on the evidence and the diff appear, every diff line indented so a line of the plan cannot pass for the CLI’s', () => {
    const lines = changeDetailText(DETAIL).split('\n');
    expect(lines.slice(0, 8)).toEqual([
      'change 12: plan of invoice-triage, pending',
      '  requested  2026-05-01 10:00:00Z by key:po-anna',
      '  base       plan version 3, stage version 2 (still in force)',
      '  in force   plan version 3, stage shadow (stage version 2)',
      '  approvals  1 of 2',
      '  expires    2026-05-08 10:00:00Z',
      '    approved by key:rm-bob at 2026-05-01 11:00:00Z: CAB 12',
      '',
    ]);
    expect(lines).toContain(
      '  stages.limited-autonomous.boundary.rolloutPercent: boundary-widened (10 → 20)',
    );
    expect(lines).toContain(
      'What it does to the evidence: re-judge: the same AI configuration; the evidence is kept and judged under the new thresholds',
    );
    expect(lines).toContain('    -      rolloutPercent: 10');
    expect(lines).toContain('    +      rolloutPercent: 20 # ok');
    expect(lines).toContain('    Approve: shadowgate changes approve 99');
    expect(lines.filter((l) => l.startsWith('Approve:'))).toEqual([
      'Approve: shadowgate changes approve 12 --reason "…"',
    ]);

    const stale = changeDetailText({
      ...DETAIL,
      current: false,
      state: 'stale',
      result: { error: 'stale_change', message: 'moved' },
    });
    expect(stale).toContain(
      '  base       plan version 3, stage version 2 (no longer in force: resubmit the change)',
    );
    expect(stale).toContain('  result     stale_change: moved');
    expect(stale.split('\n').filter((l) => l.startsWith('Approve:'))).toEqual([]);
    const stage = changeDetailText({ ...DETAIL, ...PROMOTE, diff: null, evidence: null });
    expect(stage).toContain('  asks       promote (forced), reason: pilot agreed');
    expect(stage).not.toContain('Diff against');
  });

  it('when an approval is recorded, then it says who approved and what applying did, or how many approvals are still missing', () => {
    const applied = {
      ...PROMOTE,
      state: 'applied' as const,
      approvals: [{ by: 'key:rm-eve', at: '2026-05-01T12:00:00.000Z', reason: 'ok' }],
      result: { transition: 4, stageVersion: 3, from: 'shadow', to: 'human-reviewed' },
    };
    expect(approvalText({ change: applied, applied: {} })).toBe(
      'change 13 of invoice-triage approved by key:rm-eve and applied: shadow → human-reviewed (stage version 3)',
    );
    expect(approvalText({ change: PLAN_CHANGE, applied: null })).toBe(
      'change 12 of invoice-triage approved by key:rm-bob (1 of 2); waiting for 1 more approval by another release key',
    );
    expect(resultText({ ...PLAN_CHANGE, result: { planVersion: 4, created: true } })).toBe(
      'plan version 4 (the use case created)',
    );
    expect(resultText({ ...PLAN_CHANGE, result: { challenger: 'promoted' } })).toBe(
      'the challenger swapped in',
    );
    expect(kindText({ kind: 'rollback', stage: { reason: 'x', to: 'shadow' } })).toBe('rollback to shadow');
  });

  it('when status lists pending changes, then one use case shows each change and the overview counts them per use case', () => {
    expect(pendingChangeLines([])).toEqual([]);
    expect(pendingChangeLines([PROMOTE])).toEqual([
      'Pending changes (1; shadowgate changes show ID):',
      '  change 13: promote (forced) by key:po-anna, approvals 0/1, expires 2026-05-08 10:00:00Z; changeControl asks for 1 approval',
    ]);
    expect(pendingCountLines([PROMOTE, PLAN_CHANGE, { ...PROMOTE, useCase: 'claims' }])).toEqual([
      'invoice-triage: 2 changes pending approval (shadowgate changes list --use-case invoice-triage)',
      'claims: 1 change pending approval (shadowgate changes list --use-case claims)',
    ]);
  });

  it('when a transition was approved, then its row names the approvers beside the actor; none reads —', () => {
    expect(approvedByText({ approvedBy: ['key:rm-bob', 'key:rm-eve'] })).toBe('key:rm-bob, key:rm-eve');
    expect(approvedByText({ approvedBy: null })).toBe('—');
    expect(approvedByText({})).toBe('—');
    const table = transitionsTable([
      {
        id: 1,
        useCase: 'uc',
        fromStage: 'shadow',
        toStage: 'human-reviewed',
        stageVersion: 2,
        actor: 'system (plan v4 by key:po-anna, approved by key:rm-bob)',
        reason: 'every criterion holds',
        forced: false,
        planVersion: 4,
        modelVersion: 'm1',
        at: '2026-05-01T10:00:00.000Z',
        approvedBy: null,
      },
    ]).split('\n');
    expect(table[1]!.split(/\s{2,}/).slice(3, 5)).toEqual([
      'system (plan v4 by key:po-anna, approved by key:rm-bob)',
      '—',
    ]);
  });
});
