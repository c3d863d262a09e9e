// @ts-check
import { availableActions, challengerActions, openAction, openDecision } from './actions.js';
import { api, session, useCasePath } from './api.js';
import { changesPanel, heldNotice } from './changes.js';
import { agreementChart, costChart, destroyCharts, latencyErrorChart, segmentChart } from './charts.js';
import { challengerPanel } from './challenger.js';
import { driftPanel, readDrift } from './drift.js';
import { byId, clear, el } from './dom.js';
import { journeyBody, journeyChart } from './journey.js';
import { usd } from '../format/figures.js';
import {
  allCohorts,
  cohortName,
  confusionPanel,
  currentCohort,
  evidencePanel,
  gatePanel,
  gateWarnings,
  judgeCalibrationPanel,
  labelPanel,
  overviewTable,
  stagesTable,
  transitionsList,
  useCaseHeading,
} from './views.js';

/**
 * The dashboard: a key form, then every use case in the key's scope and the details of the one
 * selected (its id is the only thing kept in the address, as #id). Data comes from /v1 only.
 */

/**
 * @typedef {import('./api.js').ApiError} ApiError
 * @typedef {import('./api.js').Whoami} Whoami
 * @typedef {import('./api.js').UseCaseList} UseCaseList
 * @typedef {import('./api.js').UseCaseDetail} UseCaseDetail
 * @typedef {import('./api.js').Timeseries} Timeseries
 * @typedef {import('./api.js').TransitionList} TransitionList
 * @typedef {import('./journey.js').Journey} Journey
 * @typedef {import('./api.js').Bucket} Bucket
 * @typedef {import('./dom.js').Children} Children
 * @typedef {import('./views.js').Entry} Entry
 * @typedef {import('./changes.js').ChangeView} ChangeView
 * @typedef {import('./changes.js').ChangeDetail} ChangeDetail
 */

const REFRESH_MS = 30_000;
/** Pending changes of the selected use case whose diff is read; the rest are listed without it. */
const MAX_CHANGE_DETAILS = 10;
const $ = byId;

/**
 * @type {{ who: Whoami | null, entries: Entry[], pending: ChangeView[], selected: string | null,
 *   bucket: Bucket | null, cohort: string | null, generation: number }}
 */
const state = {
  who: null,
  entries: [],
  pending: [],
  selected: null,
  bucket: null,
  cohort: null,
  generation: 0,
};

/** @param {string} [message] */
function showSignIn(message) {
  destroyCharts();
  state.who = null;
  // A refresh still waiting for the previous key's answers must not draw them after sign-out.
  state.generation += 1;
  $('main').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  const error = $('key-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('key-input').focus();
}

/** @param {Whoami} who */
function showMain(who) {
  $('sign-in').hidden = true;
  $('main').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = who.name;
  $('who-role').textContent = who.role;
}

/** @param {string | null} message */
function banner(message) {
  const box = $('banner');
  box.hidden = !message;
  box.textContent = message ?? '';
}

/**
 * What the page says after an action it took (a change held for approval), until the next one.
 * @param {string | null} message
 */
function notice(message) {
  const box = $('notice');
  box.hidden = !message;
  box.textContent = message ?? '';
}

/** @param {ApiError} error */
function refusal(error) {
  if (error.status === 401) return `The key was refused (${error.message}).`;
  return error.message;
}

/** @param {string} key */
async function signIn(key) {
  try {
    state.who = /** @type {Whoami} */ (await api('/v1/whoami', { key }));
  } catch (error) {
    session.clear();
    showSignIn(refusal(/** @type {ApiError} */ (error)));
    return;
  }
  session.save(key);
  showMain(state.who);
  await refresh();
}

function signOut() {
  session.clear();
  state.entries = [];
  state.pending = [];
  notice(null);
  clear($('overview-body'));
  clear($('detail'));
  showSignIn();
}

/** Reloads every use case and the selected one's details; a newer refresh wins over an older one. */
async function refresh() {
  if (!state.who) return;
  const generation = ++state.generation;
  /** @type {UseCaseList} */
  let list;
  try {
    list = await api('/v1/use-cases');
  } catch (caught) {
    if (generation !== state.generation) return;
    const error = /** @type {ApiError} */ (caught);
    if (error.status === 401) return signOut();
    banner(
      error.status === 403
        ? `This key (role ${state.who.role}) cannot read use cases: ${error.message}. Use a viewer, release or admin key.`
        : `Could not load the use cases: ${error.message}`,
    );
    return;
  }
  const [entries, pending] = await Promise.all([
    /** @type {Promise<Entry[]>} */ (
      Promise.all(
        list.useCases.map(async (summary) => {
          try {
            return { summary, detail: /** @type {UseCaseDetail} */ (await api(useCasePath(summary.id))) };
          } catch (error) {
            return { summary, error: /** @type {ApiError} */ (error).message };
          }
        }),
      )
    ),
    // Every change waiting in the key's scope (the API lists 200 at most); none when it cannot say.
    /** @type {Promise<{ changes: ChangeView[] }>} */ (api('/v1/changes?state=pending&limit=200')).then(
      (body) => body.changes,
      () => [],
    ),
  ]);
  if (generation !== state.generation) return;
  banner(null);
  state.entries = entries;
  state.pending = pending;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (entries.some((e) => e.summary.id === fromHash)) state.selected = fromHash;
  if (!entries.some((e) => e.summary.id === state.selected)) state.selected = entries[0]?.summary.id ?? null;
  renderOverview();
  await renderDetail(generation);
  $('updated').textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
}

function renderOverview() {
  const body = clear($('overview-body'));
  if (state.entries.length === 0) {
    body.append(
      el(
        'p',
        { class: 'muted' },
        'No use cases in this key’s scope yet. Apply a rollout plan to create one.',
      ),
    );
    return;
  }
  body.append(overviewTable(state.entries, state.selected, select, pendingCounts(state.pending)));
}

/**
 * How many changes wait for approval, per use case.
 * @param {ChangeView[]} changes
 */
function pendingCounts(changes) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const c of changes) counts.set(c.useCase, (counts.get(c.useCase) ?? 0) + 1);
  return counts;
}

