import {
  count,
  criterionComparator,
  criterionFigure,
  decimal,
  duration,
  kappa,
  NONE,
  percent,
  percentAgainst,
  usd,
  points,
} from '../format/figures.js';
import { code, type Markdown, markdownDocument, md, strong, table } from './markdown-text.js';
import { changesMarkdown } from './report-changes.js';
import { driftMarkdown } from './report-drift-markdown.js';
import type { CohortEvidence, EvidenceReport, GateCriterionEntry, StageEvidence } from './report-types.js';

const BLANK = md``;

/**
 * The evidence report as Markdown, for a governance review. Every figure is the JSON
 * report's, formatted; sections always appear, saying so when they are empty. Lines are
 * `Markdown` values built by `md`, `table` and `strong`, which escape every value they are given
 * (markdown-text.ts): owner text, reasons, segment values and model versions stay literal text.
 */
export function renderReportMarkdown(r: EvidenceReport): string {
  return markdownDocument([
    md`# Evidence report: ${r.useCase.id}`,
    BLANK,
    md`Generated ${r.generatedAt} by Shadowgate from the same data as ${code(`GET /v1/use-cases/${r.useCase.id}`)}.`,
    BLANK,
    ...useCaseSection(r),
    ...planSection(r),
    ...baselineSection(r),
    ...evaluationSection(r),
    ...guardsSection(r),
    ...driftMarkdown(r),
    ...journeySection(r),
    ...transitionsSection(r),
    ...changesMarkdown(r),
    ...costsSection(r),
    ...gateSection(r),
    ...judgeSection(r),
    ...challengersSection(r),
    ...risksSection(r),
  ]);
}

function useCaseSection({ useCase: u }: EvidenceReport): Markdown[] {
  const decision = u.decision.labels ? `labels ${u.decision.labels.join(', ')}` : 'JSON';
  return [
    md`## Use case`,
    BLANK,
    md`- Owner: ${u.owner}`,
    md`- Description: ${u.description ?? NONE}`,
    md`- Stage: ${strong(u.stage)} since ${u.stageEnteredAt} (stage version ${u.stageVersion})`,
    md`- Decision: ${decision}`,
    md`- Segments: ${u.segments.length > 0 ? u.segments.join(', ') : 'none'}`,
    BLANK,
  ];
}

function planSection({ plan: p }: EvidenceReport): Markdown[] {
  return [
    md`## Rollout plan`,
    BLANK,
    md`- Version ${p.version}, text sha256 ${code(p.textHash)} (${p.format}), applied ${p.appliedAt} by ${p.appliedBy}, ${approvedText(p.approvedBy)}`,
    md`- AI adapter ${code(p.adapter)}, AI configuration ${code(p.aiConfig)}`,
    md`- Gate statistics: ${p.statistics} bounds at ${percent(p.confidence, 1)} confidence`,
    md`- AI failures (${code(`aiFailures: ${p.aiFailures}`)}): ${p.aiFailures === 'exclude' ? 'a request whose AI call failed for good is left out of the agreement bounds' : 'a request whose AI call failed for good counts as a disagreement in the agreement bounds'}`,
    ...errorCostLines(p),
    BLANK,
    ...table(
      ['version', 'text sha256', 'AI configuration', 'applied at', 'asked by', 'approved by'],
      p.history.map((v) => [
        v.version,
        code(v.textHash),
        code(v.aiConfig),
        v.appliedAt,
        v.appliedBy,
        v.approvedBy?.join(', ') ?? NONE,
      ]),
    ),
    BLANK,
  ];
}

/** Who approved a plan version or transition under change control, or that it needed no one. */
function approvedText(approvedBy: readonly string[] | null): string {
  return approvedBy?.length ? `approved by ${approvedBy.join(', ')}` : 'no approval needed';
}

/** The plan's price of each kind of error, as `AI answer → human answer: USD`. */
function errorCostLines(p: EvidenceReport['plan']): Markdown[] {
  const pairs = Object.entries(p.errorCosts ?? {}).flatMap(([ai, row]) =>
    Object.entries(row).map(([human, cost]) => `${ai} → ${human} ${usd(cost)}`),
  );
  if (pairs.length === 0 && p.defaultErrorCost === 0) return [md`- Error costs: none priced`];
  const listed = pairs.length > 0 ? `${pairs.join(', ')}; ` : '';
  return [
    md`- Error costs (the AI answered → a person decided, per decision): ${listed}any other disagreement ${usd(p.defaultErrorCost)}`,
  ];
}

