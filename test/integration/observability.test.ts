import { createRequire } from 'node:module';
import type { Router } from 'express';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSimOptions } from '../../scripts/demo/demo-ai-system.js';
import { loadConfig } from '../../src/config.js';
import { ROLES } from '../../src/keys/roles.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { openApiPath } from '../../src/http/openapi-document.js';
import { ROUTE_TABLE as ROUTES } from '../../src/http/route-table.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { simulateOutcome } from '../../scripts/simulation/simulated-answer.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import { waitForProgress } from '../support/progress.js';
import { ADMIN_KEY, eventually, LOOPBACK_DESTINATIONS, labelPlan } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** parse-prometheus-text-format has no types; it returns prom2json's shape. */
interface Family {
  name: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[];

const LABELS = ['approve', 'reject', 'escalate'];
const SIM = { agreement: 0.9, errorRate: 0.1, latencyMs: 4 };
const MAX_ATTEMPTS = 3;
const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

function invoices(useCase: string, from: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const invoice = makeInvoice(from + k);
    return {
      useCase,
      requestId: invoice.requestId,
      input: invoice.input,
      context: invoice.context,
      human: { decision: referenceLabel(invoice.input, LABELS) },
    };
  });
}

/** The simulated AI fails the same requests on every attempt: each failing one is tried MAX_ATTEMPTS times. */
function expectedCalls(n: number) {
  const options = demoSimOptions(SIM, LABELS);
  let answered = 0;
  for (let i = 0; i < n; i++) {
    const invoice = makeInvoice(i);
    if (simulateOutcome(options, invoice.requestId, invoice.input, 1).kind === 'answer') answered++;
  }
  const failed = n - answered;
  return { answered, failed, calls: answered + MAX_ATTEMPTS * failed, errors: MAX_ATTEMPTS * failed };
}

