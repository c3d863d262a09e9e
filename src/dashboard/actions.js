// @ts-check
import { api, useCasePath } from './api.js';
import { byId, clear, el } from './dom.js';

/**
 * Promote, roll back, disable and enable, a challenger's swap and discard, and the approval or
 * rejection of a held change: each asks for the reason in a dialog, posts it to the API, and shows
 * the API's refusal as it came (a 409 lists the criteria that do not hold, or says the change is
 * stale; a 403 says what the key may not do, or that it asked for the change itself).
 */

/**
 * @typedef {import('./api.js').UseCaseDetail} UseCaseDetail
 * @typedef {import('./api.js').ApiError} ApiError
 * @typedef {'promote' | 'rollback' | 'disable' | 'enable' | 'swap' | 'discard'} ActionKind
 * @typedef {{ kind: ActionKind, label: string, danger?: boolean }} Action
 * @typedef {import('../promotion/change-types.js').ChangeView} ChangeView
 * @typedef {{ answer: unknown }} Done the API's answer to the action (a held change's 202 too)
 */

/** @type {string[]} */
const STAGE_ORDER = ['shadow', 'human-reviewed', 'limited-autonomous'];

/**
 * The actions a release key may take on this use case now.
 * @param {UseCaseDetail} detail
 */
export function availableActions(detail) {
  /** @type {Action[]} */
  const actions = [];
  if (detail.stage === 'disabled') {
    actions.push({ kind: 'enable', label: 'Enable…' });
    return actions;
  }
  if (detail.gate?.targetStage) {
    actions.push({ kind: 'promote', label: `Promote to ${detail.gate.targetStage}…` });
  }
  if (STAGE_ORDER.indexOf(detail.stage) > 0) actions.push({ kind: 'rollback', label: 'Roll back…' });
  actions.push({ kind: 'disable', label: 'Disable…', danger: true });
  return actions;
}

/**
 * What a release key may do with the use case's challenger: swap it in, or discard it.
 * @param {UseCaseDetail} detail
 * @returns {Action[]}
 */
export function challengerActions(detail) {
  if (!detail.challenger) return [];
  return [
    { kind: 'swap', label: 'Swap in…' },
    { kind: 'discard', label: 'Discard…', danger: true },
  ];
}

/** @type {Record<ActionKind, string>} */
const PATHS = {
  promote: '/promote',
  rollback: '/rollback',
  disable: '/disable',
  enable: '/enable',
  swap: '/challenger/promote',
  discard: '/challenger/discard',
};

/** @type {Record<ActionKind, string>} */
const SUBMIT = {
  promote: 'Promote',
  rollback: 'Roll back',
  disable: 'Disable',
  enable: 'Enable',
  swap: 'Swap in',
  discard: 'Discard',
};

/**
 * @param {ActionKind} kind
 * @param {UseCaseDetail} detail
 */
function title(kind, detail) {
  switch (kind) {
    case 'swap':
      return `Swap the challenger (plan v${detail.challenger?.planVersion}) in for ${detail.id}`;
    case 'discard':
      return `Discard the challenger of ${detail.id}`;
    case 'promote':
      return `Promote ${detail.id} to ${detail.gate?.targetStage}`;
    case 'rollback':
      return `Roll back ${detail.id}`;
    case 'disable':
      return `Disable ${detail.id} (no AI calls until enabled)`;
    default:
      return `Enable ${detail.id}`;
  }
}

/**
 * @param {ActionKind} kind
 * @param {UseCaseDetail} detail
 */
function summary(kind, detail) {
  if (kind === 'promote') {
    const failing = (detail.gate?.criteria ?? []).filter((c) => !c.holds);
    if (detail.gate?.verdict === 'eligible') return 'The gate holds: every criterion is met.';
    const blocked = failing.filter((c) => c.status === 'blocked').length;
    return `The gate is ${detail.gate?.verdict}: ${failing.length} criteria do not hold (${blocked} blocked). The API refuses unless you force it; a forced promotion is recorded as forced.`;
  }
  if (kind === 'swap') {
    const challenger = detail.challenger;
    if (challenger?.verdict === 'eligible')
      return `Every criterion of the challenger holds. Its configuration serves from now on; the stage stays ${detail.stage}.`;
    const failing = (challenger?.criteria ?? []).filter((c) => !c.holds);
    const blocked = failing.filter((c) => c.status === 'blocked').length;
    return `The challenger is ${challenger?.verdict}: ${failing.length} criteria do not hold (${blocked} blocked). The API refuses unless you force it; a forced swap is recorded as forced.`;
  }
  if (kind === 'discard')
    return `The champion's plan version ${detail.champion.planVersion} is applied again as a new plan version; what was changed with the challenger's version ${detail.challenger?.planVersion} is not carried over.`;
  if (kind === 'rollback')
    return `Now in ${detail.stage}. Without a choice, the plan's rollbackTo (else the stage before) applies.`;
  if (kind === 'disable')
    return 'The kill switch: the flag turns off and no AI calls are made until the use case is enabled again.';
  return 'The use case returns to the stage it had when it was disabled.';
}

/**
 * Opens the dialog for `kind` on `detail`; resolves with the API's answer once it accepted the
 * action (a 202 when change control holds it back), null when the dialog was cancelled.
 * @param {ActionKind} kind
 * @param {UseCaseDetail} detail
 * @returns {Promise<Done | null>}
 */
