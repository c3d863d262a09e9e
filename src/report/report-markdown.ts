import { code, fixed, ms, NONE, percent, table, usd, value, whole } from './markdown-format.js';
import type { CohortEvidence, EvidenceReport, StageEvidence } from './report-types.js';

/**
 * The evidence report as Markdown, for a governance review. Every figure is the JSON
 * report's, formatted; sections always appear, saying so when they are empty.
 */
export function renderReportMarkdown(r: EvidenceReport): string {
  return [
    `# Evidence report: ${r.useCase.id}`,
    '',
    `Generated ${r.generatedAt} by Shadowgate from the same data as \`GET /v1/use-cases/${r.useCase.id}\`.`,
    '',
    ...useCaseSection(r),
    ...planSection(r),
    ...baselineSection(r),
    ...evaluationSection(r),
    ...guardsSection(r),
    ...transitionsSection(r),
    ...costsSection(r),
    ...gateSection(r),
    ...risksSection(r),
  ].join('\n');
}

function useCaseSection({ useCase: u }: EvidenceReport): string[] {
  const decision = u.decision.labels ? `labels ${u.decision.labels.map(code).join(', ')}` : 'JSON';
  return [
    '## Use case',
    '',
    `- Owner: ${u.owner}`,
    `- Description: ${u.description ?? NONE}`,
    `- Stage: **${u.stage}** since ${u.stageEnteredAt} (stage version ${u.stageVersion})`,
    `- Decision: ${decision}`,
    `- Segments: ${u.segments.length > 0 ? u.segments.map(code).join(', ') : 'none'}`,
    '',
  ];
}

function planSection({ plan: p }: EvidenceReport): string[] {
  return [
    '## Rollout plan',
    '',
    `- Version ${p.version}, text sha256 ${code(p.textHash)} (${p.format}), applied ${p.appliedAt} by ${p.appliedBy}`,
    `- AI adapter ${code(p.adapter)}, AI configuration ${code(p.aiConfig)}`,
    `- Gate statistics: ${p.statistics} bounds at ${percent(p.confidence, 1)} confidence`,
    '',
    ...table(
      ['version', 'text sha256', 'AI configuration', 'applied at', 'applied by'],
      p.history.map((v) => [String(v.version), code(v.textHash), code(v.aiConfig), v.appliedAt, v.appliedBy]),
    ),
    '',
  ];
}

function baselineSection({ humanBaseline: b }: EvidenceReport): string[] {
  return [
    '## Human baseline',
    '',
    `Human cost per decision (plan): ${usd(b.humanCostPerDecision)}.`,
    '',
    ...table(
      ['stage', 'decisions', 'monthly volume', 'all-human monthly cost'],
      b.stages.map((s) => [s.stage, whole(s.decisions), whole(s.monthlyVolume), usd(s.allHumanMonthlyCost)]),
    ),
    '',
  ];
}

function evaluationSection(r: EvidenceReport): string[] {
  const current = r.evaluation.currentCohort;
  const lines = [
    '## Evaluation results',
    '',
    'Per stage and cohort (AI configuration × model version). Cohort bounds are Wilson 95%; the',
    `gate's bounds use the plan's ${r.plan.statistics} statistics (see "Current gate").`,
    current
      ? `The gate counts the decisions of the cohort marked current (model ${current.modelVersion ?? NONE}) made since the stage was entered.`
      : 'No cohort of the current stage and AI configuration has compared decisions yet.',
    '',
  ];
  if (r.evaluation.stages.length === 0) return [...lines, 'No decisions yet.', ''];
  for (const s of r.evaluation.stages) lines.push(...stageEvaluation(s));
  return lines;
}

function stageEvaluation(s: StageEvidence): string[] {
  const lines = [
    `### Stage ${s.stage}`,
    '',
    `${whole(s.decisions)} decisions, ${whole(s.samples)} compared; pending: ${whole(s.pendingAi)} AI, ${whole(s.pendingHuman)} human.`,
    '',
  ];
  if (s.cohorts.length === 0) return [...lines, 'No AI answers yet.', ''];
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
        whole(c.samples),
        percent(c.agreement),
        percent(c.agreementLowerBound),
        fixed(c.kappa),
        whole(c.aiCalls),
        whole(c.aiErrors),
        percent(c.aiErrorRate),
        ms(c.latencyP50Ms),
        ms(c.latencyP95Ms),
      ]),
    ),
    '',
  );
  for (const c of s.cohorts) lines.push(...cohortDetail(c));
  return lines;
}

