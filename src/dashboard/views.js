// @ts-check
import { el, num, stageBadge, statusMark, table, verdictBadge } from './dom.js';
import {
  count,
  criterionComparator,
  criterionFigure,
  duration,
  kappa,
  NONE,
  percent,
  usd,
} from '../format/figures.js';
import { criterionLabel, dateTime, since } from './format.js';

/** The tables and lists of the dashboard, each a pure function of the API's answers. */

/**
 * @typedef {import('./api.js').UseCaseSummary} UseCaseSummary
 * @typedef {import('./api.js').UseCaseDetail} UseCaseDetail
 * @typedef {import('./api.js').CohortMetrics} CohortMetrics
 * @typedef {import('./api.js').GateAssessment} GateAssessment
 * @typedef {import('./api.js').Criterion} Criterion
 * @typedef {import('./api.js').Transition} Transition
 * @typedef {import('./dom.js').Cell} Cell
 * @typedef {import('./dom.js').Children} Children
 * @typedef {import('../flags/flag-sync-status.js').FlagSyncStatus} FlagSyncStatus
 */

/**
 * A use case of the overview: its summary, and its details or why they could not be read.
 * @typedef {{ summary: UseCaseSummary, detail?: UseCaseDetail, error?: string }} Entry
 */

/**
 * The cohort a gate judges, as the API picks it: current stage and AI configuration, latest model.
 * @param {UseCaseDetail} detail
 * @returns {CohortMetrics | null}
 */
export function currentCohort(detail) {
  const stage = detail.metrics.stages.find((s) => s.stage === detail.stage);
  const candidates = (stage?.cohorts ?? []).filter(
    (c) => c.aiConfig === detail.aiConfig && c.modelVersion !== null,
  );
  return candidates.reduce(
    (latest, c) => (latest === null || (c.lastDecisionAt ?? '') > (latest.lastDecisionAt ?? '') ? c : latest),
    /** @type {CohortMetrics | null} */ (null),
  );
}

/** @param {UseCaseDetail} detail */
export function allCohorts(detail) {
  return detail.metrics.stages.flatMap((s) => s.cohorts);
}

/** @param {CohortMetrics} c */
export const cohortName = (c) =>
  `${c.stage} · model ${c.modelVersion ?? 'pending'} · config ${c.aiConfig.slice(0, 8)}`;

/** @type {Record<string, string>} */
const CHIP_LABELS = {
  minSamples: 'samples',
  minDuration: 'time',
  agreementLowerBound: 'agreement bound',
  maxAiErrorRate: 'AI errors',
  maxP95LatencyMs: 'p95',
  maxAiCostPerDecision: 'AI cost',
  maxErrorCostPerDecision: 'error cost',
};

/** @param {string} name */
function chipLabel(name) {
  if (name.startsWith('labelRecallLowerBound:')) return `recall ${name.slice(name.indexOf(':') + 1)}`;
  if (name.startsWith('labelPrecisionLowerBound:')) return `precision ${name.slice(name.indexOf(':') + 1)}`;
  return CHIP_LABELS[name] ?? name.replace(/^segment:/, '');
}

/** @param {Criterion} c */
function criterionChip(c) {
  const { status } = c;
  const text = `${chipLabel(c.name)} ${criterionFigure(c.name, c.actual)} ${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`;
  return el('li', { class: `chip chip-${status}`, title: `${status}${c.detail ? `: ${c.detail}` : ''}` }, [
    statusMark(status),
    ' ',
    text,
  ]);
}

/**
 * How many changes of the use case wait for approval (README "Change control"); null for none.
 * @param {number | undefined} n
 */
function pendingChip(n) {
  if (!n) return null;
  return el(
    'div',
    { class: 'pending-chip', dataset: { field: 'pending-changes', value: n } },
    `${n} change${n === 1 ? '' : 's'} pending approval`,
  );
}

/**
 * One row per use case: stage (with its changes pending approval), gate verdict and each
 * criterion, headline numbers.
 * @param {Entry[]} entries
 * @param {string | null} selectedId
 * @param {(id: string) => void} onSelect
 * @param {Map<string, number>} [pendingCounts] changes waiting for approval, per use case
 */