/** @param {string} id */
function select(id) {
  if (id === state.selected) return;
  state.selected = id;
  state.bucket = null;
  state.cohort = null;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  renderOverview();
  renderDetail(state.generation);
}

/**
 * Hourly buckets for up to three days of decisions, daily beyond.
 * @param {UseCaseDetail} detail
 * @returns {Bucket}
 */
function defaultBucket(detail) {
  const cohorts = allCohorts(detail);
  const first = Math.min(...cohorts.map((c) => Date.parse(c.firstDecisionAt ?? '') || Infinity));
  const last = Math.max(...cohorts.map((c) => Date.parse(c.lastDecisionAt ?? '') || -Infinity));
  return Number.isFinite(first) && last - first > 3 * 86_400_000 ? 'day' : 'hour';
}

/**
 * @param {string} title
 * @param {string} id
 * @param {...Children} content
 */
function panel(title, id, ...content) {
  return el('section', { class: 'panel', id }, el('h3', {}, title), ...content);
}

/** @param {number} generation */
async function renderDetail(generation) {
  const entry = state.entries.find((e) => e.summary.id === state.selected);
  const detailBox = $('detail');
  if (!entry?.detail) {
    destroyCharts();
    clear(detailBox).append(entry ? el('p', { class: 'error' }, entry.error) : '');
    return;
  }
  const { detail } = entry;
  state.bucket ??= defaultBucket(detail);
  const pending = state.pending.filter((c) => c.useCase === detail.id);
  const [series, transitions, journey, changeDetails, drift] = await Promise.all([
    /** @type {Promise<Timeseries & { error?: undefined }>} */ (
      api(useCasePath(detail.id, `/timeseries?bucket=${state.bucket}`))
    ).catch((e) => ({ error: /** @type {string} */ (e.message) })),
    /** @type {Promise<TransitionList & { error?: undefined }>} */ (
      api(useCasePath(detail.id, '/transitions'))
    ).catch((e) => ({ error: /** @type {string} */ (e.message) })),
    /** @type {Promise<Journey>} */ (api(useCasePath(detail.id, '/journey'))).catch((e) => ({
      error: /** @type {string} */ (e.message),
    })),
    changeDiffs(pending.slice(0, MAX_CHANGE_DETAILS)),
    readDrift(detail.id),
  ]);
  const { who } = state;
  if (generation !== state.generation || state.selected !== detail.id || !who) return;
  destroyCharts();

  const criteria = detail.gate?.criteria ?? [];
  // Agreement criteria require a number (only minDuration's `required` is text).
  const bound = criteria.find((c) => c.name === 'agreementLowerBound')?.required;
  const threshold = typeof bound === 'number' ? bound : undefined;
  const segmentBound = criteria.find((c) => c.name.startsWith('segment:'))?.required;
  const segmentThreshold = typeof segmentBound === 'number' ? segmentBound : undefined;
  const cohorts = allCohorts(detail).filter((c) => c.samples > 0 || c.aiCalls > 0);
  const shown =
    cohorts.find((c) => cohortName(c) === state.cohort) ??
    currentCohort(detail) ??
    [...cohorts].sort((a, b) => ((a.lastDecisionAt ?? '') < (b.lastDecisionAt ?? '') ? 1 : -1))[0] ??
    null;

  const bucketButtons = el(
    'div',
    { class: 'toggle', role: 'group', 'aria-label': 'bucket' },
    /** @type {Bucket[]} */ (['hour', 'day']).map((b) =>
      el(
        'button',
        {
          type: 'button',
          class: b === state.bucket ? 'on' : undefined,
          'aria-pressed': String(b === state.bucket),
          onclick: () => {
            state.bucket = b;
            renderDetail(state.generation);
          },
        },
        `per ${b}`,
      ),
    ),
  );
  const cohortSelect = el(
    'select',
    {
      id: 'cohort-select',
      'aria-label': 'cohort',
      onchange: (event) => {
        state.cohort = /** @type {HTMLSelectElement} */ (event.target).value;
        renderDetail(state.generation);
      },
    },
    cohorts.map((c) => el('option', { value: cohortName(c), selected: c === shown }, cohortName(c))),
  );
  const noSeries = series.error ?? (series.points.length === 0 ? 'No decisions yet.' : null);

  const warnings = gateWarnings(detail.gate);
  clear(detailBox).append(
    el(
      'section',
      { class: 'panel detail-head' },
      useCaseHeading(detail),
      el('div', { class: 'actions', id: 'actions' }, actionButtons(detail, who)),
    ),
    // Above every panel: a bar a trivial AI clears must not be missed beside an `eligible`.
    ...(warnings ? [warnings] : []),
    el(
      'section',
      { class: 'panel wide', id: 'journey-panel' },
      el('h3', {}, 'Journey'),
      el(
        'p',
        { class: 'muted small' },
        "Each stage visit, and what each tick judged it on: the gate's agreement bound against its threshold, the guard's window against its guard.",
      ),
      ...journeyBody(journey),
    ),
    el(
      'div',
      { class: 'grid' },
      changesPanel(pending, changeDetails, who, decide),
      challengerPanel(detail, challengerButtons(detail, who)),
      panel(
        detail.gate?.targetStage ? `Gate to ${detail.gate.targetStage}` : 'Gate',
        'gate-panel',
        gatePanel(detail.gate),
      ),
      detail.judgeCalibration
        ? panel('The judge against people', 'judge-panel', judgeCalibrationPanel(detail.judgeCalibration))
        : null,
      panel(
        'Agreement over time',
        'agreement-panel',
        bucketButtons,
        noSeries
          ? el('p', { class: 'muted' }, noSeries)
          : el('div', { class: 'chart' }, el('canvas', { id: 'agreement-chart' })),
      ),
      panel(
        'AI latency and errors over time',
        'latency-panel',
        noSeries
          ? el('p', { class: 'muted' }, noSeries)
          : el('div', { class: 'chart' }, el('canvas', { id: 'latency-chart' })),
      ),
      panel(
        'Evidence beyond agreement',
        'evidence-panel',
        el('p', { class: 'muted small' }, shown ? cohortName(shown) : ''),
        evidencePanel(shown),
      ),
      panel(
        'Per label',
        'label-panel',
        el('p', { class: 'muted small' }, shown ? cohortName(shown) : ''),
        labelPanel(shown, shown !== null && shown === currentCohort(detail) ? detail.gate : null),
      ),
      panel(
        'Cost per decision by stage',
        'cost-panel',
        el('div', { class: 'chart short' }, el('canvas', { id: 'cost-chart' })),
        expectedErrorCosts(cohorts),
      ),
      el(
        'section',
        { class: 'panel wide', id: 'stages-panel' },
        el('h3', {}, 'Stages and cohorts'),
        stagesTable(detail),
      ),
      panel(
        'Agreement per segment',
        'segment-panel',
        cohortSelect,
        shown?.segments.length
          ? el('div', { class: 'chart' }, el('canvas', { id: 'segment-chart' }))
          : el('p', { class: 'muted' }, 'No segment has compared decisions in this cohort.'),
      ),
      panel(
        'Confusion matrix',
        'confusion-panel',
        el('p', { class: 'muted small' }, shown ? cohortName(shown) : ''),
        confusionPanel(shown),
      ),
      driftPanel(drift),
      el(
        'section',
        { class: 'panel wide', id: 'transitions-panel' },
        el('h3', {}, 'Transitions'),
        transitions.error !== undefined
          ? el('p', { class: 'error' }, transitions.error)
          : transitionsList(transitions.transitions),
      ),
    ),
  );

  if (!('error' in journey) && journey.points.length > 0) journeyChart($('journey-chart'), journey);
  if (!noSeries && series.error === undefined) {
    agreementChart($('agreement-chart'), series, threshold, detail.gate?.targetStage);
    latencyErrorChart($('latency-chart'), series);
  }
  if (cohorts.length > 0) costChart($('cost-chart'), cohorts);
  if (shown?.segments.length) segmentChart($('segment-chart'), shown.segments, segmentThreshold);
}

