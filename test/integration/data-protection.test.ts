import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DrizzleQueryError, eq, sql } from 'drizzle-orm';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { decisions } from '../../src/db/schema.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createLogger } from '../../src/main/logger.js';
import { RetentionPurge } from '../../src/privacy/retention-purge.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { eventually, LOOPBACK_DESTINATIONS } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const ADMIN_KEY = 'data-protection-admin-key-0123456789';
const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const LABELS = ['approve', 'reject', 'escalate'];
const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const PHONE = '+44 20 7946 0958';
/** Values no redaction pattern finds: only the plan's storeInput keeps them out. */
const SSN = '078-05-1120';
const NAME = 'Jane Roe';

/** Every log line of every controller of this file. */
const logLines: string[] = [];
const logs = { write: (line: string) => void logLines.push(line) };

interface Running {
  controller: Controller;
  http: ReturnType<typeof supertest>;
}

/** A controller on `tdb` with the in-process queue, logging at debug into `logLines`; background loops off. */
async function startController(tdb: TestDatabase): Promise<Running> {
  const config = loadConfig({
    SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: 'debug',
    ...LOOPBACK_DESTINATIONS,
  });
  const logger = createLogger('debug', 'data-protection-test', logs);
  const controller = await createController({
    config,
    logger,
    database: tdb.database,
    queue: createInProcessShadowQueue({ logger }),
    migrate: false,
    background: false,
  });
  await controller.start();
  return { controller, http: supertest(controller.app) };
}

function plan(
  useCase: string,
  aiUrl: string,
  extra: string,
  { concurrency = 8, ai = '' }: { concurrency?: number; ai?: string } = {},
): string {
  return `useCase: ${useCase}
owner: privacy@example.com
decision: { type: label, labels: [approve, reject, escalate] }
ai: { adapter: http, url: ${aiUrl}, timeoutMs: 2000, concurrency: ${concurrency}, maxAttempts: 3${ai} }
segments: [region, riskTier]
${extra}
`;
}

/** An invoice carrying personal data, as a workflow would mirror it. */
function sensitive(useCase: string, i: number, withHuman = true) {
  const invoice = makeInvoice(i);
  const input = {
    ...invoice.input,
    customer: { email: EMAIL, card: CARD },
    note: `call ${PHONE} before paying`,
  };
  return {
    useCase,
    requestId: invoice.requestId,
    input,
    context: { ...invoice.context, accountId: `ACC-${i}`, contact: EMAIL },
    ...(withHuman ? { human: { decision: referenceLabel(input, LABELS), decidedBy: `clerk ${EMAIL}` } } : {}),
  };
}

async function rowsOf(tdb: TestDatabase, useCase: string) {
  return tdb.database.db.select().from(decisions).where(eq(decisions.useCase, useCase)).orderBy(decisions.id);
}

