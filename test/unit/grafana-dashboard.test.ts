import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { metricNames, promtoolCheckRules, registeredSeriesNames } from '../support/promql-names.js';

interface Target {
  expr?: string;
  refId?: string;
}
interface Panel {
  title?: string;
  type?: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { type?: string; uid?: string };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;

/** Every panel, rows' nested panels included. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: `${p.title} ${t.refId}`, expr: t.expr ?? '' })),
);
const templateQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({
    where: `variable ${v.name}`,
    expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? ''),
  }));

/** Grafana's variables as PromQL sees them once Grafana has put in their values. */
function asPromql(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}/g, '5m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{?use_case\}?/g, '.*');
}

describe('docs/grafana-dashboard.json', () => {
  it('when extracting metric names, then selectors, ranges, groupings, functions and label_values are told apart', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (use_case, le) (rate(shadowgate_ai_latency_seconds_bucket{use_case=~"$use_case", kind!="a b"}[$__rate_interval]))) / on (use_case) group_left x_total offset 1h',
      ),
    ).toEqual(['shadowgate_ai_latency_seconds_bucket', 'x_total']);
    expect(metricNames('label_values(shadowgate_use_case_stage{stage="shadow", a="b"}, use_case)')).toEqual([
      'shadowgate_use_case_stage',
    ]);
  });

  it('when loaded, then it is a Grafana dashboard with a Prometheus data source variable and a use_case variable from label_values', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const datasource = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(datasource?.query).toBe('prometheus');
    const useCase = dashboard.templating.list.find((v) => v.name === 'use_case');
    expect(templateQueries.find((q) => q.where === 'variable use_case')?.expr).toMatch(
      /^label_values\(\w+, use_case\)$/,
    );
    expect(useCase?.type).toBe('query');
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${${datasource?.name}}` });
    }
  });

  it("when every panel's and template's query is read, then each names only metrics the controller's registry registers", () => {
    const registered = registeredSeriesNames();
    const unknown: string[] = [];
    for (const q of [...queries, ...templateQueries]) {
      const names = metricNames(q.expr);
      if (names.length === 0) unknown.push(`${q.where}: names no metric`);
      for (const name of names) if (!registered.has(name)) unknown.push(`${q.where}: ${name}`);
    }
    expect(unknown).toEqual([]);
    expect(queries.length).toBeGreaterThanOrEqual(10);
  });

  it('when the panels are listed, then the gate, its evidence, its costs, the AI and the challenger each have one', () => {
    const read = new Set(queries.flatMap((q) => metricNames(q.expr)));
    for (const name of [
      'shadowgate_gate_verdict',
      'shadowgate_cohort_agreement',
      'shadowgate_gate_agreement_bound',
      'shadowgate_cohort_label_recall',
      'shadowgate_cohort_coverage',
      'shadowgate_cohort_error_cost_per_decision_usd',
      'shadowgate_cohort_error_cost_upper_bound_usd',
      'shadowgate_cohort_cost_per_decision_usd',
      'shadowgate_ai_errors_total',
      'shadowgate_ai_latency_seconds_bucket',
      'shadowgate_challenger_verdict',
    ]) {
      expect(read, name).toContain(name);
    }
  });

  it('when its queries are written as recording rules, then promtool parses every one', () => {
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: asPromql(q.expr) })),
        },
      ],
    };
    const run = promtoolCheckRules(stringify(rules));
    expect(run.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
    expect(run.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(run.status).toBe(0);
  });
});