function baselineSection({ humanBaseline: b }: EvidenceReport): Markdown[] {
  return [
    md`## Human baseline`,
    BLANK,
    md`Human cost per decision (plan): ${usd(b.humanCostPerDecision)}.`,
    BLANK,
    ...table(
      ['stage', 'decisions', 'monthly volume', 'all-human monthly cost'],
      b.stages.map((s) => [s.stage, count(s.decisions), count(s.monthlyVolume), usd(s.allHumanMonthlyCost)]),
    ),
    BLANK,
  ];
}

function evaluationSection(r: EvidenceReport): Markdown[] {
  const current = r.evaluation.currentCohort;
  const lines = [
    md`## Evaluation results`,
    BLANK,
    md`Per stage and cohort (AI configuration × model version). Cohort bounds are Wilson 95%; the`,
    md`gate's bounds use the plan's ${r.plan.statistics} statistics (see "Current gate").`,
    current
      ? md`The gate counts the decisions of the cohort marked current (model ${current.modelVersion ?? NONE}) made since the stage was entered.`
      : md`No cohort of the current stage and AI configuration has compared decisions yet.`,
    BLANK,
  ];
  if (r.evaluation.stages.length === 0) return [...lines, md`No decisions yet.`, BLANK];
  for (const s of r.evaluation.stages) lines.push(...stageEvaluation(s));
  return lines;
}

function stageEvaluation(s: StageEvidence): Markdown[] {
  const lines = [
    md`### Stage ${s.stage}`,
    BLANK,
    md`${count(s.decisions)} decisions, ${count(s.samples)} compared; pending: ${count(s.pendingAi)} AI, ${count(s.pendingHuman)} human.`,
    BLANK,
  ];
  if (s.cohorts.length === 0) return [...lines, md`No AI answers yet.`, BLANK];
  lines.push(
    ...table(
      [
        'model',
        'AI configuration',
        'current',
        'samples',
        'agreement',
        'lower bound',
        'kappa',
        'AI calls',
        'AI errors',
        'AI error rate',
        'p50',
        'p95',
      ],
      s.cohorts.map((c) => [
        c.modelVersion ?? NONE,
        code(c.aiConfig),
        c.current ? 'yes' : 'no',
        count(c.samples),
        percent(c.agreement),
        percent(c.agreementLowerBound),
        decimal(c.kappa),
        count(c.aiCalls),
        count(c.aiErrors),
        percent(c.aiErrorRate),
        duration(c.latencyP50Ms),
        duration(c.latencyP95Ms),
      ]),
    ),
    BLANK,
  );
  for (const c of s.cohorts) lines.push(...cohortDetail(c));
  return lines;
}

function cohortDetail(c: CohortEvidence): Markdown[] {
  const name = md`model ${c.modelVersion ?? NONE}${c.current ? ', current' : ''}`;
  const lines: Markdown[] = [md`#### Evidence (${name})`, BLANK, ...evidenceLines(c), BLANK];
  if (c.segments.length > 0) {
    lines.push(
      md`#### Segments (${name})`,
      BLANK,
      ...table(
        ['segment', 'value', 'samples', 'agreement', 'lower bound', 'note'],
        c.segments.map((s) => [
          s.segment,
          s.value,
          count(s.samples),
          percent(s.agreement),
          percent(s.agreementLowerBound),
          s.underMinSamples ? 'under minSegmentSamples' : '',
        ]),
      ),
      BLANK,
    );
  }
  if (c.confusion) {
    const { labels, matrix } = c.confusion;
    lines.push(
      md`#### Confusion matrix (${name})`,
      BLANK,
      md`Rows: the human decision; columns: the AI decision.`,
      BLANK,
      ...table(
        ['human \\ AI', ...labels],
        labels.map((label, i) => [label, ...labels.map((_, j) => count(matrix[i]?.[j] ?? 0))]),
      ),
      BLANK,
    );
  }
  if (c.perLabel) {
    lines.push(
      md`#### Precision and recall (${name})`,
      BLANK,
      md`Recall: of the requests a person gave the label, the share the AI gave it too. Precision: of the AI's answers with the label, the share a person agreed with. AI failures: requests a person gave the label whose AI call failed for good (not in the counts).`,
      BLANK,
      ...table(
        ['label', 'person gave it', 'AI too', 'recall', 'AI gave it', 'precision', 'AI failures'],
        c.perLabel.map((l) => [
          l.label,
          count(l.support),
          count(l.hits),
          percent(l.recall),
          count(l.predicted),
          percent(l.precision),
          count(l.aiFailures),
        ]),
      ),
      BLANK,
    );
  }
  return lines;
}