/** The canonical JSON of a value written independently of the code under test: sorted keys, no spaces. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('data protection on PostgreSQL', () => {
  let tdb: TestDatabase;
  let sim: SimulatedAiSystem;
  let running: Running;
  let hook: Server;
  const hookBodies: string[] = [];
  /** An AI system that answers 400 with the request it got, as some do in their error bodies. */
  let echo: Server;
  let echoUrl = '';
  const echoed: string[] = [];
  let ingestKey = '';

  /** The simulated AI saw the raw input exactly when its reference label is the one computed from it. */
  const expectAiSawRawInput = (items: ReturnType<typeof sensitive>[]) => {
    const byRequest = sim.stats().byRequest;
    for (const item of items) {
      const seen = byRequest[item.requestId];
      expect(seen?.reference, item.requestId).toBe(referenceLabel(item.input, LABELS));
    }
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 0.9, latencyMs: 1 });
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        hookBodies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    echo = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      echoed.push(body);
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(`{"error":"invalid request","request":${body}}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    running = await startController(tdb);
    const created = await running.http
      .post('/v1/keys')
      .set(admin)
      .send({ name: 'privacy-ingest', role: 'ingest' })
      .expect(201);
    ingestKey = created.body.key;
  });

  afterAll(async () => {
    await running?.controller.stop();
    await sim?.close();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    echo?.closeAllConnections();
    await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
    await tdb?.drop();
  });

  const ingest = (body: object) =>
    running.http
      .post('/v1/decisions')
      .set({ Authorization: `Bearer ${ingestKey}` })
      .send(body);

  const applyPlan = (useCase: string, text: string) =>
    running.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(admin)
      .set('content-type', 'application/yaml')
      .send(text)
      .expect(201);

  const allAnswered = (useCase: string) =>
    eventually(async () => {
      const rows = await rowsOf(tdb, useCase);
      return rows.length > 0 && rows.every((r) => r.aiState === 'done') ? rows : undefined;
    }, `every AI call of ${useCase}`);

  it('when each storeInput mode is used, then the row holds the input as sent, redacted, hashed or nothing, the context is redacted, and the AI was asked with the raw input', async () => {
    const rules = 'redact: { fields: [input.customer.card, context.accountId], patterns: [email, phone] }';
    await applyPlan(
      'store-full',
      plan('store-full', `${sim.url}/decide`, 'redact: { fields: [context.accountId] }'),
    );
    for (const mode of ['redacted', 'hash', 'none']) {
      await applyPlan(
        `store-${mode}`,
        plan(`store-${mode}`, `${sim.url}/decide`, `${rules}\nstoreInput: ${mode}`),
      );
    }
    const sent = ['full', 'redacted', 'hash', 'none'].map((mode, i) => sensitive(`store-${mode}`, 100 + i));
    await ingest({ decisions: sent }).expect(202, { accepted: 4, duplicates: 0, aiCallsOwed: 4 });

    const [full, redacted, hashed, none] = await Promise.all(
      ['full', 'redacted', 'hash', 'none'].map(async (mode) => (await allAnswered(`store-${mode}`))[0]!),
    );
    expect(full!.input).toEqual(sent[0]!.input);
    expect(full!.context).toEqual({ ...sent[0]!.context, accountId: '[redacted]' });
    expect(full!.humanDecidedBy).toBe(`clerk ${EMAIL}`);

    expect(redacted!.input).toEqual({
      ...sent[1]!.input,
      customer: { email: '[email]', card: '[redacted]' },
      note: 'call [phone] before paying',
    });
    expect(redacted!.context).toEqual({ ...sent[1]!.context, accountId: '[redacted]', contact: '[email]' });
    expect(redacted!.humanDecidedBy).toBe('clerk [email]');

    const sha256 = createHash('sha256').update(sortedJson(sent[2]!.input)).digest('hex');
    expect(hashed!.input).toEqual({ sha256 });
    expect(hashed!.context).toEqual({ ...sent[2]!.context, accountId: '[redacted]', contact: '[email]' });

    expect(none!.input).toBeNull();
    for (const row of [full, redacted, hashed, none]) {
      expect(row!.pendingInput).toBeNull();
      expect(row!.score).not.toBeNull();
    }
    expectAiSawRawInput(sent);

    // The idempotency hash is of the payload as sent: a retry is recognised, another e-mail is a conflict.
    await ingest(sent[3]!).expect(202, { accepted: 0, duplicates: 1, aiCallsOwed: 0 });
    const changed = {
      ...sent[3]!,
      input: { ...sent[3]!.input, customer: { email: 'x@example.com', card: CARD } },
    };
    await ingest(changed).expect(409);
  });

  it('when the controller stops with AI calls owed and another starts on the same database, then the AI gets the raw input and pending_input is cleared', async () => {
    sim.setOptions({ latencyMs: 150 });
    await applyPlan(
      'restarted',
      plan('restarted', `${sim.url}/decide`, 'redact: { patterns: [email, card] }\nstoreInput: none', {
        concurrency: 1,
      }),
    );
    const sent = Array.from({ length: 12 }, (_, k) => sensitive('restarted', 200 + k));
    await ingest({ decisions: sent }).expect(202);
    await eventually(
      async () => ((sim.stats().byRequest[sent[1]!.requestId]?.calls ?? 0) > 0 ? true : undefined),
      'the first calls',
    );
    await running.controller.stop();

    const stopped = await rowsOf(tdb, 'restarted');
    const owed = stopped.filter((r) => r.aiState === 'owed');
    expect(owed.length).toBeGreaterThanOrEqual(5);
    const raw = new Map(sent.map((s) => [s.requestId, s.input]));
    for (const row of owed) {
      expect(row.input).toBeNull();
      expect(row.pendingInput).toEqual(raw.get(row.requestId));
    }
    for (const row of stopped.filter((r) => r.aiState === 'done')) expect(row.pendingInput).toBeNull();

    sim.setOptions({ latencyMs: 1 });
    running = await startController(tdb); // its start() sweeps what is owed
    const done = await allAnswered('restarted');
    expect(done).toHaveLength(12);
    const byRequest = sim.stats().byRequest;
    for (const row of done) {
      expect(row.input).toBeNull();
      expect(row.pendingInput).toBeNull();
      expect(row.aiDecision).toBe(byRequest[row.requestId]?.decision);
    }
    expectAiSawRawInput(sent);
  });

  it('when a suggestion is asked with storeInput none, then the AI answers from the raw input, and a transient failure keeps it pending until the worker calls', async () => {
    const webhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    await applyPlan(
      'suggested',
      plan(
        'suggested',
        `${sim.url}/decide`,
        `redact: { patterns: [email] }\nstoreInput: none\nnotify: { webhook: ${webhook} }\nstages:\n  shadow: {}\n  human-reviewed: {}`,
      ),
    );
    await running.http
      .post('/v1/use-cases/suggested/promote')
      .set(admin)
      .send({ reason: `approved by ${EMAIL}, call ${PHONE}`, force: true })
      .expect(200);

    const asked = sensitive('suggested', 300, false);
    const answer = await running.http
      .post('/v1/use-cases/suggested/suggest')
      .set({ Authorization: `Bearer ${ingestKey}` })
      .send({ requestId: asked.requestId, input: asked.input, context: asked.context })
      .expect(200);
    expect(answer.body.decision).toBe(sim.stats().byRequest[asked.requestId]?.decision);
    expectAiSawRawInput([asked]);
    const [row] = (await rowsOf(tdb, 'suggested')).filter((r) => r.requestId === asked.requestId);
    expect(row).toMatchObject({ input: null, pendingInput: null, aiState: 'done' });

    sim.setOptions({ failure: 'http-500' });
    const failing = sensitive('suggested', 301, false);
    await running.http
      .post('/v1/use-cases/suggested/suggest')
      .set({ Authorization: `Bearer ${ingestKey}` })
      .send({ requestId: failing.requestId, input: failing.input, context: failing.context })
      .expect(502);
    const [owed] = (await rowsOf(tdb, 'suggested')).filter((r) => r.requestId === failing.requestId);
    expect(owed).toMatchObject({ input: null, aiState: 'owed', aiLeaseUntil: null });
    expect(owed!.pendingInput).toEqual(failing.input);

    sim.setOptions({ failure: 'none' });
    await running.controller.worker.sweep();
    await eventually(async () => {
      const [r] = (await rowsOf(tdb, 'suggested')).filter((x) => x.requestId === failing.requestId);
      return r?.aiState === 'done' ? r : undefined;
    }, 'the owed suggestion').then((r) => expect(r.pendingInput).toBeNull());
    expectAiSawRawInput([failing]);

    // The webhook got the stage change (delivered in the background), its free text masked, and no input.
    const changed = await eventually(
      async () =>
        hookBodies
          .map((b) => JSON.parse(b) as Record<string, unknown>)
          .find((e) => e.type === 'stage.changed' && e.useCase === 'suggested'),
      'the stage change at the webhook',
    );
    expect(changed).toMatchObject({
      from: 'shadow',
      to: 'human-reviewed',
      reason: 'approved by [email], call [phone]',
    });
    expect(changed!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(hookBodies.join('\n')).not.toContain(EMAIL);
    expect(hookBodies.join('\n')).not.toContain('"input"');
  });

  it('when decisions pass retentionDays, then their inputs are purged in batches, owed calls keep theirs, and the metrics do not change', async () => {
    await applyPlan('kept', plan('kept', `${sim.url}/decide`, 'retentionDays: 30'));
    // A daily budget of 0 keeps every call owed: a use case whose calls are still outstanding.
    await applyPlan(
      'kept-owed',
      plan('kept-owed', `${sim.url}/decide`, 'retentionDays: 30', { ai: ', maxDailyCost: 0' }),
    );
    const sent = Array.from({ length: 10 }, (_, k) => sensitive('kept', 400 + k));
    await ingest({ decisions: sent }).expect(202);
    await allAnswered('kept');
    const owedSent = Array.from({ length: 3 }, (_, k) => sensitive('kept-owed', 500 + k));
    await ingest({ decisions: owedSent }).expect(202);

    // Six of ten, and every owed one, were received 40 days ago.
    const ids = (await rowsOf(tdb, 'kept')).map((r) => r.id);
    await tdb.database.rows(
      sql`update decisions set received_at = now() - interval '40 days' where id = any(${sql.param(ids.slice(0, 6))}::bigint[]) or use_case = 'kept-owed'`,
    );
    const metricsOf = async (useCase: string) =>
      (await running.http.get(`/v1/use-cases/${useCase}`).set(admin).expect(200)).body.metrics;
    const before = await metricsOf('kept');

    const purge = new RetentionPurge({
      database: tdb.database,
      useCases: running.controller.services.useCases,
      logger: running.controller.logger,
      batchSize: 4,
    });
    const outcomes = await purge.purge(new Date());
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { useCase: 'kept', purged: 6, keptOwed: 0 },
        { useCase: 'kept-owed', purged: 0, keptOwed: 3 },
      ]),
    );
    expect(await metricsOf('kept')).toEqual(before);

    const rows = await rowsOf(tdb, 'kept');
    expect(rows.map((r) => r.input === null)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(rows.slice(6).map((r) => r.input)).toEqual(sent.slice(6).map((s) => s.input));
    for (const row of rows) expect(row).toMatchObject({ aiState: 'done', pendingInput: null });
    const owedRows = await rowsOf(tdb, 'kept-owed');
    expect(owedRows.map((r) => [r.aiState, r.input])).toEqual(owedSent.map((s) => ['owed', s.input]));
    expect(logLines.some((l) => l.includes('inputs past retention kept'))).toBe(true);

    // Nothing left to purge: a second run changes nothing; the controller's own purge agrees.
    expect(await running.controller.retention.purge(new Date())).toEqual(
      expect.arrayContaining([{ useCase: 'kept', purged: 0, keptOwed: 0 }]),
    );
  });

  it('when an AI answers HTTP 400 echoing the request, then nothing of the body is stored unless storeInput is full, nothing of it is logged, and a suggest caller is told only the status', async () => {
    const modes = ['full', 'redacted', 'hash', 'none'] as const;
    for (const mode of modes) {
      const rules = mode === 'full' ? '' : 'redact: { fields: [input.ssn, input.name] }';
      await applyPlan(
        `echo-${mode}`,
        plan(
          `echo-${mode}`,
          `${echoUrl}/decide`,
          `${rules}\nstoreInput: ${mode}\nstages:\n  shadow: {}\n  human-reviewed: {}`,
        ),
      );
    }
    // Mirrored in shadow (the shadow worker calls), then asked for suggestions in human-reviewed.
    const input = { ssn: SSN, name: NAME, amount: 12 };
    await ingest({
      decisions: modes.map((mode) => ({ useCase: `echo-${mode}`, requestId: `echo-${mode}-1`, input })),
    }).expect(202, { accepted: 4, duplicates: 0, aiCallsOwed: 4 });
    for (const mode of modes) {
      await running.http
        .post(`/v1/use-cases/echo-${mode}/promote`)
        .set(admin)
        .send({ reason: 'suggestions', force: true })
        .expect(200);
    }
    const answers: string[] = [];
    for (const mode of modes) {
      const ask = () =>
        running.http
          .post(`/v1/use-cases/echo-${mode}/suggest`)
          .set({ Authorization: `Bearer ${ingestKey}` })
          .send({ requestId: `echo-${mode}-2`, input });
      // The second ask finds the failure already recorded.
      for (const res of [await ask().expect(502), await ask().expect(502)]) answers.push(res.text);
    }
    expect(answers[0]).toContain('the AI system failed: http-status: AI system answered HTTP 400');
    expect(answers[1]).toContain('the AI system failed for this request: http-status');

    for (const mode of modes) {
      const rows = await eventually(async () => {
        const found = await rowsOf(tdb, `echo-${mode}`);
        return found.length === 2 && found.every((r) => r.aiState === 'error') ? found : undefined;
      }, `the failed calls of echo-${mode}`);
      for (const row of rows) {
        if (mode === 'full') {
          expect(row.aiError).toMatch(
            /^http-status: AI system answered HTTP 400 \(a body of \d+ bytes\); from the AI system: \{"error":"invalid request"/,
          );
          expect(row.aiError).toContain(SSN);
        } else {
          expect(row.aiError).toMatch(/^http-status: AI system answered HTTP 400 \(a body of \d+ bytes\)$/);
        }
      }
    }
    expect(echoed.some((body) => body.includes(SSN))).toBe(true);
    const told = answers.join('\n');
    const logged = logLines.join('\n');
    for (const secret of [SSN, NAME]) {
      expect(told, secret).not.toContain(secret);
      expect(logged, secret).not.toContain(secret);
    }
    expect(logged).toContain('AI call failed');
  });

  it('when decisions with AI errors pass retentionDays, then each error is cut to its kind, those of inputs already gone too', async () => {
    await applyPlan('echo-kept', plan('echo-kept', `${echoUrl}/decide`, 'retentionDays: 30'));
    await ingest({
      decisions: [1, 2].map((k) => ({ useCase: 'echo-kept', requestId: `kept-${k}`, input: { ssn: SSN } })),
    }).expect(202);
    await eventually(async () => {
      const rows = await rowsOf(tdb, 'echo-kept');
      return rows.length === 2 && rows.every((r) => r.aiState === 'error') ? rows : undefined;
    }, 'the failed calls of echo-kept');
    // One whose input is gone already (stored under none before errors were kept apart).
    await tdb.database.rows(sql`update decisions set input = null where request_id = 'kept-2'`);
    await tdb.database.rows(
      sql`update decisions set received_at = now() - interval '40 days' where use_case = 'echo-kept'`,
    );
    expect((await rowsOf(tdb, 'echo-kept')).every((r) => r.aiError?.includes(SSN))).toBe(true);
    // A challenger's failed call of the same age keeps its error text the same way.
    const [challenger] = await tdb.database.rows<{ id: number }>(sql`
      insert into challengers (use_case, plan_version, ai_config, champion_plan_version, champion_ai_config, started_by, state)
      values ('echo-kept', 1, 'challenger', 1, 'champion', 'test', 'ended') returning id`);
    await tdb.database.rows(sql`
      insert into challenger_calls (challenger_id, use_case, request_id, state, error, received_at)
      values (${challenger!.id}, 'echo-kept', 'kept-1', 'error', ${`http-status: 400 ${SSN}`}, now() - interval '40 days')`);

    const outcomes = await running.controller.retention.purge(new Date());
    const [challengerCall] = await tdb.database.rows<{ error: string }>(
      sql`select error from challenger_calls where use_case = 'echo-kept'`,
    );
    expect(challengerCall?.error).toBe('http-status');
    expect(outcomes).toEqual(expect.arrayContaining([{ useCase: 'echo-kept', purged: 2, keptOwed: 0 }]));
    const rows = await rowsOf(tdb, 'echo-kept');
    expect(rows.map((r) => [r.input, r.aiState, r.aiError])).toEqual([
      [null, 'error', 'http-status'],
      [null, 'error', 'http-status'],
    ]);
    expect(await running.controller.retention.purge(new Date())).toEqual(
      expect.arrayContaining([{ useCase: 'echo-kept', purged: 0, keptOwed: 0 }]),
    );
  });

  it('when the database is upgraded, then AI errors stored under a plan that does not keep inputs as sent are cut to their kind', async () => {
    const legacy = `http-status: AI system answered HTTP 400: {"request":{"input":{"ssn":"${SSN}"}}}`;
    await tdb.database.rows(
      sql`update decisions set ai_error = ${legacy} where use_case in ('echo-none', 'echo-full')`,
    );
    const migration = readFileSync(
      new URL('../../migrations/0005_ai_error_retention.sql', import.meta.url),
      'utf8',
    );
    const scrub = migration.split('--> statement-breakpoint').find((s) => s.includes('UPDATE'));
    await tdb.database.rows(sql.raw(scrub!));
    expect((await rowsOf(tdb, 'echo-none')).map((r) => r.aiError)).toEqual(['http-status', 'http-status']);
    expect((await rowsOf(tdb, 'echo-full')).map((r) => r.aiError)).toEqual([legacy, legacy]);
  });

  it('when everything above was logged at debug, then no key, credential or personal data is in the logs', async () => {
    // A failed query carries its parameters in its message: the serializer takes them out.
    running.controller.logger.warn(
      {
        err: new DrizzleQueryError(
          'insert into "decisions" ("input") values ($1)',
          [`{"email":"${EMAIL}"}`],
          new Error('boom'),
        ),
        apiKey: ingestKey,
        headers: { authorization: admin.Authorization },
        input: { email: EMAIL },
      },
      'a line that tries to leak',
    );
    const leak = logLines.find((l) => l.includes('a line that tries to leak'));
    expect(JSON.parse(leak!)).toMatchObject({
      err: { message: expect.stringContaining('params: [redacted]') },
      apiKey: '[redacted]',
      headers: { authorization: '[redacted]' },
      input: '[redacted]',
    });

    const all = logLines.join('\n');
    expect(logLines.filter((l) => l.includes('"msg":"request"')).length).toBeGreaterThan(10);
    expect(all).toContain('AI call answered');
    for (const secret of [ADMIN_KEY, ingestKey, EMAIL, CARD, PHONE, 'ACC-100', SSN, NAME]) {
      expect(all, secret).not.toContain(secret);
    }
  });
});
