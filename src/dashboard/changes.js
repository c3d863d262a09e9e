// @ts-check
import { count, duration } from '../format/figures.js';
import { el } from './dom.js';
import { dateTime, since } from './format.js';

/**
 * Change control (README "Change control"): the changes of a use case held back until release
 * keys other than the requester approve them, with why each is held, its approvals so far, when it
 * expires and, for a plan, the diff against the version in force. Pure functions of
 * `GET /v1/changes` and `GET /v1/changes/:id`; every text goes in as a text node, the diff too.
 */

/**
 * @typedef {import('../promotion/change-types.js').ChangeView} ChangeView
 * @typedef {import('../promotion/change-types.js').ChangeRule} ChangeRule
 * @typedef {import('../promotion/change-service.js').ChangeDetail} ChangeDetail
 * @typedef {import('./api.js').Whoami} Whoami
 * @typedef {import('./dom.js').Children} Children
 * @typedef {'approve' | 'reject' | 'withdraw'} Decision
 */

/** A rule's values are plan fragments of any shape: shown short. */
const MAX_VALUE_CHARS = 60;

/** @param {unknown} v */
function value(v) {
  if (v === null || v === undefined) return 'none';
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/**
 * What was asked: `plan`, `promote (forced)`, `rollback to shadow`, `challenger-promote`.
 * @param {ChangeView} change
 */
export function kindLabel(change) {
  const stage = change.stage;
  if (change.kind === 'rollback' && stage?.to) return `rollback to ${stage.to}`;
  return stage?.force ? `${change.kind} (forced)` : change.kind;
}

/** @param {ChangeRule} rule */
function ruleItem(rule) {
  if ('path' in rule) {
    return el(
      'li',
      { dataset: { rule: rule.rule } },
      el('code', {}, rule.path),
      ` ${rule.rule} (${value(rule.before)} → ${value(rule.after)})`,
    );
  }
  return el(
    'li',
    { dataset: { rule: rule.rule } },
    `the plan asks for ${count(rule.approvals)} approval${rule.approvals === 1 ? '' : 's'} (`,
    el('code', {}, 'changeControl'),
    ')',
  );
}

/**
 * The name a key's requests and approvals carry (`key:<name>`, the bootstrap key by its name).
 * @param {Whoami} who
 */
function actorsOf(who) {
  return [`key:${who.name}`, who.name];
}

/**
 * What to offer this key on a pending change: Approve and Reject when it may release and neither
 * asked for the change nor approved it already; Withdraw when it asked and may write plans. The
 * controller decides all the same (scope, staleness, expiry).
 * @param {ChangeView} change
 * @param {Whoami} who
 * @returns {Decision[]}
 */
export function decisionsFor(change, who) {
  if (change.state !== 'pending') return [];
  const me = actorsOf(who);
  if (me.includes(change.requestedBy)) return who.permissions.includes('apply-plan') ? ['withdraw'] : [];
  if (!who.permissions.includes('release') || change.approvals.some((a) => me.includes(a.by))) return [];
  return ['approve', 'reject'];
}

/** @type {Record<Decision, { label: string, class: string }>} */
const BUTTONS = {
  approve: { label: 'Approve…', class: 'primary' },
  reject: { label: 'Reject…', class: 'danger' },
  withdraw: { label: 'Withdraw…', class: 'danger' },
};

/**
 * A unified diff as text, a line each, additions and removals marked by class only.
 * @param {string} diff
 */
function diffBlock(diff) {
  return el(
    'pre',
    { class: 'diff', dataset: { field: 'diff' } },
    diff.split(/\r\n?|\n/).map((line) =>
      el(
        'span',
        {
          class:
            line.startsWith('+') && !line.startsWith('+++')
              ? 'add'
              : line.startsWith('-') && !line.startsWith('---')
                ? 'del'
                : undefined,
        },
        `${line}\n`,
      ),
    ),
  );
}

/** @type {Record<string, string>} */
const EVIDENCE = {
  restart: 'restarts: a new AI configuration in shadow counts from nothing',
  challenger: 'is judged as a challenger beside the champion',
  're-judge': 'is kept and judged again under the new thresholds',
};

/**
 * One pending change: what and who, why held, approvals, expiry, the diff, and the buttons.
 * @param {ChangeView} change
 * @param {ChangeDetail | null} detail its diff and effect on the evidence (null: not read)
 * @param {Whoami} who
 * @param {(decision: Decision, change: ChangeView) => void} onDecide
 * @param {number} now
 */
function changeItem(change, detail, who, onDecide, now) {
  const buttons = decisionsFor(change, who).map((decision) =>
    el(
      'button',
      {
        type: 'button',
        class: BUTTONS[decision].class,
        dataset: { decision },
        onclick: () => onDecide(decision, change),
      },
      BUTTONS[decision].label,
    ),
  );
  const approvals = change.approvals.map((a) =>
    el('li', {}, el('span', { dataset: { field: 'approver' } }, a.by), ` ${dateTime(a.at)}: `, a.reason),
  );
  return el(
    'li',
    { class: 'change', dataset: { changeId: change.id, kind: change.kind } },
    el(
      'div',
      { class: 'panel-head' },
      el(
        'h4',
        {},
        `Change ${change.id}: `,
        el('span', { dataset: { field: 'kind' } }, kindLabel(change)),
        el('span', { class: 'muted small' }, ' requested by '),
        el('span', { dataset: { field: 'requested-by' } }, change.requestedBy),
        el('span', { class: 'muted small' }, ` ${since(change.createdAt, now)} ago`),
      ),
      el('div', { class: 'actions' }, buttons),
    ),
    change.stage
      ? el('p', { class: 'small', dataset: { field: 'stage-reason' } }, `Reason: ${change.stage.reason}`)
      : null,
    el(
      'p',
      { class: 'small' },
      el(
        'strong',
        {
          dataset: { field: 'approvals', value: change.approvals.length, required: change.approvalsRequired },
        },
        `${change.approvals.length} of ${change.approvalsRequired} approvals`,
      ),
      ' · ',
      el('span', { dataset: { field: 'expires' } }, `expires ${dateTime(change.expiresAt)}`),
      el('span', { class: 'muted' }, ` (in ${duration(Math.max(0, Date.parse(change.expiresAt) - now))})`),
    ),
    approvals.length > 0 ? el('ul', { class: 'small approvals' }, approvals) : null,
    el('p', { class: 'muted small' }, 'Held because:'),
    el('ul', { class: 'small rules', dataset: { field: 'rules' } }, change.rules.map(ruleItem)),
    detail?.evidence
      ? el(
          'p',
          { class: 'small', dataset: { field: 'evidence', value: detail.evidence } },
          `The evidence ${EVIDENCE[detail.evidence] ?? detail.evidence}.`,
        )
      : null,
    detail?.diff ? diffBlock(detail.diff) : null,
  );
}

/**
 * The panel of a use case's pending changes, or null when none waits.
 * @param {ChangeView[]} changes its pending changes, newest first
 * @param {Map<number, ChangeDetail>} details the diffs read for them
 * @param {Whoami} who
 * @param {(decision: Decision, change: ChangeView) => void} onDecide
 * @param {number} [now]
 */
export function changesPanel(changes, details, who, onDecide, now = Date.now()) {
  if (changes.length === 0) return null;
  const mayRelease = who.permissions.includes('release');
  const mayWithdraw = who.permissions.includes('apply-plan');
  return el(
    'section',
    { class: 'panel wide', id: 'changes-panel' },
    el('h3', {}, `Pending changes (${changes.length})`),
    el(
      'p',
      { class: 'muted small' },
      'Held until release keys other than the one that asked approve them; the approval that completes the count applies the change. ',
      mayRelease
        ? null
        : mayWithdraw
          ? `A ${who.role} key can withdraw the ones it asked for.`
          : `A ${who.role} key can only read them.`,
    ),
    el(
      'ol',
      { class: 'changes' },
      changes.map((c) => changeItem(c, details.get(c.id) ?? null, who, onDecide, now)),
    ),
  );
}

/**
 * What the page says after a stage change or swap was held for approval; null for any other answer.
 * @param {unknown} answer
 */
export function heldNotice(answer) {
  const held = /** @type {{ pending?: unknown, change?: ChangeView } | null} */ (answer);
  if (held?.pending !== true || !held.change) return null;
  const { change } = held;
  return `Held for approval as change ${change.id}: nothing changes until ${change.approvalsRequired - change.approvals.length} more release key(s), never yours, approve it (see Pending changes).`;
}