function cohortDetail(c: CohortEvidence): string[] {
  const name = `model ${c.modelVersion ?? NONE}${c.current ? ', current' : ''}`;
  const lines: string[] = [];
  if (c.segments.length > 0) {
    lines.push(
      `#### Segments (${name})`,
      '',
      ...table(
        ['segment', 'value', 'samples', 'agreement', 'lower bound', 'note'],
        c.segments.map((s) => [
          s.segment,
          s.value,
          whole(s.samples),
          percent(s.agreement),
          percent(s.agreementLowerBound),
          s.underMinSamples ? 'under minSegmentSamples' : '',
        ]),
      ),
      '',
    );
  }
  if (c.confusion) {
    const { labels, matrix } = c.confusion;
    lines.push(
      `#### Confusion matrix (${name})`,
      '',
      'Rows: the human decision; columns: the AI decision.',
      '',
      ...table(
        ['human \\ AI', ...labels],
        labels.map((label, i) => [label, ...labels.map((_, j) => whole(matrix[i]?.[j] ?? 0))]),
      ),
      '',
    );
  }
  if (c.perLabel) {
    lines.push(
      `#### Precision and recall (${name})`,
      '',
      ...table(
        ['label', 'precision', 'recall', 'support'],
        c.perLabel.map((l) => [l.label, percent(l.precision), percent(l.recall), whole(l.support)]),
      ),
      '',
    );
  }
  return lines;
}

function guardsSection({ guards: g }: EvidenceReport): string[] {
  const budget = g.budget.maxDailyCost === null ? 'none' : `${usd(g.budget.maxDailyCost)} per day`;
  const lines = [
    '## Guards',
    '',
    ...table(
      ['stage', 'rollbackWhen', 'action', 'rolls back to', 'trips', 'last trip'],
      g.stages.map((s) => {
        const w = s.rollbackWhen;
        const when = w
          ? [
              `window ${w.window}`,
              w.agreementBelow !== undefined ? `agreement below ${w.agreementBelow}` : null,
              w.aiErrorRateAbove !== undefined ? `AI error rate above ${w.aiErrorRateAbove}` : null,
            ]
              .filter((x) => x !== null)
              .join(', ')
          : 'no guard';
        return [
          s.stage,
          when,
          w?.action ?? NONE,
          s.rollbackTo ?? NONE,
          whole(s.trips.count),
          s.trips.last ?? 'never',
        ];
      }),
    ),
    '',
    `Daily AI budget (\`ai.maxDailyCost\`): ${budget}; exhausted on ${g.budget.exhaustedDays.count} day(s)${g.budget.exhaustedDays.last ? `, last ${g.budget.exhaustedDays.last}` : ''}.`,
    '',
  ];
  if (g.recentTrips.length > 0) {
    lines.push('Latest trips:', '');
    for (const t of g.recentTrips) {
      const checks = t.checks
        .filter((c) => c.trips)
        .map((c) => `${c.name} ${c.threshold} (actual ${fixed(c.actual)} over ${c.samples})`)
        .join('; ');
      lines.push(
        `- ${t.at}: ${t.stage ?? NONE}, action ${t.action ?? NONE}: ${checks || 'no check recorded'}`,
      );
    }
    lines.push('');
  }
  return lines;
}

function transitionsSection({ transitions }: EvidenceReport): string[] {
  return [
    '## Transitions',
    '',
    ...table(
      ['at', 'from → to', 'kind', 'actor', 'forced', 'plan', 'model', 'reason', 'evidence'],
      transitions.map((t) => {
        const e = t.evidence;
        const evidence = e
          ? [
              e.verdict ? `gate ${e.verdict}` : null,
              e.samples !== null ? `${whole(e.samples)} samples` : null,
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
          t.forced ? '**yes**' : 'no',
          String(t.planVersion),
          t.modelVersion ?? NONE,
          t.reason,
          evidence,
        ];
      }),
    ),
    '',
  ];
}

function costsSection({ costs }: EvidenceReport): string[] {
  return [
    '## Costs',
    '',
    'Per decision and projected to a month at the observed volume; savings against all-human.',
    '',
    ...table(
      [
        'stage',
        'model',
        'current',
        'AI / decision',
        'human / decision',
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
        usd(c.costPerDecision),
        whole(c.monthlyVolume),
        usd(c.monthlyCost),
        usd(c.allHumanMonthlyCost),
        usd(c.monthlySavings),
      ]),
    ),
    '',
  ];
}

function gateSection({ gate }: EvidenceReport): string[] {
  if (!gate) return ['## Current gate', '', 'No gate is judged for this use case.', ''];
  if (gate.verdict === 'none') {
    return ['## Current gate', '', `No further stage to promote to from ${gate.fromStage} in this plan.`, ''];
  }
  return [
    '## Current gate',
    '',
    `From **${gate.fromStage}** to **${gate.targetStage ?? NONE}**: **${gate.verdict}** (approval ${gate.approval}; ${gate.statistics} bounds at ${percent(gate.confidence, 1)} confidence).`,
    '',
    ...table(
      ['criterion', 'required', 'actual', 'status', 'detail'],
      gate.criteria.map((c) => [c.name, value(c.required), value(c.actual), c.status, c.detail ?? '']),
    ),
    '',
  ];
}

function risksSection({ risks }: EvidenceReport): string[] {
  if (risks.length === 0) return ['## Open risks', '', 'None found.', ''];
  return ['## Open risks', '', ...risks.map((r) => `- **${r.kind}**: ${r.message}`), ''];
}
