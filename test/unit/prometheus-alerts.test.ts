import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricNames, promtoolCheckRules, registeredSeriesNames } from '../support/promql-names.js';

const TEXT = readFileSync(new URL('../../docs/prometheus-alerts.yaml', import.meta.url), 'utf8');
const rules = (
  parse(TEXT) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> }
).groups.flatMap((g) => g.rules);

/** What Prometheus itself adds to every scrape target, which no exporter registers. */
const PROMETHEUS_OWN = new Set(['up']);

describe('docs/prometheus-alerts.yaml', () => {
  it('when promtool checks the rules, then it accepts every one', () => {
    const run = promtoolCheckRules(TEXT);
    expect(run.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('when promtool is handed a broken rule, then it refuses it (the check above can fail)', () => {
    const broken = TEXT.replace('expr: max by (use_case) (deriv(', 'expr: max by (use_case) (deriv((');
    expect(broken).not.toBe(TEXT);
    expect(promtoolCheckRules(broken).status).not.toBe(0);
  });

  it("when every rule's expression is read, then each names only metrics the controller's registry registers", () => {
    const registered = registeredSeriesNames();
    const unknown: string[] = [];
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      if (names.length === 0) unknown.push(`${rule.alert}: names no metric`);
      for (const name of names) {
        if (!registered.has(name) && !PROMETHEUS_OWN.has(name)) unknown.push(`${rule.alert}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('when the rules are listed, then the gate verdict, coverage, error cost, AI errors, owed calls, readiness and stalls each have one', () => {
    const read = new Set(rules.flatMap((r) => metricNames(r.expr)));
    for (const name of [
      'shadowgate_gate_verdict',
      'shadowgate_cohort_coverage',
      'shadowgate_cohort_error_cost_upper_bound_usd',
      'shadowgate_ai_errors_total',
      'shadowgate_ai_calls_owed',
      'shadowgate_readiness_check',
      'shadowgate_event_loop_stalls_total',
    ]) {
      expect(read, name).toContain(name);
    }
  });
});
