import type { ChangeView } from '../promotion/change-types.js';
import { NONE } from '../format/figures.js';
import { code, type Markdown, md, table } from './markdown-text.js';
import type { ChangeEntry, ChangesSection, EvidenceReport } from './report-types.js';

/**
 * Change control in the evidence report (README "Change control"): every change of the use case
 * held back for approval, whatever became of it, with who asked, who approved or rejected it and
 * why. Built from the changes as `GET /v1/changes` shows them; rendered with the report's
 * escaping, every reason and actor a value.
 */

export function changesSection(views: readonly ChangeView[], truncated: boolean): ChangesSection {
  return {
    entries: views.map(
      (c): ChangeEntry => ({
        id: c.id,
        kind: c.kind,
        state: c.state,
        requestedBy: c.requestedBy,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
        basePlanVersion: c.basePlanVersion,
        baseStageVersion: c.baseStageVersion,
        approvalsRequired: c.approvalsRequired,
        approvals: c.approvals.map(({ by, at, reason }) => ({ by, at, reason })),
        rules: c.rules.map((r) => ({ ...r })),
        stage: c.stage && { ...c.stage },
        planTextHash: c.plan?.textHash ?? null,
        decidedAt: c.decidedAt,
        decidedBy: c.decidedBy,
        decisionReason: c.decisionReason,
        result: c.result ?? null,
      }),
    ),
    truncated,
  };
}

/** `0.9 → 0.8` of a widening, `changeControl 2` of the plan's four eyes. */
function ruleText(r: ChangeEntry['rules'][number]): string {
  if (r.path === undefined) return `${r.rule} ${r.approvals ?? ''}`.trim();
  const v = (x: unknown) => (x === null || x === undefined ? 'none' : JSON.stringify(x));
  return `${r.path} ${r.rule} (${v(r.before)} → ${v(r.after)})`;
}

/** What was asked: the plan text's hash, or the stage change with its reason. */
function askedText(c: ChangeEntry): string {
  if (c.stage) {
    const to = c.stage.to ? ` to ${c.stage.to}` : '';
    return `${c.kind}${to}${c.stage.force ? ' (forced)' : ''}: ${c.stage.reason}`;
  }
  return `plan text sha256 ${c.planTextHash ?? NONE}`;
}

/** How it ended: the plan version or transition it made, or the refusal it met. */
export function outcomeText(c: Pick<ChangeEntry, 'result'>): string {
  const r = c.result as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return NONE;
  if (typeof r.error === 'string')
    return typeof r.message === 'string' ? `${r.error}: ${r.message}` : r.error;
  if (typeof r.planVersion === 'number') return `plan version ${r.planVersion}`;
  if (typeof r.to === 'string')
    return `${String(r.from ?? NONE)} → ${r.to} (stage version ${String(r.stageVersion)})`;
  if (r.challenger === 'promoted') return 'challenger swapped in';
  return NONE;
}

function decisionText(c: ChangeEntry): string {
  if (c.state === 'pending') return `waits for approval until ${c.expiresAt}`;
  if (!c.decidedAt) return NONE;
  const by = c.decidedBy ? ` by ${c.decidedBy}` : '';
  const why = c.decisionReason ? `: ${c.decisionReason}` : '';
  return `${c.decidedAt}${by}${why}`;
}

export function changesMarkdown({ changes }: Pick<EvidenceReport, 'changes'>): Markdown[] {
  const BLANK = md``;
  const head = [
    md`## Changes held for approval`,
    BLANK,
    md`Plan and stage changes the controller held back until release keys other than the requester approved them (see ${code('GET /v1/changes')}), whatever became of them, newest first.`,
    BLANK,
  ];
  if (changes.entries.length === 0)
    return [...head, md`No change of this use case was held for approval.`, BLANK];
  return [
    ...head,
    ...table(
      ['change', 'kind', 'state', 'requested', 'asked', 'why held', 'approvals', 'decided', 'outcome'],
      changes.entries.map((c) => [
        c.id,
        c.kind,
        c.state,
        `${c.createdAt} by ${c.requestedBy}`,
        askedText(c),
        c.rules.map(ruleText).join('; ') || NONE,
        `${c.approvals.length} of ${c.approvalsRequired}${c.approvals.length > 0 ? `: ${c.approvals.map((a) => `${a.by} (${a.at}: ${a.reason})`).join('; ')}` : ''}`,
        decisionText(c),
        outcomeText(c),
      ]),
    ),
    ...(changes.truncated ? [BLANK, md`Only the newest ${changes.entries.length} changes are listed.`] : []),
    BLANK,
  ];
}
