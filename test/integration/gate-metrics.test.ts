import { createRequire } from 'node:module';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createLogger } from '../../src/main/logger.js';
import { AiCallError } from '../../src/shadow/ai-errors.js';
import type { AiSystemClient } from '../../src/shadow/ai-system-client.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import { waitForProgress } from '../support/progress.js';
import { ADMIN_KEY, LOOPBACK_DESTINATIONS } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** parse-prometheus-text-format has no types; it returns prom2json's shape. */
interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[];

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

/**
 * (human label, AI answer, count); a null answer is an AI call that fails for good. 60 decisions:
 * 56 compared of which 45 agree, 4 failed on rejections; 5 rejections approved at 500 USD each.
 */
const TRAFFIC: Array<[string, string | null, number]> = [
  ['approve', 'approve', 27],
  ['approve', 'reject', 3],
  ['reject', 'reject', 15],
  ['reject', 'approve', 5],
  ['reject', null, 4],
  ['escalate', 'escalate', 3],
  ['escalate', 'approve', 3],
];

function plan(useCase: string, stages: string): string {
  return `useCase: ${useCase}
owner: test@example.com
decision: { type: label, labels: [approve, reject, escalate] }
comparator: { type: exact }
ai: { adapter: http, url: http://127.0.0.1:9/decide, maxAttempts: 1, pricing: { perCall: 0.001 } }
humanCostPerDecision: 2
errorCosts: { approve: { reject: 500 } }
stages:
${stages}`;
}

/** The AI answers what the decision's input says it answers, or fails for good when that is null. */
const scriptedAi: AiSystemClient = {
  async decide(req) {
    const answer = (req.input as { answer: string | null }).answer;
    if (answer === null) throw new AiCallError('bad-output', 'scripted failure', 1);
    return {
      decision: answer,
      confidence: 0.9,
      modelVersion: 'scripted-1',
      inputTokens: null,
      outputTokens: null,
      costUsd: 0.001,
      latencyMs: 1,
    };
  },
};