/** Agreement with failures, coverage, kappa's interval, the majority baseline and the error cost of a cohort. */
function evidenceLines(c: CohortEvidence): Markdown[] {
  const lines = [
    md`- Agreement ${percent(c.agreement)} over ${count(c.samples)} compared; ${percent(c.agreementWithFailures)} counting the ${count(c.aiFailedWithHuman)} AI call(s) that failed for good on decided requests as disagreements`,
    md`- Coverage ${percent(c.coverage)}: decisions with an AI answer of those owed one`,
    md`- Kappa${c.kappaInterval ? ' with its 95% interval' : ''}: ${kappa(c.kappa, c.kappaInterval)}`,
  ];
  if (c.majorityBaseline) {
    lines.push(
      md`- Majority baseline: always answering ${code(c.majorityBaseline.label)} would agree ${percent(c.majorityBaseline.agreement)}`,
    );
  }
  const e = c.errorCost;
  if (e) {
    lines.push(
      md`- Error cost ${usd(e.perDecision)} per compared decision, bounds ${usd(e.lowerBound)} to ${usd(e.upperBound)} (${count(e.samples)} decisions; one error costs at most ${usd(e.maxCost)})`,
    );
  }
  return lines;
}

function guardsSection({ guards: g }: EvidenceReport): Markdown[] {
  const budget = g.budget.maxDailyCost === null ? 'none' : `${usd(g.budget.maxDailyCost)} per day`;
  const lastExhausted = g.budget.exhaustedDays.last ? `, last ${g.budget.exhaustedDays.last}` : '';
  const lines = [
    md`## Guards`,
    BLANK,
    ...table(
      ['stage', 'rollbackWhen', 'action', 'rolls back to', 'trips', 'last trip'],
      g.stages.map((s) => {
        const w = s.rollbackWhen;
        const when = w
          ? [
              `window ${w.window}`,
              w.agreementBelow !== undefined ? `agreement below ${w.agreementBelow}` : null,
              w.aiErrorRateAbove !== undefined ? `AI error rate above ${w.aiErrorRateAbove}` : null,
              ...Object.entries(w.labelRecallBelow ?? {}).map(
                ([label, bar]) => `recall of ${label} below ${bar} (last ${w.labelWindow} with it)`,
              ),
              w.driftAbove
                ? `PSI of ${w.driftAbove.fields.join(', ')} above ${w.driftAbove.psi} (drift.window)`
                : null,
              w.overrideRateAbove !== undefined
                ? `override rate above ${w.overrideRateAbove} (drift.window)`
                : null,
              w.escalationRateAbove !== undefined
                ? `escalation rate above ${w.escalationRateAbove} (drift.window)`
                : null,
            ]
              .filter((x) => x !== null)
              .join(', ')
          : 'no guard';
        return [
          s.stage,
          when,
          w?.action ?? NONE,
          s.rollbackTo ?? NONE,
          count(s.trips.count),
          s.trips.last ?? 'never',
        ];
      }),
    ),
    BLANK,
    md`Daily AI budget (${code('ai.maxDailyCost')}): ${budget}; exhausted on ${g.budget.exhaustedDays.count} day(s)${lastExhausted}.`,
    BLANK,
  ];
  if (g.recentTrips.length > 0) {
    lines.push(md`Latest trips:`, BLANK);
    for (const t of g.recentTrips) {
      const checks = t.checks
        .filter((c) => c.trips)
        .map(
          (c) => `${c.name} ${percent(c.threshold)} (actual ${percent(c.actual)} over ${count(c.samples)})`,
        )
        .join('; ');
      lines.push(
        md`- ${t.at}: ${t.stage ?? NONE}, action ${t.action ?? NONE}: ${checks || 'no check recorded'}`,
      );
    }
    lines.push(BLANK);
  }
  return lines;
}