/**
 * The diff and effect on the evidence of each change, by id; one that cannot be read is left out
 * (the panel lists it without them).
 * @param {ChangeView[]} changes
 * @returns {Promise<Map<number, ChangeDetail>>}
 */
async function changeDiffs(changes) {
  const read = await Promise.all(
    changes.map((c) =>
      /** @type {Promise<{ change: ChangeDetail }>} */ (api(`/v1/changes/${c.id}`)).then(
        (body) => body.change,
        () => null,
      ),
    ),
  );
  return new Map(read.filter((d) => d !== null).map((d) => [d.id, d]));
}

/**
 * Approve, reject or withdraw a held change through the dialog, then show what became of it.
 * @param {'approve' | 'reject' | 'withdraw'} decision
 * @param {ChangeView} change
 */
async function decide(decision, change) {
  notice(null);
  if (await openDecision(decision, change)) await refresh();
}

/**
 * In limited-autonomous the AI decides alone, so a cohort's cost holds the expected cost of its
 * errors: one line per such cohort, beside the chart's stacked part.
 * @param {import('./api.js').CohortMetrics[]} cohorts
 */
function expectedErrorCosts(cohorts) {
  const autonomous = cohorts.filter((c) => c.expectedErrorCostPerDecision !== null);
  if (autonomous.length === 0) return null;
  return el(
    'ul',
    { class: 'muted small expected-error-costs' },
    autonomous.map((c) =>
      el(
        'li',
        { dataset: { field: 'expected-error-cost', value: c.expectedErrorCostPerDecision ?? '' } },
        `${cohortName(c)}: expected error cost ${usd(c.expectedErrorCostPerDecision)} per decision, in the total of ${usd(c.costPerDecision)}`,
      ),
    ),
  );
}