export function openAction(kind, detail) {
  const { reason, force, to } = dialogFields();
  byId('action-title').textContent = title(kind, detail);
  byId('action-summary').textContent = summary(kind, detail);
  reason.value = '';
  force.checked = false;
  const forceable = kind === 'promote' || kind === 'swap';
  byId('action-force-row').hidden = !forceable;
  byId('action-force-text').textContent =
    kind === 'swap'
      ? 'Force: swap in although the challenger’s criteria do not hold'
      : 'Force: promote although the gate does not hold';
  byId('action-reason-label').textContent =
    kind === 'swap' || kind === 'discard'
      ? 'Reason, recorded with the challenger’s end'
      : 'Reason, recorded with the transition';
  byId('action-to-row').hidden = kind !== 'rollback';
  clear(to).append(
    el('option', { value: '' }, 'as the plan says'),
    ...STAGE_ORDER.slice(0, Math.max(0, STAGE_ORDER.indexOf(detail.stage))).map((s) =>
      el('option', { value: s }, s),
    ),
  );
  return runDialog(SUBMIT[kind], () => {
    /** @type {{ reason: string, force?: boolean, to?: string }} */
    const body = { reason: reason.value.trim() };
    if (forceable && force.checked) body.force = true;
    if (kind === 'rollback' && to.value) body.to = to.value;
    return api(useCasePath(detail.id, PATHS[kind]), { method: 'POST', body });
  });
}

/** @type {Record<'approve' | 'reject' | 'withdraw', { title: string, reason: string, submit: string }>} */
const DECISIONS = {
  approve: { title: 'Approve', reason: 'Reason, recorded with your approval', submit: 'Approve' },
  reject: { title: 'Reject', reason: 'Reason, recorded with the rejection', submit: 'Reject' },
  withdraw: { title: 'Withdraw', reason: 'Reason, recorded with the withdrawal', submit: 'Withdraw' },
};

/**
 * Opens the dialog to approve, reject or withdraw a held change; resolves with the API's answer,
 * null when cancelled. Whether the key may is the controller's to say: its refusal shows in the
 * dialog.
 * @param {'approve' | 'reject' | 'withdraw'} decision
 * @param {ChangeView} change
 * @returns {Promise<Done | null>}
 */
export function openDecision(decision, change) {
  const { reason } = dialogFields();
  const missing = change.approvalsRequired - change.approvals.length;
  const text = DECISIONS[decision];
  byId('action-title').textContent =
    `${text.title} change ${change.id} (${change.kind} of ${change.useCase})`;
  byId('action-summary').textContent =
    decision === 'approve'
      ? `Requested by ${change.requestedBy}. ${missing <= 1 ? 'Your approval completes it: the change is applied at once, as theirs, with you as its approver.' : `Your approval is one of the ${missing} still needed.`}`
      : decision === 'reject'
        ? `Requested by ${change.requestedBy}. A rejected change is never applied; the requester can send it again.`
        : 'Your own change: withdrawn, it is never applied (recorded as rejected by you).';
  byId('action-reason-label').textContent = text.reason;
  byId('action-force-row').hidden = true;
  byId('action-to-row').hidden = true;
  reason.value = '';
  return runDialog(text.submit, () =>
    api(`/v1/changes/${encodeURIComponent(String(change.id))}/${decision}`, {
      method: 'POST',
      body: { reason: reason.value.trim() },
    }),
  );
}

function dialogFields() {
  return {
    /** @type {HTMLTextAreaElement} */
    reason: byId('action-reason'),
    /** @type {HTMLInputElement} */
    force: byId('action-force'),
    /** @type {HTMLSelectElement} */
    to: byId('action-to'),
  };
}

/**
 * Shows the dialog as set up; on submit sends what `send` sends, and closes on its answer or
 * shows its refusal and stays open.
 * @param {string} submitLabel
 * @param {() => Promise<unknown>} send
 * @returns {Promise<Done | null>}
 */
function runDialog(submitLabel, send) {
  /** @type {HTMLDialogElement} */
  const dialog = byId('action-dialog');
  /** @type {HTMLFormElement} */
  const form = byId('action-form');
  const error = byId('action-error');
  /** @type {HTMLButtonElement} */
  const submit = byId('action-submit');
  error.hidden = true;
  clear(error);
  submit.textContent = submitLabel;
  submit.disabled = false;

  return new Promise((resolve) => {
    /** @param {Done | null} done */
    const finish = (done) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(done);
    };
    const onClose = () => finish(null);
    /** @param {SubmitEvent} event */
    const onSubmit = async (event) => {
      event.preventDefault();
      if (/** @type {HTMLButtonElement | null} */ (event.submitter)?.value === 'cancel') return finish(null);
      submit.disabled = true;
      try {
        finish({ answer: await send() });
      } catch (failure) {
        submit.disabled = false;
        showError(error, /** @type {ApiError} */ (failure));
      }
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    byId('action-reason').focus();
  });
}

/**
 * @param {HTMLElement} box
 * @param {ApiError} failure
 */
function showError(box, failure) {
  clear(box);
  const status = failure.status ? `${failure.status}: ` : '';
  // A change's own requester is refused whatever its role: no hint about roles then.
  const lead =
    failure.status === 403 && failure.code !== 'self_approval'
      ? `${status}${failure.message}. A key with the release (or admin) role can do this.`
      : `${status}${failure.message}`;
  box.append(el('p', {}, lead));
  if (failure.details?.length) {
    box.append(
      el(
        'ul',
        {},
        failure.details.map((d) =>
          el('li', {}, d.path ? el('code', {}, d.path) : null, d.path ? ' ' : null, d.problem),
        ),
      ),
    );
  }
  box.hidden = false;
}
