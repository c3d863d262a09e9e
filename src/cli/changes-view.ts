import type {
  ApprovalOutcome,
  ChangeDetail,
  ChangeRule,
  ChangeView,
  HeldChange,
} from '../client/controller-api.js';
import { oneLine } from '../contracts/safe-text.js';
import { NONE } from '../format/figures.js';
import { formatTable, timestamp } from './format-table.js';

/**
 * Change control as the CLI prints it (README "Change control"): the changes held back for a
 * release key's approval, why each is held, its approvals so far, the diff and what it does to the
 * evidence. Pure functions of the API's answers; every value from the controller is one line, a
 * multi-line text (the diff) is indented so none of its lines can pass for one of ours.
 */

/** A rule's values (`before`, `after`) are plan fragments of any shape: shown short. */
const MAX_VALUE_CHARS = 60;
/** Rules named in one table cell; the rest are counted. */
const MAX_RULES_IN_CELL = 2;

function value(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * `stages.shadow.promoteWhen.agreementLowerBound: threshold-lowered (0.9 → 0.8)`, or
 * `changeControl asks for 2 approvals`.
 */
export function ruleText(rule: ChangeRule): string {
  if ('path' in rule)
    return oneLine(`${rule.path}: ${rule.rule} (${value(rule.before)} → ${value(rule.after)})`);
  return `changeControl asks for ${plural(rule.approvals, 'approval')}`;
}

/** The rules in a table cell: the first few by path, then how many more. */
function rulesCell(rules: readonly ChangeRule[]): string {
  if (rules.length === 0) return NONE;
  const named = rules
    .slice(0, MAX_RULES_IN_CELL)
    .map((r) => ('path' in r ? `${r.rule} ${r.path}` : `changeControl ${r.approvals}`));
  const more = rules.length - named.length;
  return more > 0 ? `${named.join(', ')} (+${more} more)` : named.join(', ');
}

/** What was asked: `plan`, `promote (forced)`, `rollback to shadow`, `challenger-promote`. */
export function kindText(change: Pick<ChangeView, 'kind' | 'stage'>): string {
  const stage = change.stage;
  if (change.kind === 'rollback' && stage?.to) return `rollback to ${stage.to}`;
  if (stage?.force) return `${change.kind} (forced)`;
  return change.kind;
}

/** `1/2`: approvals so far of those required. */
export function approvalCount(change: Pick<ChangeView, 'approvals' | 'approvalsRequired'>): string {
  return `${change.approvals.length}/${change.approvalsRequired}`;
}

/** `changes list`: one line per change, newest first as the API lists them. */
export function changesTable(changes: readonly ChangeView[]): string {
  return formatTable(
    [
      { header: 'ID', align: 'right' },
      { header: 'USE CASE' },
      { header: 'KIND' },
      { header: 'STATE' },
      { header: 'REQUESTED BY' },
      { header: 'APPROVALS', align: 'right' },
      { header: 'EXPIRES' },
      { header: 'WHY HELD' },
    ],
    changes.map((c) => [
      String(c.id),
      c.useCase,
      kindText(c),
      c.state,
      c.requestedBy,
      approvalCount(c),
      c.state === 'pending' ? timestamp(c.expiresAt) : NONE,
      rulesCell(c.rules),
    ]),
  );
}

/** The command that approves a change (the reason is the approver's own). */
export function approveCommand(id: number): string {
  return `shadowgate changes approve ${id} --reason "…"`;
}

/**
 * What `plan apply`, `promote`, `rollback`, `enable` and `promote --challenger` print for a 202:
 * nothing changed yet, why it is held, the approvals it needs and the command that approves it.
 */
export function heldLines(subject: string, held: HeldChange): string[] {
  const c = held.change;
  const missing = c.approvalsRequired - c.approvals.length;
  return [
    oneLine(`${subject}: held for approval as change ${c.id}; nothing is applied until it is approved`),
    ...c.rules.map((r) => `  why: ${ruleText(r)}`),
    oneLine(
      `  approvals: ${c.approvals.length} of ${c.approvalsRequired}; ${plural(missing, 'more release key')} (never ${c.requestedBy}, who asked) must approve before ${timestamp(c.expiresAt)}`,
    ),
    `  approve: ${approveCommand(c.id)}   (details: shadowgate changes show ${c.id})`,
  ];
}

/** What applying a change did, or why it ended without applying. */
export function resultText(change: Pick<ChangeView, 'kind' | 'state' | 'result'>): string | null {
  const r = change.result as Record<string, unknown> | null;
  if (!r || typeof r !== 'object') return null;
  if (typeof r.error === 'string') {
    return oneLine(`${r.error}${typeof r.message === 'string' ? `: ${r.message}` : ''}`);
  }
  if (typeof r.planVersion === 'number') {
    return `plan version ${r.planVersion}${r.created === true ? ' (the use case created)' : ''}`;
  }
  if (typeof r.to === 'string') {
    return oneLine(
      `${typeof r.from === 'string' ? r.from : NONE} → ${r.to} (stage version ${String(r.stageVersion)})`,
    );
  }
  if (r.challenger === 'promoted') return 'the challenger swapped in';
  return null;
}

const EVIDENCE: Record<NonNullable<ChangeDetail['evidence']>, string> = {
  restart: 'restart: a new AI configuration in shadow; the gate counts from nothing',
  challenger: 'challenger: a new AI configuration judged beside the champion, which keeps deciding',
  're-judge': 're-judge: the same AI configuration; the evidence is kept and judged under the new thresholds',
};

/** Every line of a text, indented: a line of the plan can never pass for one of the CLI's own. */
function indented(text: string): string[] {
  return text.split(/\r\n?|\n/).map((line) => `    ${line}`);
}

/** `changes show ID`: the change, why it is held, its approvals, the diff and its effect on the evidence. */
export function changeDetailText(d: ChangeDetail): string {
  const facts: Array<[string, string]> = [
    ['requested', `${timestamp(d.createdAt)} by ${d.requestedBy}`],
    ['base', d.basePlanVersion === null ? 'the use case did not exist yet' : baseText(d)],
    [
      'in force',
      d.inForce
        ? `plan version ${d.inForce.planVersion}, stage ${d.inForce.stage} (stage version ${d.inForce.stageVersion})`
        : 'no use case yet',
    ],
    ['approvals', `${d.approvals.length} of ${d.approvalsRequired}`],
  ];
  if (d.stage) facts.push(['asks', `${kindText(d)}, reason: ${d.stage.reason}`]);
  if (d.state === 'pending') facts.push(['expires', timestamp(d.expiresAt)]);
  if (d.decidedAt) {
    const by = d.decidedBy ? ` by ${d.decidedBy}` : '';
    const why = d.decisionReason ? `: ${d.decisionReason}` : '';
    facts.push(['decided', `${timestamp(d.decidedAt)}${by}${why}`]);
  }
  const result = resultText(d);
  if (result) facts.push(['result', result]);
  const width = Math.max(...facts.map(([label]) => label.length));
  const lines = [
    oneLine(`change ${d.id}: ${kindText(d)} of ${d.useCase}, ${d.state}`),
    ...facts.map(([label, text]) => oneLine(`  ${label.padEnd(width)}  ${text}`)),
    ...d.approvals.map((a) => oneLine(`    approved by ${a.by} at ${timestamp(a.at)}: ${a.reason}`)),
    '',
    'Why it is held:',
    ...d.rules.map((r) => `  ${ruleText(r)}`),
  ];
  if (d.kind === 'plan') {
    lines.push('', `What it does to the evidence: ${d.evidence ? EVIDENCE[d.evidence] : NONE}`);
    if (d.aiConfigChanges?.length) {
      lines.push(oneLine(`AI configuration fields it changes: ${d.aiConfigChanges.join(', ')}`));
    }
    lines.push(
      '',
      'Diff against the plan in force:',
      ...(d.diff ? indented(d.diff) : ['    (no difference)']),
    );
  }
  if (d.state === 'pending') lines.push('', `Approve: ${approveCommand(d.id)}`);
  return lines.join('\n');
}

function baseText(d: ChangeDetail): string {
  const base = `plan version ${d.basePlanVersion}, stage version ${d.baseStageVersion}`;
  return d.current ? `${base} (still in force)` : `${base} (no longer in force: resubmit the change)`;
}

/** `changes approve`: the approval recorded, and what applying the change did when it completed it. */
export function approvalText(outcome: ApprovalOutcome): string {
  const c = outcome.change;
  const by = c.approvals.at(-1)?.by ?? 'this key';
  if (c.state === 'applied') {
    const result = resultText(c);
    return oneLine(
      `change ${c.id} of ${c.useCase} approved by ${by} and applied${result ? `: ${result}` : ''}`,
    );
  }
  const missing = c.approvalsRequired - c.approvals.length;
  return oneLine(
    `change ${c.id} of ${c.useCase} approved by ${by} (${c.approvals.length} of ${c.approvalsRequired}); ${missing > 0 ? `waiting for ${plural(missing, 'more approval')} by another release key` : c.state}`,
  );
}

/** `status USE_CASE`: each change of the use case waiting for approval, a line each. */
export function pendingChangeLines(changes: readonly ChangeView[]): string[] {
  if (changes.length === 0) return [];
  return [
    `Pending changes (${changes.length}; shadowgate changes show ID):`,
    ...changes.map((c) =>
      oneLine(
        `  change ${c.id}: ${kindText(c)} by ${c.requestedBy}, approvals ${approvalCount(c)}, expires ${timestamp(c.expiresAt)}; ${c.rules.map(ruleText).join('; ')}`,
      ),
    ),
  ];
}

/** `status` of every use case: a line per use case with changes waiting for approval. */
export function pendingCountLines(changes: readonly ChangeView[]): string[] {
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(c.useCase, (counts.get(c.useCase) ?? 0) + 1);
  return [...counts].map(([useCase, n]) =>
    oneLine(
      `${useCase}: ${plural(n, 'change')} pending approval (shadowgate changes list --use-case ${useCase})`,
    ),
  );
}