function journeySection({ journey }: EvidenceReport): Markdown[] {
  if (journey.visits.length === 0) return [];
  return [
    md`## Journey`,
    BLANK,
    md`Each stage visit and what the last tick of it judged: the gate's agreement bound against its threshold, the guard window against its guard.`,
    BLANK,
    ...table(
      ['stage', 'entered', 'for', 'by', 'compared', 'agreement', 'gate bound', 'verdict', 'guard window'],
      journey.visits.map((v) => {
        const p = v.lastJudged;
        return [
          v.forced ? md`${v.stage} (${strong('forced')})` : v.stage,
          v.enteredAt,
          duration(v.durationMs),
          v.actor,
          p ? count(p.samples) : NONE,
          p ? percent(p.agreement) : NONE,
          p ? percentAgainst(p.lowerBound, p.required, '≥') : NONE,
          p ? (p.targetStage ? `${p.verdict} → ${p.targetStage}` : p.verdict) : NONE,
          p ? percentAgainst(p.guardAgreement, p.guardThreshold, '<') : NONE,
        ];
      }),
    ),
    ...(journey.truncated ? [BLANK, md`Only the newest points were kept in view; older ones exist.`] : []),
    BLANK,
  ];
}

function transitionsSection({ transitions }: EvidenceReport): Markdown[] {
  return [
    md`## Transitions`,
    BLANK,
    ...table(
      ['at', 'from → to', 'kind', 'actor', 'approved by', 'forced', 'plan', 'model', 'reason', 'evidence'],
      transitions.map((t) => {
        const e = t.evidence;
        const evidence = e
          ? [
              e.verdict ? `gate ${e.verdict}` : null,
              e.samples !== null ? `${count(e.samples)} samples` : null,
              e.agreement !== null ? `agreement ${percent(e.agreement)}` : null,
              e.agreementLowerBound !== null ? `lower bound ${percent(e.agreementLowerBound)}` : null,
              e.aiErrorRate !== null ? `AI errors ${percent(e.aiErrorRate)}` : null,
              e.notHolding.length > 0 ? `not holding: ${e.notHolding.map((c) => c.name).join(', ')}` : null,
              e.guard
                ? `guard: ${e.guard
                    .filter((c) => c.trips)
                    .map((c) => c.name)
                    .join(', ')}`
                : null,
            ]
              .filter((x) => x !== null)
              .join('; ')
          : NONE;
        return [
          t.at,
          `${t.from ?? '(created)'} → ${t.to}`,
          t.kind ?? NONE,
          t.actor,
          t.approvedBy?.join(', ') ?? NONE,
          t.forced ? strong('yes') : 'no',
          t.planVersion,
          t.modelVersion ?? NONE,
          t.reason,
          evidence,
        ];
      }),
    ),
    BLANK,
  ];
}

function costsSection({ costs }: EvidenceReport): Markdown[] {
  return [
    md`## Costs`,
    BLANK,
    md`Per decision and projected to a month at the observed volume; savings against all-human. In limited-autonomous the total holds the expected cost of the AI's errors on the decisions it makes (the error cost per compared decision × its share), and the savings are net of it.`,
    BLANK,
    ...table(
      [
        'stage',
        'model',
        'current',
        'AI / decision',
        'human / decision',
        'error cost / compared decision',
        'expected error cost / decision',
        'total / decision',
        'monthly volume',
        'monthly cost',
        'all-human monthly',
        'monthly savings',
      ],
      costs.map((c) => [
        c.stage,
        c.modelVersion ?? NONE,
        c.current ? 'yes' : 'no',
        usd(c.aiCostPerDecision),
        usd(c.humanCostPerDecision),
        usd(c.errorCostPerDecision),
        usd(c.expectedErrorCostPerDecision),
        usd(c.costPerDecision),
        count(c.monthlyVolume),
        usd(c.monthlyCost),
        usd(c.allHumanMonthlyCost),
        usd(c.monthlySavings),
      ]),
    ),
    BLANK,
  ];
}