/**
 * @param {UseCaseDetail} detail
 * @param {Whoami} who
 */
function actionButtons(detail, who) {
  if (!who.permissions.includes('release')) {
    return el(
      'p',
      { class: 'muted small' },
      `Read-only: a ${who.role} key cannot promote, roll back or disable.`,
    );
  }
  return buttons(detail, availableActions(detail));
}

/**
 * Swap in and discard, for a key that may; nothing otherwise (the head says the key is read-only).
 * @param {UseCaseDetail} detail
 * @param {Whoami} who
 */
function challengerButtons(detail, who) {
  return who.permissions.includes('release') ? buttons(detail, challengerActions(detail)) : null;
}

/**
 * @param {UseCaseDetail} detail
 * @param {import('./actions.js').Action[]} actions
 */
function buttons(detail, actions) {
  return actions.map((action) =>
    el(
      'button',
      {
        type: 'button',
        class: action.danger ? 'danger' : undefined,
        dataset: { action: action.kind },
        onclick: async () => {
          notice(null);
          const done = await openAction(action.kind, detail);
          if (!done) return;
          await refresh();
          notice(heldNotice(done.answer));
        },
      },
      action.label,
    ),
  );
}

function start() {
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    /** @type {HTMLInputElement} */
    const input = $('key-input');
    const key = input.value.trim();
    input.value = '';
    if (key) signIn(key);
  });
  $('sign-out').addEventListener('click', signOut);
  $('refresh').addEventListener('click', () => refresh());
  window.addEventListener('hashchange', () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (state.entries.some((e) => e.summary.id === id)) select(id);
  });
  setInterval(() => {
    if (state.who && !document.querySelector('dialog[open]')) refresh();
  }, REFRESH_MS);
  const saved = session.key();
  if (saved) signIn(saved);
  else showSignIn();
}

start();