export function overviewTable(entries, selectedId, onSelect, pendingCounts = new Map()) {
  const rows = entries.map(({ summary, detail, error }) => {
    const select = el(
      'button',
      { class: 'link', type: 'button', onclick: () => onSelect(summary.id) },
      summary.id,
    );
    if (!detail) {
      return el('tr', { dataset: { useCase: summary.id } }, [
        el('td', {}, select),
        el('td', {}, stageBadge(summary.stage)),
        el('td', { colspan: '5', class: 'error' }, error ?? 'not loaded'),
      ]);
    }
    const stage = detail.metrics.stages.find((s) => s.stage === detail.stage);
    const cohort = currentCohort(detail);
    const gate = detail.gate;
    const criteria = gate?.criteria ?? [];
    const holding = criteria.filter((c) => c.holds).length;
    return el(
      'tr',
      { dataset: { useCase: summary.id }, class: summary.id === selectedId ? 'selected' : undefined },
      [
        el('td', {}, select, el('div', { class: 'muted small' }, detail.owner)),
        el(
          'td',
          {},
          stageBadge(detail.stage),
          flagNotice(detail),
          pendingChip(pendingCounts.get(summary.id)),
        ),
        el(
          'td',
          {},
          gate ? verdictBadge(gate.verdict) : NONE,
          gate?.targetStage ? el('div', { class: 'muted small' }, `to ${gate.targetStage}`) : null,
          criteria.length > 0
            ? el('div', { class: 'muted small' }, `${holding} of ${criteria.length} hold`)
            : null,
          (gate?.warnings ?? []).map((w) =>
            el(
              'div',
              { class: 'warning-chip', title: w.message, dataset: { field: 'warning', code: w.code } },
              `⚠ ${w.code}`,
            ),
          ),
        ),
        el('td', { class: 'criteria-cell' }, el('ul', { class: 'chips' }, criteria.map(criterionChip))),
        el(
          'td',
          num(count(stage?.samples ?? 0), 'samples', stage?.samples ?? 0).props,
          count(stage?.samples ?? 0),
        ),
        el(
          'td',
          { class: 'num' },
          el(
            'span',
            { dataset: { field: 'agreement', value: cohort?.agreement ?? '' } },
            percent(cohort?.agreement),
          ),
          el('div', { class: 'muted small' }, `lower ${percent(cohort?.agreementLowerBound)}`),
        ),
        el(
          'td',
          num(usd(cohort?.costPerDecision), 'cost', cohort?.costPerDecision).props,
          usd(cohort?.costPerDecision),
        ),
      ],
    );
  });
  return table(
    [
      'Use case',
      'Stage',
      'Gate',
      'Criteria (actual against required)',
      { props: { class: 'num' }, content: 'Samples' },
      { props: { class: 'num' }, content: 'Agreement' },
      { props: { class: 'num' }, content: 'Cost / decision' },
    ],
    rows,
    { class: 'overview', id: 'use-case-table' },
  );
}

/**
 * Every criterion of the gate with what it asks, what was measured, and whether it holds.
 * @param {GateAssessment | null | undefined} gate
 */
export function gatePanel(gate) {
  if (!gate) return el('p', { class: 'muted' }, 'The controller reports no gate for this use case.');
  const intro = el(
    'p',
    { class: 'muted small' },
    gate.verdict === 'none'
      ? `No promotion gate from ${gate.fromStage}: the plan names no later stage or no promoteWhen.`
      : `From ${gate.fromStage} to ${gate.targetStage}, approval ${gate.approval}; agreement bounds ${gate.statistics} at ${percent(gate.confidence, 1)} confidence.`,
  );
  if (gate.criteria.length === 0) return el('div', {}, intro);
  const rows = gate.criteria.map((c) => {
    const { status } = c;
    const observed =
      c.observed !== undefined && c.observed !== null
        ? el(
            'div',
            { class: 'muted small', dataset: { field: 'observed', value: c.observed } },
            `observed ${criterionFigure(c.name, c.observed)} of ${count(c.samples)}`,
          )
        : null;
    return el('tr', { class: `criterion criterion-${status}`, dataset: { criterion: c.name, status } }, [
      el('td', {}, criterionLabel(c.name), c.detail ? el('div', { class: 'muted small' }, c.detail) : null),
      el('td', { class: 'num' }, `${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`),
      el('td', { class: 'num' }, criterionFigure(c.name, c.actual), observed),
      el('td', {}, statusMark(status), ' ', status),
    ]);
  });
  return el(
    'div',
    {},
    intro,
    table(
      [
        'Criterion',
        { props: { class: 'num' }, content: 'Required' },
        { props: { class: 'num' }, content: 'Actual' },
        'Status',
      ],
      rows,
      { class: 'gate' },
    ),
  );
}