function gateSection({ gate }: EvidenceReport): Markdown[] {
  if (!gate) return [md`## Current gate`, BLANK, md`No gate is judged for this use case.`, BLANK];
  if (gate.verdict === 'none') {
    return [
      md`## Current gate`,
      BLANK,
      md`No further stage to promote to from ${gate.fromStage} in this plan.`,
      BLANK,
    ];
  }
  return [
    md`## Current gate`,
    BLANK,
    md`From ${strong(gate.fromStage)} to ${strong(gate.targetStage ?? NONE)}: ${strong(gate.verdict)} (approval ${gate.approval}; ${gate.statistics} bounds at ${percent(gate.confidence, 1)} confidence).`,
    BLANK,
    ...gate.warnings.map((w) => md`- ${strong('Warning')} (${code(w.code)}): ${w.message}`),
    ...(gate.warnings.length > 0 ? [BLANK] : []),
    ...(gate.majorityBaseline
      ? [
          md`Majority baseline of the gate's cohort: always answering ${code(gate.majorityBaseline.label)} would agree ${percent(gate.majorityBaseline.agreement)}.`,
          BLANK,
        ]
      : []),
    ...table(
      ['criterion', 'required', 'actual', 'observed', 'status', 'detail'],
      gate.criteria.map((c) => [
        c.name,
        `${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`,
        criterionFigure(c.name, c.actual),
        c.observed === null
          ? ''
          : `${criterionFigure(c.name, c.observed)}${c.samples === null ? '' : ` of ${count(c.samples)}`}`,
        c.status,
        c.detail ?? '',
      ]),
    ),
    BLANK,
    ...criteriaNotes(gate.criteria),
  ];
}

/**
 * Beside the gate, when a judge scores the AI: whether the judge agrees with people, per judge
 * version (the one scoring now first). Its figures are the detail's `judgeCalibration`.
 */
function judgeSection({ judgeCalibration: c }: EvidenceReport): Markdown[] {
  if (!c) return [];
  const intro = md`${strong('The judge against people')} (plan version ${String(c.planVersion)}): people's ratings of the calibration sample against the judge (acceptable at score ≥ 0.5). The AI's agreement above is the judge's scores; it promotes nothing until the judge scoring now agrees with people (${code('judgeAgreementLowerBound')}).`;
  if (c.versions.length === 0) return [intro, BLANK, md`No ratings yet.`, BLANK];
  return [
    intro,
    BLANK,
    ...table(
      [
        'judge version',
        'rated',
        'agreement',
        'lower bound',
        'kappa (95%)',
        'both ok / judge only / people only / neither',
      ],
      c.versions.map((v) => [
        `${v.judgeVersion === '' ? NONE : v.judgeVersion}${v.judgeVersion === c.currentJudgeVersion ? ' (now)' : ''}`,
        count(v.rated),
        percent(v.agreement),
        percent(v.agreementLowerBound),
        kappa(v.kappa, v.kappaInterval),
        `${count(v.bothAcceptable)} / ${count(v.judgeOnly)} / ${count(v.peopleOnly)} / ${count(v.neither)}`,
      ]),
    ),
    BLANK,
  ];
}

/** What the bound and observed figures of label and error-cost criteria are, when the gate has them. */
function criteriaNotes(criteria: readonly GateCriterionEntry[]): Markdown[] {
  const has = (prefix: string) => criteria.some((c) => c.name.startsWith(prefix));
  const notes: Markdown[] = [];
  if (has('labelRecallLowerBound:')) {
    notes.push(
      md`- ${code('labelRecallLowerBound:<label>')}: of the requests a person gave the label, the share the AI gave it too; actual is its lower bound, observed the share and the requests.`,
    );
  }
  if (has('labelPrecisionLowerBound:')) {
    notes.push(
      md`- ${code('labelPrecisionLowerBound:<label>')}: of the AI's answers with the label, the share a person agreed with; actual is its lower bound, observed the share and the answers.`,
    );
  }
  if (has('maxErrorCostPerDecision')) {
    notes.push(
      md`- ${code('maxErrorCostPerDecision')}: the mean cost of the AI's errors per compared decision; actual is the upper bound of its confidence sequence, observed the mean and the decisions.`,
    );
  }
  return notes.length > 0 ? [...notes, BLANK] : [];
}