function value(families: Family[], name: string, labels: Record<string, string>): number | undefined {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

/**
 * The parser folds the series of a labelled histogram into one, so a series is checked by
 * handing it that series' lines alone, with the label that selects it removed.
 */
function histogram(text: string, name: string, label: string) {
  const lines = text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(`# HELP ${name} `) ||
        l.startsWith(`# TYPE ${name} `) ||
        (/^\w+/.exec(l)?.[0]?.startsWith(`${name}_`) && l.includes(label)),
    )
    .map((l) =>
      l.replace(new RegExp(`,?${label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), '').replace('{}', ''),
    );
  const [family] = parsePrometheus(`${lines.join('\n')}\n`);
  return family?.metrics[0];
}

/** Every route of an express app, as `METHOD /path`, through nested routers. */
function appRoutes(stack: unknown[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    const l = layer as {
      route?: { path: string; methods: Record<string, boolean> };
      handle: Router & { stack?: unknown[] };
      rawPath?: string;
    };
    if (l.route) {
      return Object.keys(l.route.methods).map((m) => `${m.toUpperCase()} ${prefix}${l.route!.path}`);
    }
    if (!l.handle.stack) return [];
    return appRoutes(l.handle.stack, prefix + (l.rawPath && l.rawPath !== '/' ? l.rawPath : ''));
  });
}

describe('observability', () => {
  let tdb: TestDatabase;
  let sim: SimulatedAiSystem;
  let controller: Controller;
  let http: ReturnType<typeof supertest>;
  const logLines: Array<Record<string, unknown>> = [];
  let rawLog = '';

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem(demoSimOptions(SIM, LABELS));
    const config = loadConfig({
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
      SHADOWGATE_SWEEP_MS: '3600000',
      LOG_LEVEL: 'debug',
      ...LOOPBACK_DESTINATIONS,
    });
    const logger = pino(
      { level: 'debug' },
      {
        write(line: string) {
          rawLog += line;
          logLines.push(JSON.parse(line));
        },
      },
    );
    controller = await createController({
      config,
      logger,
      database: tdb.database,
      queue: createInProcessShadowQueue({ logger }),
      migrate: false,
      background: false,
    });
    await controller.start();
    http = supertest(controller.app);

    const shadowPlan = labelPlan(
      'obs-shadow',
      `${sim.url}/decide`,
      '  human-reviewed:\n    approval: manual\n',
    );
    await http.put('/v1/use-cases/obs-shadow/plan').set(admin).send(shadowPlan).expect(201);
    const budgetPlan = labelPlan('obs-budget', `${sim.url}/decide`).replace(
      '  timeoutMs: 2000\n',
      '  timeoutMs: 2000\n  maxDailyCost: 0\n',
    );
    await http.put('/v1/use-cases/obs-budget/plan').set(admin).send(budgetPlan).expect(201);

    // 100 mirrored, the same 100 again (a retrying client), one more alone, one invalid.
    const batch = { decisions: invoices('obs-shadow', 0, 100) };
    await http.post('/v1/decisions').set(admin).set('x-request-id', 'sdk-batch-1').send(batch).expect(202);
    await http.post('/v1/decisions').set(admin).send(batch).expect(202);
    await http
      .post('/v1/decisions')
      .set(admin)
      .send(invoices('obs-shadow', 100, 1)[0])
      .expect(202);
    await http.post('/v1/decisions').set(admin).send({ useCase: 'obs-shadow' }).expect(400);
    await http
      .post('/v1/decisions')
      .set(admin)
      .send({ decisions: invoices('obs-budget', 0, 3) })
      .expect(202);

    // Two use cases in human-reviewed get a challenger (a plan version with another ai.url): the
    // calls owed to obs-challenger's wait on its daily budget of 0; obs-swapped's is forced in.
    const challengerPlan = (useCase: string, path: string) =>
      labelPlan(useCase, `${sim.url}${path}`, '  human-reviewed:\n    approval: manual\n').replace(
        '  timeoutMs: 2000\n',
        '  timeoutMs: 2000\n  maxDailyCost: 0\n',
      );
    for (const useCase of ['obs-challenger', 'obs-swapped']) {
      await http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(admin)
        .send(challengerPlan(useCase, '/decide'))
        .expect(201);
      await http
        .post(`/v1/use-cases/${useCase}/promote`)
        .set(admin)
        .send({ reason: 'observability test', force: true })
        .expect(200);
      const applied = await http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(admin)
        .send(challengerPlan(useCase, '/decide?challenger=1'))
        .expect(200);
      expect(applied.body.challenger?.action).toBe('challenger.started');
    }
    await http
      .post('/v1/decisions')
      .set(admin)
      .send({ decisions: invoices('obs-challenger', 0, 4) })
      .expect(202);
    await http
      .post('/v1/use-cases/obs-swapped/challenger/promote')
      .set(admin)
      .send({ reason: 'observability test', force: true })
      .expect(200);

    await waitForProgress({
      what: 'every AI call of obs-shadow answered or failed',
      read: async () => {
        const body = (await http.get('/v1/use-cases/obs-shadow').set(admin)).body;
        const shadow = body.metrics.stages[0];
        return shadow?.decisions === 101 ? shadow.pendingAi : -1;
      },
      done: (pending) => pending === 0,
    });
    await controller.engine.tick(new Date());
    await http
      .post('/v1/use-cases/obs-shadow/promote')
      .set(admin)
      .send({ reason: 'observability test', force: true })
      .expect(200);
  });

  afterAll(async () => {
    await controller?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  describe('GET /metrics', () => {
    let text: string;
    let families: Family[];

    beforeAll(async () => {
      const res = await http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      text = res.text;
      families = parsePrometheus(text);
    });

    it('when decisions were sent, retried and sent alone, then accepted and duplicate counts are what was sent', () => {
      const ingested = { use_case: 'obs-shadow' };
      expect(
        value(families, 'shadowgate_decisions_ingested_total', { ...ingested, outcome: 'accepted' }),
      ).toBe(101);
      expect(
        value(families, 'shadowgate_decisions_ingested_total', { ...ingested, outcome: 'duplicate' }),
      ).toBe(100);
      expect(
        value(families, 'shadowgate_decisions_ingested_total', {
          use_case: 'obs-budget',
          outcome: 'accepted',
        }),
      ).toBe(3);
      expect(families.find((f) => f.name === 'shadowgate_decisions_ingested_total')?.type).toBe('COUNTER');
    });

    it('when the simulated AI failed some requests on every attempt, then AI calls, errors by kind and the latency histogram count them', () => {
      const expected = expectedCalls(101);
      expect(expected.failed).toBeGreaterThan(0);
      const calls = value(families, 'shadowgate_ai_calls_total', { use_case: 'obs-shadow' })!;
      const shadow = { use_case: 'obs-shadow' };
      const httpErrors =
        value(families, 'shadowgate_ai_errors_total', { ...shadow, kind: 'http-status' }) ?? 0;
      // On a loaded machine an answer may miss the 2 s timeout and be asked again: each such call
      // is a counted timeout, never an uncounted call.
      const timeouts = value(families, 'shadowgate_ai_errors_total', { ...shadow, kind: 'timeout' }) ?? 0;
      expect(calls).toBe(sim.stats().calls);
      expect(calls).toBeGreaterThanOrEqual(expected.calls);
      expect(calls - expected.calls).toBeLessThanOrEqual(timeouts);
      expect(httpErrors + timeouts).toBe(calls - expected.answered);
      expect(httpErrors).toBeLessThanOrEqual(expected.errors);
      expect(httpErrors + timeouts).toBeGreaterThanOrEqual(expected.errors);
      const latency = histogram(text, 'shadowgate_ai_latency_seconds', 'use_case="obs-shadow"');
      expect(Number(latency?.count)).toBe(expected.answered);
      expect(Number(latency?.buckets?.['+Inf'])).toBe(expected.answered);
      // The plan's timeoutMs is 2000: every answer is in the 2.5 s bucket; the simulated AI waits at least 2 ms.
      expect(Number(latency?.buckets?.['2.5'])).toBe(expected.answered);
      expect(Number(latency?.sum)).toBeGreaterThan(expected.answered * 0.002);
    });

    it('when a use case is over its daily budget, then its calls are owed, the tick counts one budget trip, and the queue is empty', () => {
      expect(value(families, 'shadowgate_ai_calls_owed', { use_case: 'obs-budget' })).toBe(3);
      expect(value(families, 'shadowgate_ai_calls_owed', { use_case: 'obs-shadow' })).toBe(0);
      expect(
        value(families, 'shadowgate_guard_trips_total', { use_case: 'obs-budget', guard: 'maxDailyCost' }),
      ).toBe(1);
      for (const state of ['waiting', 'active', 'delayed']) {
        expect(value(families, 'shadowgate_queue_jobs', { use_case: 'obs-shadow', state })).toBe(0);
      }
    });

    it('when a use case was promoted, then its stage series names the new stage and the transition is counted', () => {
      const stages = families.find((f) => f.name === 'shadowgate_use_case_stage')!.metrics;
      expect(stages.map((m) => [m.labels?.use_case, m.labels?.stage, Number(m.value)])).toEqual([
        ['obs-budget', 'shadow', 1],
        ['obs-challenger', 'human-reviewed', 1],
        ['obs-shadow', 'human-reviewed', 1],
        ['obs-swapped', 'human-reviewed', 1],
      ]);
      expect(
        value(families, 'shadowgate_transitions_total', { use_case: 'obs-shadow', kind: 'promote' }),
      ).toBe(1);
    });

    it('when a use case has a challenger the tick judged, then its verdict and owed calls are series of that use case only, and a forced swap is counted', () => {
      const verdicts = families.find((f) => f.name === 'shadowgate_challenger_verdict')!;
      expect(verdicts.type).toBe('GAUGE');
      // No pair and no answer of its own yet (its calls wait on the budget): inconclusive.
      expect(verdicts.metrics.map((m) => [m.labels?.use_case, m.labels?.verdict, Number(m.value)])).toEqual([
        ['obs-challenger', 'inconclusive', 1],
      ]);
      const owed = families.find((f) => f.name === 'shadowgate_challenger_calls_owed')!;
      expect(owed.metrics.map((m) => [m.labels?.use_case, Number(m.value)])).toEqual([['obs-challenger', 4]]);
      const swaps = families.find((f) => f.name === 'shadowgate_challenger_swaps_total')!;
      expect(swaps.type).toBe('COUNTER');
      expect(swaps.metrics.map((m) => [m.labels?.use_case, Number(m.value)])).toEqual([['obs-swapped', 1]]);
    });

    it('when the SDK-facing route answered, then its handling time is a histogram by route and status', () => {
      const route = 'route="POST /v1/decisions"';
      // obs-shadow's three and obs-budget's and obs-challenger's batches.
      expect(
        Number(histogram(text, 'shadowgate_ingest_request_duration_seconds', `${route},status="202"`)?.count),
      ).toBe(5);
      expect(
        Number(histogram(text, 'shadowgate_ingest_request_duration_seconds', `${route},status="400"`)?.count),
      ).toBe(1);
    });

    it("when scraped, then Node's process metrics are on the same registry", () => {
      const names = families.map((f) => f.name);
      expect(names).toContain('process_cpu_user_seconds_total');
      expect(names).toContain('nodejs_heap_size_used_bytes');
    });

    it('when a second controller runs in the same process, then its counters are its own and its gauges read the same database', async () => {
      const logger = pino({ level: 'silent' });
      const other = await createController({
        config: loadConfig({ SHADOWGATE_ADMIN_KEY: ADMIN_KEY }),
        logger,
        database: tdb.database,
        queue: createInProcessShadowQueue({ logger }),
        migrate: false,
        background: false,
      });
      try {
        const theirs = parsePrometheus((await supertest(other.app).get('/metrics').expect(200)).text);
        expect(theirs.find((f) => f.name === 'shadowgate_decisions_ingested_total')?.metrics).toEqual([]);
        expect(value(theirs, 'shadowgate_ai_calls_owed', { use_case: 'obs-budget' })).toBe(3);
        // The owed challenger calls are read from the database; the verdict is what this process judged.
        expect(value(theirs, 'shadowgate_challenger_calls_owed', { use_case: 'obs-challenger' })).toBe(4);
        expect(theirs.find((f) => f.name === 'shadowgate_challenger_verdict')?.metrics).toEqual([]);
        await supertest(other.app).get('/v1/use-cases/obs-challenger').set(admin).expect(200);
        const judged = parsePrometheus((await supertest(other.app).get('/metrics').expect(200)).text);
        expect(value(judged, 'shadowgate_challenger_verdict', { use_case: 'obs-challenger' })).toBe(1);
      } finally {
        await other.stop();
      }
    });
  });

  describe('request ids and logs', () => {
    const accessLines = () => logLines.filter((l) => l.msg === 'request');

    it("when the caller sends x-request-id, then it is echoed and the request's access log line carries it", async () => {
      const res = await http
        .get('/v1/use-cases/obs-shadow')
        .set(admin)
        .set('x-request-id', 'sdk-7f3a.1')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('sdk-7f3a.1');
      const batchLine = accessLines().find((l) => l.reqId === 'sdk-batch-1');
      expect(batchLine).toMatchObject({
        level: 30,
        method: 'POST',
        path: '/v1/decisions',
        status: 202,
        useCase: 'obs-shadow',
        actor: 'bootstrap-admin',
      });
      expect(typeof batchLine?.durationMs).toBe('number');
      await eventually(
        async () => accessLines().find((l) => l.reqId === 'sdk-7f3a.1' && l.status === 200),
        'the access log line',
      );
    });

    it('when the caller sends none, or one that is not a plain short token, then a fresh id is made and logged', async () => {
      const none = await http.get('/healthz').expect(200);
      const made = none.headers['x-request-id'];
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
      const odd = await http.get('/healthz').set('x-request-id', 'has spaces and "quotes"').expect(200);
      expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      await eventually(async () => accessLines().find((l) => l.reqId === made), 'the probe line');
      // Probes are logged at debug, so they do not drown the info log.
      expect(accessLines().find((l) => l.reqId === made)).toMatchObject({
        level: 20,
        path: '/healthz',
        status: 200,
      });
    });

    it('when requests carried a key, then no log line holds the Authorization header or the key', () => {
      expect(accessLines().length).toBeGreaterThan(5);
      expect(rawLog).not.toContain(ADMIN_KEY);
      expect(rawLog.toLowerCase()).not.toContain('authorization');
      expect(rawLog.toLowerCase()).not.toContain('bearer');
    });

    it("when the worker makes an AI call, then its log lines name the use case and the decision's request id", () => {
      const { answered, failed } = expectedCalls(101);
      const answers = logLines.filter((l) => l.msg === 'AI call answered' && l.useCase === 'obs-shadow');
      const failures = logLines.filter((l) => l.msg === 'AI call failed' && l.useCase === 'obs-shadow');
      expect(answers).toHaveLength(answered);
      expect(failures).toHaveLength(failed);
      const ids = [...new Set([...answers, ...failures].map((l) => String(l.requestId)))].sort();
      expect(ids).toEqual(Array.from({ length: 101 }, (_, i) => makeInvoice(i).requestId).sort());
      expect(failures[0]).toMatchObject({ kind: 'http-status', attempt: MAX_ATTEMPTS });
    });
  });

  describe('GET /v1/openapi.json', () => {
    type Doc = {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; requestBody?: { content: Record<string, { schema: unknown }> } }
        >
      >;
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    let doc: Doc;

    beforeAll(async () => {
      doc = (await http.get('/v1/openapi.json').expect(200)).body;
    });

    it('when read without a key, then it is an OpenAPI 3.1 document listing every documented route', () => {
      expect(doc.openapi).toBe('3.1.0');
      for (const route of ROUTES) {
        expect(
          doc.paths[openApiPath(route.path)]?.[route.method],
          `${route.method} ${route.path}`,
        ).toBeDefined();
      }
      const ids = Object.values(doc.paths).flatMap((methods) =>
        Object.values(methods).map((op) => op.operationId),
      );
      expect(new Set(ids).size).toBe(ROUTES.length);
    });

    it('when the app is walked, then every /v1 route and probe it serves is documented and nothing documented is missing', () => {
      const served = appRoutes((controller.app as unknown as { router: { stack: unknown[] } }).router.stack)
        .filter((r) => / \/(?:v1\/|healthz|readyz|metrics)/.test(r))
        .sort();
      const documented = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
      expect(documented).toEqual(served);
    });

    it('when each documented route is called, then the app answers it (no "no route" 404)', async () => {
      const params: Record<string, string> = { id: 'obs-shadow', useCase: 'obs-shadow', requestId: 'x' };
      for (const route of ROUTES) {
        const path = route.path.replace(/:(\w+)/g, (_, name: string) => params[name] ?? 'x');
        const res = await http[route.method](path).set(admin).send({});
        expect(String(res.body?.message ?? ''), `${route.method} ${path}`).not.toMatch(/^no route/);
      }
    });

    it('when a request body is documented, then its schema is a JSON schema object from the zod schema that validates it', () => {
      const resolve = (schema: unknown): Record<string, unknown> => {
        const ref = (schema as { $ref?: string }).$ref;
        return ref
          ? doc.components.schemas[ref.replace('#/components/schemas/', '')]!
          : (schema as Record<string, unknown>);
      };
      let bodies = 0;
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (!op.requestBody) continue;
          for (const media of Object.values(op.requestBody.content)) {
            const top = media.schema as { oneOf?: unknown[] };
            for (const schema of top.oneOf ?? [top]) {
              const resolved = resolve(schema);
              expect(resolved, `${method} ${path}`).toBeTypeOf('object');
              expect(resolved.type, `${method} ${path}`).toBe('object');
              bodies++;
            }
          }
        }
      }
      expect(bodies).toBeGreaterThanOrEqual(11);
      const { schemas } = doc.components;
      expect(schemas.MirroredDecision?.required).toEqual(['useCase', 'requestId', 'input']);
      const createKey = schemas.CreateKey!.properties as Record<string, { enum?: unknown }>;
      expect(createKey.role?.enum).toEqual([...ROLES]);
      const promote = schemas.Promote!.properties as Record<string, { minLength?: number }>;
      expect(promote.reason?.minLength).toBe(3);
      expect(schemas.Plan?.required).toEqual(['useCase', 'owner', 'decision', 'ai']);
      expect(schemas.GateCriterion?.required).toEqual(['name', 'required', 'actual', 'status', 'holds']);
      const criterion = schemas.GateCriterion!.properties as Record<string, { enum?: unknown }>;
      expect(criterion.status?.enum).toEqual(['holds', 'inconclusive', 'blocked']);
    });

    it('when the document is walked, then every $ref points at a component it holds', () => {
      const refs: string[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if (k === '$ref' && typeof x === 'string') refs.push(x);
            else walk(x);
          }
        }
      };
      walk(doc);
      expect(refs.length).toBeGreaterThan(10);
      for (const ref of refs) {
        expect(ref).toMatch(/^#\/components\/schemas\/[\w.-]+$/);
        expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
    });
  });
});