/**
 * Against all-human work, per month at the observed volume.
 * @param {number | null | undefined} monthly
 */
function savings(monthly) {
  if (monthly === null || monthly === undefined) return '';
  return monthly >= 0 ? `saves ${usd(monthly)}/mo` : `${usd(-monthly)}/mo more than all-human`;
}

/**
 * One row per cohort (stage × AI configuration × model version).
 * @param {UseCaseDetail} detail
 */
export function stagesTable(detail) {
  /** @type {Array<Node | Cell[]>} */
  const rows = [];
  for (const stage of detail.metrics.stages) {
    if (stage.cohorts.length === 0) {
      rows.push([
        stageBadge(stage.stage),
        NONE,
        num(count(stage.decisions)),
        num(count(stage.samples)),
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
    for (const c of stage.cohorts) {
      rows.push(
        el('tr', { dataset: { stage: c.stage, model: c.modelVersion ?? '' } }, [
          el('td', {}, stageBadge(c.stage)),
          el('td', { class: 'small' }, c.modelVersion ?? 'pending'),
          el('td', { class: 'num' }, count(c.decisions)),
          el('td', { class: 'num', dataset: { field: 'samples', value: c.samples } }, count(c.samples)),
          el(
            'td',
            { class: 'num' },
            el('span', { dataset: { field: 'agreement', value: c.agreement ?? '' } }, percent(c.agreement)),
            el('div', { class: 'muted small' }, `lower ${percent(c.agreementLowerBound)}`),
            el(
              'div',
              {
                class: 'muted small',
                dataset: { field: 'with-failures', value: c.agreementWithFailures ?? '' },
              },
              `with failures ${percent(c.agreementWithFailures)}`,
            ),
          ),
          el(
            'td',
            { class: 'num', dataset: { field: 'coverage', value: c.coverage ?? '' } },
            percent(c.coverage),
          ),
          el('td', { class: 'num wrap', dataset: { field: 'kappa' } }, kappa(c.kappa, c.kappaInterval)),
          el('td', { class: 'num', dataset: { field: 'error-rate' } }, percent(c.aiErrorRate)),
          el('td', { class: 'num' }, `${duration(c.latencyP50Ms)} / ${duration(c.latencyP95Ms)}`),
          el('td', { class: 'num' }, usd(c.aiCostPerDecision)),
          el(
            'td',
            { class: 'num', dataset: { field: 'error-cost', value: c.errorCost?.perDecision ?? '' } },
            usd(c.errorCost?.perDecision),
            c.errorCost ? el('div', { class: 'muted small' }, `upper ${usd(c.errorCost.upperBound)}`) : null,
          ),
          el(
            'td',
            { class: 'num' },
            usd(c.costPerDecision),
            el('div', { class: 'muted small' }, savings(c.monthlySavings)),
          ),
        ]),
      );
    }
  }
  /** @param {Children} content */
  const n = (content) => ({ props: { class: 'num' }, content });
  return table(
    [
      'Stage',
      'Model',
      n('Decisions'),
      n('Samples'),
      n('Agreement'),
      n('Coverage'),
      n('κ (95%)'),
      n('AI errors'),
      n('p50 / p95'),
      n('AI cost'),
      n('Error cost'),
      n('Cost / decision'),
    ],
    rows,
    { class: 'stages' },
  );
}

/**
 * Rows: the human's label; columns: the AI's. The diagonal is agreement.
 * @param {CohortMetrics | null} cohort
 */
export function confusionPanel(cohort) {
  if (!cohort?.confusion) {
    return el(
      'p',
      { class: 'muted' },
      'No confusion matrix: the decisions are not labels, or none were compared yet.',
    );
  }
  const { labels, matrix } = cohort.confusion;
  const max = Math.max(1, ...matrix.flat());
  const rows = labels.map((human, i) =>
    el('tr', {}, [
      el('th', { scope: 'row' }, human),
      ...labels.map((ai, j) => {
        const n = matrix[i]?.[j] ?? 0;
        const shade = Math.ceil((n / max) * 4);
        return el(
          'td',
          {
            class: `num cell ${i === j ? 'diagonal' : 'off'} shade-${shade}`,
            title: `human ${human}, AI ${ai}: ${n}`,
          },
          count(n),
        );
      }),
    ]),
  );
  const matrixTable = el(
    'table',
    { class: 'confusion' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { class: 'corner' }, 'human ↓ AI →'),
        labels.map((l) => el('th', { class: 'num' }, l)),
      ),
    ),
    el('tbody', {}, rows),
  );
  return el('div', { class: 'confusion-wrap' }, matrixTable);
}

/**
 * Per label: recall (of the requests a person gave it, the share the AI gave it too) with its
 * support, precision (of the AI's answers with it, the share a person agreed with), the AI calls
 * that failed on it, and the gate's per-label criteria with their status (for the gate's cohort).
 * @param {CohortMetrics | null} cohort
 * @param {GateAssessment | null | undefined} gate the gate, when `cohort` is the one it counts
 */
export function labelPanel(cohort, gate) {
  if (!cohort?.perLabel || cohort.perLabel.length === 0) {
    return el(
      'p',
      { class: 'muted' },
      'No per-label evidence: the decisions are not labels, or none were compared yet.',
    );
  }
  const criteria = gate?.criteria ?? [];
  /** @param {string} label */
  const labelCriteria = (label) =>
    criteria.filter(
      (c) => c.name === `labelRecallLowerBound:${label}` || c.name === `labelPrecisionLowerBound:${label}`,
    );
  const rows = cohort.perLabel.map((l) =>
    el('tr', { dataset: { label: l.label } }, [
      el('th', { scope: 'row' }, l.label),
      el('td', { class: 'num', dataset: { field: 'support', value: l.support } }, count(l.support)),
      el(
        'td',
        { class: 'num', dataset: { field: 'recall', value: l.recall ?? '' } },
        percent(l.recall),
        el('div', { class: 'muted small' }, `${count(l.hits)} of ${count(l.support)}`),
      ),
      el('td', { class: 'num', dataset: { field: 'predicted', value: l.predicted } }, count(l.predicted)),
      el(
        'td',
        { class: 'num', dataset: { field: 'precision', value: l.precision ?? '' } },
        percent(l.precision),
        el('div', { class: 'muted small' }, `${count(l.hits)} of ${count(l.predicted)}`),
      ),
      el('td', { class: 'num', dataset: { field: 'ai-failures', value: l.aiFailures } }, count(l.aiFailures)),
      el('td', {}, el('ul', { class: 'chips' }, labelCriteria(l.label).map(criterionChip))),
    ]),
  );
  const baseline = cohort.majorityBaseline
    ? el(
        'p',
        {
          class: 'muted small',
          dataset: { field: 'majority-baseline', value: cohort.majorityBaseline.agreement },
        },
        `Always answering “${cohort.majorityBaseline.label}” would agree ${percent(cohort.majorityBaseline.agreement)} on this cohort.`,
      )
    : null;
  return el(
    'div',
    {},
    table(
      [
        'Label',
        {
          props: { class: 'num', title: 'compared requests a person gave the label' },
          content: 'Person gave it',
        },
        { props: { class: 'num', title: 'of those, the share the AI gave it too' }, content: 'Recall' },
        { props: { class: 'num', title: 'compared answers the AI gave the label' }, content: 'AI gave it' },
        { props: { class: 'num', title: 'of those, the share a person agreed with' }, content: 'Precision' },
        {
          props: { class: 'num', title: 'requests a person gave the label whose AI call failed for good' },
          content: 'AI failures',
        },
        'Gate',
      ],
      rows,
      { class: 'per-label' },
    ),
    baseline,
  );
}

/**
 * What the gate's cohort shows beyond agreement: failures counted, coverage, kappa with its
 * interval, the majority baseline and the cost of the AI's errors.
 * @param {CohortMetrics | null} cohort
 */
export function evidencePanel(cohort) {
  if (!cohort) return el('p', { class: 'muted' }, 'No compared decisions in this cohort yet.');
  /** @type {Array<[string, string, Children, string | number | null]>} */
  const items = [
    [
      'agreement',
      'Agreement',
      `${percent(cohort.agreement)} of ${count(cohort.samples)} compared`,
      cohort.agreement,
    ],
    [
      'with-failures',
      'With AI failures as disagreements',
      `${percent(cohort.agreementWithFailures)} (${count(cohort.aiFailedWithHuman)} failed for good)`,
      cohort.agreementWithFailures,
    ],
    ['coverage', 'Coverage (decisions with an AI answer)', percent(cohort.coverage), cohort.coverage],
    ['kappa', 'Cohen’s κ (95% interval)', kappa(cohort.kappa, cohort.kappaInterval), cohort.kappa],
  ];
  if (cohort.majorityBaseline) {
    items.push([
      'majority-baseline',
      'Majority baseline',
      `always “${cohort.majorityBaseline.label}”: ${percent(cohort.majorityBaseline.agreement)}`,
      cohort.majorityBaseline.agreement,
    ]);
  }
  const e = cohort.errorCost;
  if (e) {
    items.push([
      'error-cost',
      'Error cost per compared decision',
      [
        usd(e.perDecision),
        el(
          'div',
          { class: 'muted small', dataset: { field: 'error-cost-upper', value: e.upperBound ?? '' } },
          `upper bound ${usd(e.upperBound)}, lower ${usd(e.lowerBound)}, over ${count(e.samples)}`,
        ),
      ],
      e.perDecision,
    ]);
  }
  if (cohort.expectedErrorCostPerDecision !== null) {
    items.push([
      'expected-error-cost',
      'Expected error cost per decision (the share the AI decides)',
      usd(cohort.expectedErrorCostPerDecision),
      cohort.expectedErrorCostPerDecision,
    ]);
  }
  return el(
    'dl',
    { class: 'evidence' },
    items.map(([field, term, value, raw]) => [
      el('dt', {}, term),
      el('dd', { class: 'num', dataset: { field, value: raw ?? '' } }, value),
    ]),
  );
}

/**
 * The judge against people (README "Is the judge right?"): per judge version of the serving plan
 * version, its agreement with people's ratings of the calibration sample, the anytime-valid lower
 * bound the gate's judgeAgreementLowerBound reads, kappa and the ratings; the version scoring now
 * first. Shown beside the AI's agreement, which is the judge's scores.
 * @param {import('../metrics/judge-calibration.js').JudgeCalibration} calibration
 */
export function judgeCalibrationPanel(calibration) {
  const note = el(
    'p',
    { class: 'muted small' },
    `Plan version ${calibration.planVersion}: people's ratings against the judge (acceptable at score ≥ 0.5).`,
  );
  if (calibration.versions.length === 0) {
    return [
      note,
      el('p', { class: 'muted', dataset: { field: 'judge-ratings', value: 0 } }, 'No ratings yet.'),
    ];
  }
  return [
    note,
    table(
      ['Judge version', 'Rated', 'Agreement', 'Lower bound', 'κ (95%)'],
      calibration.versions.map((v) => {
        const now = v.judgeVersion === calibration.currentJudgeVersion;
        return el(
          'tr',
          { dataset: { judgeVersion: v.judgeVersion } },
          el('td', {}, `${v.judgeVersion === '' ? NONE : v.judgeVersion}${now ? ' (now)' : ''}`),
          el('td', { class: 'num', dataset: { field: 'judge-ratings', value: v.rated } }, count(v.rated)),
          el(
            'td',
            { class: 'num', dataset: { field: 'judge-agreement', value: v.agreement ?? '' } },
            percent(v.agreement),
          ),
          el(
            'td',
            { class: 'num', dataset: { field: 'judge-bound', value: v.agreementLowerBound ?? '' } },
            percent(v.agreementLowerBound),
          ),
          el(
            'td',
            { class: 'num', dataset: { field: 'judge-kappa', value: v.kappa ?? '' } },
            kappa(v.kappa, v.kappaInterval),
          ),
        );
      }),
      { class: 'judge-calibration' },
    ),
  ];
}

/**
 * The gate's warnings (a threshold a trivial AI clears), each on a line of its own; null without.
 * @param {GateAssessment | null | undefined} gate
 */
export function gateWarnings(gate) {
  const warnings = gate?.warnings ?? [];
  if (warnings.length === 0) return null;
  return el(
    'div',
    { class: 'gate-warnings', id: 'gate-warnings', role: 'alert' },
    warnings.map((w) =>
      el(
        'p',
        { class: 'gate-warning', dataset: { code: w.code } },
        el('strong', {}, '⚠ Warning: '),
        w.message,
      ),
    ),
  );
}

/**
 * Newest first: who moved the use case, from where to where, why, and whether it was forced.
 * @param {Transition[]} transitions
 */
export function transitionsList(transitions) {
  if (transitions.length === 0) return el('p', { class: 'muted' }, 'No stage changes yet.');
  const items = [...transitions].reverse().map((t) => {
    const verdict = t.snapshot?.gate?.verdict;
    return el(
      'li',
      { class: `transition${t.forced ? ' forced' : ''}`, dataset: { stageVersion: t.stageVersion } },
      el('div', { class: 'when' }, dateTime(t.at)),
      el(
        'div',
        { class: 'what' },
        t.fromStage ? [stageBadge(t.fromStage), ' → '] : 'created in ',
        stageBadge(t.toStage),
        t.forced ? el('span', { class: 'badge forced-badge', dataset: { field: 'forced' } }, 'forced') : null,
        verdict ? el('span', { class: 'muted small' }, ` gate was ${verdict}`) : null,
      ),
      el('div', { class: 'reason', dataset: { field: 'reason' } }, t.reason),
      el(
        'div',
        { class: 'muted small' },
        el('span', { dataset: { field: 'actor' } }, t.actor),
        t.approvedBy?.length
          ? [' · approved by ', el('span', { dataset: { field: 'approved-by' } }, t.approvedBy.join(', '))]
          : null,
        ` · plan v${t.planVersion}${t.modelVersion ? ` · model ${t.modelVersion}` : ''}`,
      ),
    );
  });
  return el('ol', { class: 'timeline', id: 'transitions' }, items);
}

/**
 * The flag's sync state when the flag does not say what the stage says; null when it does or was
 * not checked yet.
 * @param {UseCaseDetail & { flag?: FlagSyncStatus }} detail
 * @returns {FlagSyncStatus | null}
 */
function flagOutOfSync(detail) {
  const flag = detail.flag;
  return flag && flag.state !== 'in-sync' && flag.state !== 'unknown' ? flag : null;
}

/**
 * `flag: pending approval in Unleash` (or refused, …) with what Unleash answered on hover.
 * @param {UseCaseDetail & { flag?: FlagSyncStatus }} detail
 */
export function flagNotice(detail) {
  const flag = flagOutOfSync(detail);
  if (!flag) return null;
  return el(
    'div',
    {
      class: 'warning-chip',
      title: flag.reason ?? flag.detail,
      dataset: { field: 'flag', state: flag.state },
    },
    `⚑ flag: ${flag.detail}`,
  );
}

/**
 * @param {UseCaseDetail & { flag?: FlagSyncStatus }} detail
 * @param {number} [now]
 */
export function useCaseHeading(detail, now = Date.now()) {
  const flag = flagOutOfSync(detail);
  return el(
    'div',
    { class: 'heading' },
    el('h2', {}, detail.id, ' ', stageBadge(detail.stage)),
    detail.description ? el('p', { class: 'description' }, detail.description) : null,
    el(
      'p',
      { class: 'muted small' },
      `owner ${detail.owner} · plan v${detail.planVersion} · in ${detail.stage} for ${since(detail.stageEnteredAt, now)} (since ${dateTime(detail.stageEnteredAt)})` +
        (detail.earnedModelVersion === null ? '' : ` · earned with model ${detail.earnedModelVersion}`),
    ),
    flag
      ? el(
          'p',
          { class: 'muted small', id: 'flag-status', dataset: { state: flag.state } },
          `flag: ${flag.detail} since ${flag.since ? dateTime(flag.since) : NONE}, last checked ${flag.checkedAt ? dateTime(flag.checkedAt) : NONE}, checked again at every flag sync`,
          flag.reason ? el('br') : null,
          flag.reason,
        )
      : null,
  );
}