function challengersSection({ challengers: c }: EvidenceReport): Markdown[] {
  const champion = c.champion;
  const lines = [
    md`## Champion and challenger`,
    BLANK,
    md`Champion: plan version ${champion.planVersion}, AI configuration ${code(champion.aiConfig)}, model the stage was earned with ${champion.earnedModelVersion ?? NONE}.`,
    BLANK,
  ];
  const a = c.active;
  if (!a) {
    lines.push(md`No active challenger.`, BLANK);
  } else {
    const paired = a.paired
      ? md`${count(a.paired.n)} pairs, mean ${points(a.paired.mean)}, bounds ${points(a.paired.lower)} to ${points(a.paired.upper)}; the lower bound must reach ${points(a.paired.required)}`
      : md`no paired answers yet; the lower bound must reach ${points(-a.margin)}`;
    lines.push(
      md`### Active challenger`,
      BLANK,
      md`- Plan version ${a.planVersion}, AI configuration ${code(a.aiConfig)}; changed: ${a.changes.length > 0 ? a.changes.join(', ') : NONE}`,
      md`- Since ${a.startedAt} (started by ${a.startedBy}); approval ${a.approval}, margin ${percent(a.margin)}, sample rate ${percent(a.sampleRate)}`,
      md`- Verdict: ${strong(a.verdict)}`,
      md`- Paired with the champion on the same requests (challenger − champion agreement): ${paired}`,
      md`- Calls still owed to the challenger: ${count(a.owedCalls)}`,
      BLANK,
    );
    const k = a.cohort;
    lines.push(
      ...(k
        ? table(
            [
              'model',
              'decisions',
              'samples',
              'agreement',
              'lower bound',
              'AI calls',
              'AI error rate',
              'p50',
              'p95',
              'AI / decision',
            ],
            [
              [
                k.modelVersion ?? NONE,
                count(k.decisions),
                count(k.samples),
                percent(k.agreement),
                percent(k.agreementLowerBound),
                count(k.aiCalls),
                percent(k.aiErrorRate),
                duration(k.latencyP50Ms),
                duration(k.latencyP95Ms),
                usd(k.aiCostPerDecision),
              ],
            ],
          )
        : [md`No decisions in the challenger's cohort yet.`]),
      BLANK,
      ...table(
        ['criterion', 'required', 'actual', 'status', 'detail'],
        a.criteria.map((x) => [
          x.name,
          criterionFigure(x.name, x.required),
          criterionFigure(x.name, x.actual),
          x.status,
          x.detail ?? '',
        ]),
      ),
      BLANK,
    );
  }
  lines.push(md`### Earlier challengers`, BLANK);
  if (c.history.length === 0) return [...lines, md`None.`, BLANK];
  lines.push(
    ...table(
      ['plan', 'champion plan', 'state', 'started', 'ended', 'by', 'reason', 'evidence'],
      c.history.map((h) => {
        const p = h.promotion;
        const evidence = p
          ? [
              `verdict ${p.verdict ?? NONE}`,
              p.paired ? `${count(p.paired.n)} pairs, lower bound ${points(p.paired.lower)}` : null,
              p.notHolding.length > 0 ? `not holding: ${p.notHolding.map((x) => x.name).join(', ')}` : null,
            ]
              .filter((x) => x !== null)
              .join('; ')
          : NONE;
        return [
          h.planVersion,
          h.championPlanVersion,
          p?.forced ? md`${h.state}, ${strong('forced')}` : h.state,
          h.startedAt,
          h.endedAt ?? NONE,
          h.endedBy ?? NONE,
          h.endReason ?? NONE,
          evidence,
        ];
      }),
    ),
    BLANK,
  );
  return lines;
}

function risksSection({ risks }: EvidenceReport): Markdown[] {
  if (risks.length === 0) return [md`## Open risks`, BLANK, md`None found.`, BLANK];
  return [md`## Open risks`, BLANK, ...risks.map((r) => md`- ${strong(r.kind)}: ${r.message}`), BLANK];
}