function value(families: Family[], name: string, labels: Record<string, string>): number | undefined {
  const samples = series(families, name).filter((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  expect(samples.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return samples[0]?.value === undefined ? undefined : Number(samples[0].value);
}

function series(families: Family[], name: string) {
  return families.find((f) => f.name === name)?.metrics ?? [];
}

describe('the gate in /metrics', () => {
  let tdb: TestDatabase;
  let controller: Controller;
  let http: ReturnType<typeof supertest>;
  let families: Family[];
  let detail: {
    stage: string;
    gate: { verdict: string; criteria: Array<{ name: string; actual: number | null; required: unknown }> };
    metrics: { stages: Array<{ stage: string; cohorts: Array<Record<string, unknown>> }> };
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const config = loadConfig({
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
      SHADOWGATE_SWEEP_MS: '3600000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...LOOPBACK_DESTINATIONS,
    });
    const logger = createLogger(config.LOG_LEVEL);
    controller = await createController({
      config,
      logger,
      database: tdb.database,
      queue: createInProcessShadowQueue({ logger }),
      migrate: false,
      background: false,
      aiClientFactory: () => scriptedAi,
    });
    await controller.start();
    http = supertest(controller.app);

    const gated = plan(
      'gm-labels',
      `  shadow:
    promoteWhen: { minSamples: 50, agreementLowerBound: 0.9, labelRecallLowerBound: { reject: 0.7 } }
  human-reviewed: {}
`,
    );
    await http.put('/v1/use-cases/gm-labels/plan').set(admin).send(gated).expect(201);
    // A use case promoted into a stage with no gate, and no decisions.
    await http
      .put('/v1/use-cases/gm-idle/plan')
      .set(admin)
      .send(plan('gm-idle', '  shadow: {}\n  human-reviewed: {}\n'))
      .expect(201);
    await http
      .post('/v1/use-cases/gm-idle/promote')
      .set(admin)
      .send({ reason: 'gate metrics test', force: true })
      .expect(200);

    let n = 0;
    const decisions = TRAFFIC.flatMap(([human, answer, count]) =>
      Array.from({ length: count }, () => ({
        useCase: 'gm-labels',
        requestId: `gm-${n++}`,
        input: { answer },
        context: {},
        human: { decision: human },
      })),
    );
    await http.post('/v1/decisions').set(admin).send({ decisions }).expect(202);
    await waitForProgress({
      what: 'every AI call of gm-labels answered or failed',
      read: async () => {
        const shadow = (await http.get('/v1/use-cases/gm-labels').set(admin)).body.metrics.stages[0];
        return shadow?.decisions === 60 ? shadow.pendingAi : -1;
      },
      done: (pending) => pending === 0,
    });
    detail = (await http.get('/v1/use-cases/gm-labels').set(admin).expect(200)).body;
    families = parsePrometheus((await http.get('/metrics').expect(200)).text);
  });

  afterAll(async () => {
    await controller?.stop();
    await tdb?.drop();
  });

  const labels = { use_case: 'gm-labels', stage: 'shadow' };

  it("when a cohort has compared decisions, then its samples, agreement and coverage are the API's, exactly", () => {
    const cohort = detail.metrics.stages.find((s) => s.stage === 'shadow')!.cohorts[0]!;
    expect(cohort.samples).toBe(56);
    expect(value(families, 'shadowgate_cohort_samples', labels)).toBe(56);
    expect(value(families, 'shadowgate_cohort_agreement', labels)).toBe(cohort.agreement);
    expect(cohort.agreement).toBe(45 / 56);
    expect(value(families, 'shadowgate_cohort_agreement_with_failures', labels)).toBe(45 / 60);
    expect(value(families, 'shadowgate_cohort_coverage', labels)).toBe(cohort.coverage);
    expect(cohort.coverage).toBe(56 / 60);
    expect(value(families, 'shadowgate_cohort_cost_per_decision_usd', labels)).toBe(cohort.costPerDecision);
  });

  it("when the plan has an agreement bar, then the gate's bound and bar are its criterion's, and the bound is below the agreement", () => {
    const criterion = detail.gate.criteria.find((c) => c.name === 'agreementLowerBound')!;
    const bound = value(families, 'shadowgate_gate_agreement_bound', labels);
    expect(bound).toBe(criterion.actual);
    expect(bound!).toBeGreaterThan(0);
    expect(bound!).toBeLessThan(45 / 60);
    expect(value(families, 'shadowgate_gate_agreement_required', labels)).toBe(0.9);
  });

  it("when the plan prices errors, then the error cost and its upper bound are the API's", () => {
    const cohort = detail.metrics.stages[0]!.cohorts[0] as {
      errorCost: { perDecision: number; upperBound: number };
    };
    const perDecision = value(families, 'shadowgate_cohort_error_cost_per_decision_usd', labels)!;
    expect(perDecision).toBeCloseTo((5 * 500) / 56, 10);
    expect(perDecision).toBe(cohort.errorCost.perDecision);
    const upper = value(families, 'shadowgate_cohort_error_cost_upper_bound_usd', labels)!;
    expect(upper).toBe(cohort.errorCost.upperBound);
    expect(upper).toBeGreaterThan(perDecision);
  });

  it("when recall is exported, then there is one series per plan label with the human's count and the AI's share", () => {
    const recall = series(families, 'shadowgate_cohort_label_recall').filter(
      (m) => m.labels?.use_case === 'gm-labels',
    );
    expect(Object.fromEntries(recall.map((m) => [m.labels?.label, Number(m.value)]))).toEqual({
      approve: 27 / 30,
      reject: 15 / 20,
      escalate: 3 / 6,
    });
    expect(recall.every((m) => m.labels?.stage === 'shadow')).toBe(true);
    expect(value(families, 'shadowgate_cohort_label_samples', { ...labels, label: 'reject' })).toBe(20);
  });

  it('when the gate is judged, then exactly one verdict series is 1 per use case, and it is the verdict the API shows', () => {
    const verdicts = series(families, 'shadowgate_gate_verdict');
    for (const [useCase, stage] of [
      ['gm-labels', 'shadow'],
      ['gm-idle', 'human-reviewed'],
    ] as const) {
      const own = verdicts.filter((m) => m.labels?.use_case === useCase);
      expect(own.map((m) => m.labels?.verdict).sort()).toEqual([
        'blocked',
        'eligible',
        'inconclusive',
        'none',
      ]);
      expect(own.every((m) => m.labels?.stage === stage)).toBe(true);
      expect(own.filter((m) => Number(m.value) === 1)).toHaveLength(1);
    }
    expect(detail.gate.verdict).toBe('blocked');
    expect(value(families, 'shadowgate_gate_verdict', { ...labels, verdict: 'blocked' })).toBe(1);
    expect(value(families, 'shadowgate_gate_verdict', { use_case: 'gm-idle', verdict: 'none' })).toBe(1);
  });

  it('when a use case has no decisions in its stage, then its samples are 0 and it has no agreement, cost or recall series', () => {
    const idle = { use_case: 'gm-idle', stage: 'human-reviewed' };
    expect(value(families, 'shadowgate_cohort_samples', idle)).toBe(0);
    for (const name of [
      'shadowgate_cohort_agreement',
      'shadowgate_gate_agreement_bound',
      'shadowgate_cohort_coverage',
      'shadowgate_cohort_error_cost_per_decision_usd',
      'shadowgate_cohort_cost_per_decision_usd',
      'shadowgate_cohort_label_recall',
    ]) {
      expect(value(families, name, { use_case: 'gm-idle' }), name).toBeUndefined();
    }
  });

  it('when the gate gauges are scraped, then they carry no label but use_case, stage, label and verdict', () => {
    const allowed = new Set(['use_case', 'stage', 'label', 'verdict']);
    const gate = families.filter((f) => /^shadowgate_(gate|cohort)_/.test(f.name));
    expect(gate.length).toBe(12);
    for (const family of gate) {
      for (const m of family.metrics) {
        expect(
          Object.keys(m.labels ?? {}).filter((k) => !allowed.has(k)),
          family.name,
        ).toEqual([]);
      }
    }
  });

  it('when the dependencies answer, then every readiness check is 1', () => {
    const checks = series(families, 'shadowgate_readiness_check');
    expect(Object.fromEntries(checks.map((m) => [m.labels?.check, Number(m.value)]))).toEqual({
      database: 1,
      queue: 1,
      flags: 1,
    });
  });
});
