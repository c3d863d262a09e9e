import { api, useCasePath } from './api.js';
import { clear, el } from './dom.js';

/**
 * Promote, roll back, disable and enable: each asks for the reason in a dialog, posts it to the
 * API, and shows the API's refusal as it came (a 409 lists the criteria that do not hold; a 403
 * says what the key may not do).
 */

const STAGE_ORDER = ['shadow', 'human-reviewed', 'limited-autonomous'];

/** The actions a release key may take on this use case now. */
export function availableActions(detail) {
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

function title(kind, detail) {
  switch (kind) {
    case 'promote':
      return `Promote ${detail.id} to ${detail.gate.targetStage}`;
    case 'rollback':
      return `Roll back ${detail.id}`;
    case 'disable':
      return `Disable ${detail.id} (no AI calls until enabled)`;
    default:
      return `Enable ${detail.id}`;
  }
}

function summary(kind, detail) {
  if (kind === 'promote') {
    const failing = (detail.gate?.criteria ?? []).filter((c) => !c.holds);
    if (detail.gate?.verdict === 'eligible') return 'The gate holds: every criterion is met.';
    const blocked = failing.filter((c) => c.status === 'blocked').length;
    return `The gate is ${detail.gate?.verdict}: ${failing.length} criteria do not hold (${blocked} blocked). The API refuses unless you force it; a forced promotion is recorded as forced.`;
  }
  if (kind === 'rollback')
    return `Now in ${detail.stage}. Without a choice, the plan's rollbackTo (else the stage before) applies.`;
  if (kind === 'disable')
    return 'The kill switch: the flag turns off and no AI calls are made until the use case is enabled again.';
  return 'The use case returns to the stage it had when it was disabled.';
}

/**
 * Opens the dialog for `kind` on `detail`; resolves true after the API accepted the action,
 * false when the dialog was cancelled.
 */
export function openAction(kind, detail) {
  const dialog = document.getElementById('action-dialog');
  const form = document.getElementById('action-form');
  const reason = document.getElementById('action-reason');
  const force = document.getElementById('action-force');
  const to = document.getElementById('action-to');
  const error = document.getElementById('action-error');
  const submit = document.getElementById('action-submit');

  document.getElementById('action-title').textContent = title(kind, detail);
  document.getElementById('action-summary').textContent = summary(kind, detail);
  reason.value = '';
  force.checked = false;
  document.getElementById('action-force-row').hidden = kind !== 'promote';
  document.getElementById('action-to-row').hidden = kind !== 'rollback';
  clear(to).append(
    el('option', { value: '' }, 'as the plan says'),
    ...STAGE_ORDER.slice(0, Math.max(0, STAGE_ORDER.indexOf(detail.stage))).map((s) =>
      el('option', { value: s }, s),
    ),
  );
  error.hidden = true;
  clear(error);
  submit.textContent = { promote: 'Promote', rollback: 'Roll back', disable: 'Disable', enable: 'Enable' }[
    kind
  ];
  submit.disabled = false;

  return new Promise((resolve) => {
    const finish = (done) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(done);
    };
    const onClose = () => finish(false);
    const onSubmit = async (event) => {
      event.preventDefault();
      if (event.submitter?.value === 'cancel') return finish(false);
      const body = { reason: reason.value.trim() };
      if (kind === 'promote' && force.checked) body.force = true;
      if (kind === 'rollback' && to.value) body.to = to.value;
      submit.disabled = true;
      try {
        await api(useCasePath(detail.id, `/${kind}`), { method: 'POST', body });
        finish(true);
      } catch (failure) {
        submit.disabled = false;
        showError(error, failure);
      }
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    reason.focus();
  });
}

function showError(box, failure) {
  clear(box);
  const status = failure.status ? `${failure.status}: ` : '';
  const lead =
    failure.status === 403
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
