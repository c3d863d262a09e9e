import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerMetrics } from '../../src/observability/metrics-registry.js';

/** PromQL words that are not metric names (keywords and set operators). */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression (or a Grafana template query) reads. Strings, label
 * matchers, ranges, grouping clauses and Grafana's `$variables` are removed first; what is left
 * that is an identifier not followed by `(` (a function) and not a keyword names a metric.
 * `label_values(selector, label)` reads its selector; its label is not a metric.
 */
export function metricNames(expression: string): string[] {
  let text = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, '')
    .replace(/\blabel_values\s*\(\s*([^,(){}]*(?:\{[^}]*\})?)\s*,[^)]*\)/g, ' $1 ')
    .replace(/\blabel_values\s*\([^)]*\)/g, ' ');
  // Nested braces do not occur in PromQL matchers; brackets hold a range or a subquery's step.
  text = text.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = text.slice(match.index + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    // A duration's unit after a number (`offset 1h`, `5m`) is part of the number.
    const before = text[match.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    names.add(word);
  }
  return [...names].sort();
}

/**
 * The series names the controller's registry exposes: every metric it registers (its own and
 * Node's default ones), with a histogram's `_bucket`, `_sum` and `_count`. Read from the registry
 * module itself, so a renamed metric fails the tests that use this.
 */
export function registeredSeriesNames(): Set<string> {
  const metrics = new ControllerMetrics({
    useCases: async () => [],
    queueDepth: async () => ({ waiting: 0, active: 0, delayed: 0 }),
    owedCalls: async () => new Map(),
  });
  try {
    const names = new Set<string>();
    for (const metric of metrics.registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram' || type === 'summary') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
      }
    }
    return names;
  } finally {
    metrics.close();
  }
}

/** Runs `promtool check rules` on a rule file's text; its exit code and output. */
export function promtoolCheckRules(yaml: string): { status: number | null; output: string; error?: Error } {
  const dir = mkdtempSync(join(tmpdir(), 'sg-promtool-'));
  try {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, yaml);
    const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    return {
      status: run.status,
      output: `${run.stdout ?? ''}${run.stderr ?? ''}`,
      ...(run.error ? { error: run.error } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
