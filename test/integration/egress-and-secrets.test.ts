import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServing } from '../../src/cli/commands/server-commands.js';
import {
  DestinationPolicy,
  type DestinationRules,
  parseDestinations,
} from '../../src/egress/destination-policy.js';
import { auditEvents, decisions } from '../../src/db/schema.js';
import { createLogger } from '../../src/main/logger.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { Notifier } from '../../src/promotion/notifier.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import {
  ADMIN_KEY,
  eventually,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { REDIS_URL } from '../support/services.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * What a hostile plan owner can make the controller send, and where: secrets only from the
 * names the operator allows and to the hosts they are bound to, AI calls and webhooks only to
 * allowed destinations (checked at apply and again after DNS at connect), webhooks never
 * redirected, logged by origin, and delivered without holding up a stage change.
 */

const AI_KEY = 'sk-test-allowed-0123456789';
const OTHER_KEY = 'sk-test-other-0123456789';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** True once the connection closed before the listener answered. */
  abandoned: boolean;
}

interface Listener {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A loopback HTTP listener that records every request; `answer` decides the reply (or none). */
async function listen(answer: (seen: Seen, res: ServerResponse) => void): Promise<Listener> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        abandoned: false,
      };
      seen.push(entry);
      res.on('close', () => {
        if (!res.writableEnded) entry.abandoned = true;
      });
      answer(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An OpenAI-compatible chat endpoint answering "approve". */
const chatAnswer = (_: Seen, res: ServerResponse) =>
  res.setHeader('content-type', 'application/json').end(
    JSON.stringify({
      model: 'test-model',
      choices: [{ message: { content: '{"decision":"approve","confidence":0.9}' } }],
    }),
  );

function chatPlan(useCase: string, url: string, extra = ''): string {
  return `useCase: ${useCase}
owner: owner@example.com
decision: { type: label, labels: [approve, reject] }
ai:
  adapter: openai-chat
  url: "${url}"
  model: test-model
  prompt: "Decide {{input}}"
  maxAttempts: 1
${extra}`;
}

function httpPlan(useCase: string, url: string, extra = ''): string {
  return `useCase: ${useCase}
owner: owner@example.com
decision: { type: label, labels: [approve, reject] }
ai: { adapter: http, url: "${url}", maxAttempts: 1, timeoutMs: 2000 }
${extra}`;
}

function decision(useCase: string, i: number, human = 'approve') {
  const invoice = makeInvoice(i);
  return {
    useCase,
    requestId: `${useCase}-${i}`,
    input: invoice.input,
    context: invoice.context,
    human: { decision: human },
  };
}

async function aiStates(tdb: TestDatabase, useCase: string) {
  return tdb.database.db
    .select({ aiState: decisions.aiState, aiError: decisions.aiError })
    .from(decisions)
    .where(eq(decisions.useCase, useCase));
}

/** The AI calls of `useCase` once every one of its `count` decisions has ended. */
async function settled(tdb: TestDatabase, useCase: string, count: number) {
  return eventually(async () => {
    const rows = await aiStates(tdb, useCase);
    return rows.length === count && rows.every((r) => r.aiState === 'done' || r.aiState === 'error')
      ? rows
      : undefined;
  }, `the AI calls of ${useCase}`);
}

function problemPaths(body: { details?: Array<{ path: string }> }): string[] {
  return (body.details ?? []).map((d) => d.path);
}

describe('AI secrets and destinations, with loopback allowed for the test listeners', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  const logLines: string[] = [];
  const listeners: Listener[] = [];
  const previousAdminKey = process.env.SHADOWGATE_ADMIN_KEY;

  const open = async (answer: (seen: Seen, res: ServerResponse) => void) => {
    const listener = await listen(answer);
    listeners.push(listener);
    return listener;
  };
  const putPlan = (useCase: string, text: string, auth = tc.admin) =>
    tc.http.put(`/v1/use-cases/${useCase}/plan`).set(auth).set('content-type', 'application/yaml').send(text);

  beforeAll(async () => {
    // The environment `serve` runs in: the attack of issue 12 read the admin key from it.
    process.env.SHADOWGATE_ADMIN_KEY = ADMIN_KEY;
    tdb = await createTestDatabase();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      logger: createLogger('info', 'egress-test', { write: (line: string) => void logLines.push(line) }),
      env: {
        SHADOWGATE_AI_SECRETS: 'SG_TEST_AI_KEY:127.0.0.1, SG_TEST_OTHER_KEY:ai.example.com|*.example.org',
        SG_TEST_AI_KEY: AI_KEY,
        SG_TEST_OTHER_KEY: OTHER_KEY,
      },
    });
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    if (previousAdminKey === undefined) delete process.env.SHADOWGATE_ADMIN_KEY;
    else process.env.SHADOWGATE_ADMIN_KEY = previousAdminKey;
    await tc?.stop();
    await tdb?.drop();
  });

  it('when an owner key scoped to one use case names the admin key (or another controller secret) as apiKeyEnv, then the plan is refused at ai.apiKeyEnv and its listener never receives a bearer', async () => {
    const thief = await open(chatAnswer);
    const owner = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'thief-owner', role: 'owner', useCases: ['thief'] })
      .expect(201);
    const ownerAuth = { Authorization: `Bearer ${owner.body.key}` };
    const long = `K${'_'.repeat(128)}`;
    for (const name of ['SHADOWGATE_ADMIN_KEY', 'DATABASE_URL', 'UNLEASH_ADMIN_TOKEN', 'PATH', long]) {
      const refused = await putPlan(
        'thief',
        chatPlan('thief', `${thief.url}/v1`, `  apiKeyEnv: ${name}`),
        ownerAuth,
      );
      expect(refused.status, name).toBe(400);
      expect(problemPaths(refused.body), name).toEqual(['ai.apiKeyEnv']);
    }

    // The same listener as an honest AI system: it is called, without any bearer.
    await putPlan('thief', chatPlan('thief', `${thief.url}/v1`), ownerAuth).expect(201);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: [decision('thief', 1)] })
      .expect(202);
    await settled(tdb, 'thief', 1);
    expect(thief.seen).toHaveLength(1);
    for (const request of thief.seen) expect(request.headers.authorization).toBeUndefined();
  });

  it('when a stored plan names a secret the operator did not allow, then its call is refused before anything is sent', async () => {
    const thief = await open(chatAnswer);
    // Written past the API's check, as an older controller might have stored it.
    const text = chatPlan('stored-thief', `${thief.url}/v1`, '  apiKeyEnv: SHADOWGATE_ADMIN_KEY');
    const parsed = parsePlanText(text, 'yaml');
    if (!parsed.ok) throw new Error('test plan invalid');
    const { useCase } = await tc.controller.services.useCases.applyPlan({
      id: 'stored-thief',
      plan: parsed.plan,
      text,
      textHash: parsed.hash,
      format: 'yaml',
      aiConfig: aiConfigKey(parsed.plan),
      actor: 'test',
    });
    await tc.controller.services.onPlanApplied(useCase);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: [decision('stored-thief', 1)] })
      .expect(202);
    const [row] = await settled(tdb, 'stored-thief', 1);
    expect(row).toMatchObject({ aiState: 'error' });
    expect(row!.aiError).toMatch(/SHADOWGATE_ADMIN_KEY/);
    expect(row!.aiError).not.toContain(ADMIN_KEY);
    expect(thief.seen).toHaveLength(0);
    const metrics = await tc.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /shadowgate_ai_errors_total\{[^}]*use_case="stored-thief"[^}]*kind="egress-refused"[^}]*\} 1|shadowgate_ai_errors_total\{[^}]*kind="egress-refused"[^}]*use_case="stored-thief"[^}]*\} 1/,
    );
  });

  it('when a secret is allowed for one host, then it is sent there and a plan sending it anywhere else is refused at ai.url', async () => {
    const ai = await open(chatAnswer);
    const port = new URL(ai.url).port;
    await putPlan('keyed', chatPlan('keyed', `${ai.url}/v1`, '  apiKeyEnv: SG_TEST_AI_KEY')).expect(201);

    const elsewhere = [
      // The listener again, by a name the secret is not bound to.
      chatPlan('keyed-elsewhere', `http://localhost:${port}/v1`, '  apiKeyEnv: SG_TEST_AI_KEY'),
      // A secret bound to other hosts, sent to the listener.
      chatPlan('keyed-elsewhere', `${ai.url}/v1`, '  apiKeyEnv: SG_TEST_OTHER_KEY'),
      // A bound host, over plain HTTP.
      chatPlan('keyed-elsewhere', 'http://ai.example.com/v1', '  apiKeyEnv: SG_TEST_OTHER_KEY'),
    ];
    for (const text of elsewhere) {
      const refused = await putPlan('keyed-elsewhere', text).expect(400);
      expect(problemPaths(refused.body)).toEqual(['ai.url']);
    }
    await putPlan(
      'keyed-elsewhere',
      chatPlan('keyed-elsewhere', 'https://eu.example.org/v1', '  apiKeyEnv: SG_TEST_OTHER_KEY'),
    ).expect(201);

    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: [decision('keyed', 1)] })
      .expect(202);
    await settled(tdb, 'keyed', 1);
    expect(ai.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${AI_KEY}`]);
  });

  it('when apiKeyEnv changes, then the AI configuration changes and the audit log names the variable', async () => {
    const url = 'https://ai.example.com/v1';
    const first = await putPlan('audited', chatPlan('audited', url, '  apiKeyEnv: SG_TEST_OTHER_KEY')).expect(
      201,
    );
    const unkeyed = await putPlan('audited-unkeyed', chatPlan('audited-unkeyed', url)).expect(201);
    expect(first.body.aiConfig).not.toBe(unkeyed.body.aiConfig);

    const events = await tdb.database.db
      .select({ action: auditEvents.action, details: auditEvents.details })
      .from(auditEvents)
      .where(eq(auditEvents.useCase, 'audited'));
    expect(events).toEqual([
      {
        action: 'use-case.create',
        details: expect.objectContaining({ apiKeyEnv: 'SG_TEST_OTHER_KEY', aiConfig: first.body.aiConfig }),
      },
    ]);
    const [unkeyedEvent] = await tdb.database.db
      .select({ details: auditEvents.details })
      .from(auditEvents)
      .where(eq(auditEvents.useCase, 'audited-unkeyed'));
    expect(unkeyedEvent!.details).not.toHaveProperty('apiKeyEnv');
  });

  it('when loopback is allowed explicitly, then an AI system reached by a name resolving to it is called', async () => {
    const ai = await open(chatAnswer);
    const port = new URL(ai.url).port;
    await putPlan('by-name', chatPlan('by-name', `http://localhost:${port}/v1`)).expect(201);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: [decision('by-name', 1)] })
      .expect(202);
    const [row] = await settled(tdb, 'by-name', 1);
    expect(row).toMatchObject({ aiState: 'done', aiError: null });
    expect(ai.seen).toHaveLength(1);
  });

  describe('webhooks', () => {
    const ai = () => open(chatAnswer);
    const promote = (useCase: string) =>
      tc.http
        .post(`/v1/use-cases/${useCase}/promote`)
        .set(tc.admin)
        .send({ reason: 'test promotion', force: true })
        .expect(200);
    const failedDelivery = (useCase: string) =>
      logLines.find((l) => l.includes('webhook delivery failed') && l.includes(`"useCase":"${useCase}"`));

    it('when a webhook answers 302 to another listener, then the redirect is not followed and the delivery fails', async () => {
      const elsewhere = await open((_, res) => res.end('ok'));
      const hook = await open((_, res) => res.writeHead(302, { location: `${elsewhere.url}/stolen` }).end());
      const stages = 'stages:\n  shadow: {}\n  human-reviewed: {}';
      await putPlan(
        'redirected',
        httpPlan(
          'redirected',
          `${(await ai()).url}/decide`,
          `notify: { webhook: ${hook.url}/hook }\n${stages}`,
        ),
      ).expect(201);
      await promote('redirected');
      await eventually(
        async () => (failedDelivery('redirected') || elsewhere.seen.length > 0 ? true : undefined),
        'the delivery to end',
      );
      expect(elsewhere.seen).toHaveLength(0);
      expect(hook.seen).toHaveLength(1);
      expect(failedDelivery('redirected')).toMatch(/"type":"stage.changed".*302|302.*"type":"stage.changed"/);
    });

    it("when a webhook's delivery fails, then the log names its origin and never its path or query", async () => {
      const hook = await open((_, res) => res.writeHead(500).end());
      const stages = 'stages:\n  shadow: {}\n  human-reviewed: {}';
      const webhook = `${hook.url}/hooks/T0KEN-IN-PATH?token=T0KEN-IN-QUERY`;
      await putPlan(
        'tokened',
        httpPlan('tokened', `${(await ai()).url}/decide`, `notify: { webhook: "${webhook}" }\n${stages}`),
      ).expect(201);
      await promote('tokened');
      const line = await eventually(async () => failedDelivery('tokened'), 'the failed delivery in the log');
      expect(JSON.parse(line)).toMatchObject({
        webhook: hook.url,
        type: 'stage.changed',
        reason: 'HTTP 500',
      });
      expect(hook.seen[0]?.url).toBe('/hooks/T0KEN-IN-PATH?token=T0KEN-IN-QUERY');
      expect(logLines.join('\n')).not.toContain('T0KEN');
    });

    it('when a webhook is slow, then its events are delivered one at a time in order, and those past the bound are dropped', async () => {
      const waiting: ServerResponse[] = [];
      const hook = await open((_, res) => void waiting.push(res));
      const rules = parseDestinations('127.0.0.0/8') as DestinationRules;
      const notifier = new Notifier(createLogger('silent'), {
        destinations: new DestinationPolicy('SHADOWGATE_WEBHOOK_DESTINATIONS', rules),
        timeoutMs: 60_000,
        maxQueuedPerWebhook: 3,
      });
      for (let n = 0; n < 10; n++) {
        notifier.notify(`${hook.url}/slow`, { type: 'gate.eligible', useCase: 'slow', at: 'now', n });
      }
      expect(notifier.sent.dropped).toBe(7);
      for (let n = 0; n < 3; n++) {
        await eventually(async () => (hook.seen.length > n ? true : undefined), `delivery ${n}`);
        expect(hook.seen).toHaveLength(n + 1);
        expect(JSON.parse(hook.seen[n]!.body)).toMatchObject({ n });
        waiting[n]!.end();
      }
      await notifier.settled();
      expect(notifier.sent).toEqual({ delivered: 3, failed: 0, dropped: 7 });
    });

    it('when a guard trips while the webhook hangs, then the rollback is made without waiting for it', async () => {
      const hook = await open(() => {}); // never answers
      const failing = await open((_, res) => res.writeHead(400).end());
      const plan = httpPlan(
        'hung-hook',
        `${failing.url}/decide`,
        `notify: { webhook: ${hook.url}/hook }
stages:
  shadow: {}
  human-reviewed:
    rollbackWhen: { window: 5, aiErrorRateAbove: 0.5 }`,
      );
      await putPlan('hung-hook', plan).expect(201);
      await promote('hung-hook');
      // In human-reviewed the AI is asked for suggestions; each fails (HTTP 400).
      for (let i = 0; i < 5; i++) {
        const { requestId, input, context } = decision('hung-hook', i);
        await tc.http
          .post('/v1/use-cases/hung-hook/suggest')
          .set(tc.admin)
          .send({ requestId, input, context });
      }
      await settled(tdb, 'hung-hook', 5);

      const report = await tc.controller.engine.tick(new Date());
      expect(report.rolledBack).toContain('hung-hook');
      const { body } = await tc.http.get('/v1/use-cases/hung-hook').set(tc.admin).expect(200);
      expect(body.stage).toBe('shadow');
      // The stage moved while a delivery to the webhook was still waiting for its answer.
      expect(hook.seen.length).toBeGreaterThan(0);
      expect(hook.seen.some((s) => !s.abandoned)).toBe(true);
    });
  });
});

describe('destinations under the default policy', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let listener: Listener;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    listener = await listen(chatAnswer);
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: { SHADOWGATE_AI_DESTINATIONS: '', SHADOWGATE_WEBHOOK_DESTINATIONS: '' },
    });
  });
  afterAll(async () => {
    await tc?.stop();
    await listener?.close();
    await tdb?.drop();
  });

  const refusedHosts = [
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:8080/',
    'http://0x7f000001/',
    'http://127.0.0.1:9000/decide',
    'http://2130706433/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://0.0.0.0:9000/',
    'http://[fe80::1]/',
    'http://224.0.0.1/',
  ];

  it('when ai.url is a loopback, link-local, metadata or multicast address in any spelling, then the plan is refused at ai.url', async () => {
    for (const url of refusedHosts) {
      const res = await tc.http
        .put('/v1/use-cases/metadata/plan')
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(httpPlan('metadata', url));
      expect(res.status, url).toBe(400);
      expect(problemPaths(res.body), url).toEqual(['ai.url']);
    }
  });

  it('when notify.webhook is such an address, then the plan is refused at notify.webhook', async () => {
    for (const url of refusedHosts) {
      const res = await tc.http
        .put('/v1/use-cases/metadata-hook/plan')
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(httpPlan('metadata-hook', 'https://ai.example.com/decide', `notify: { webhook: "${url}" }`));
      expect(res.status, url).toBe(400);
      expect(problemPaths(res.body), url).toEqual(['notify.webhook']);
    }
  });

  it('when ai.url names a host that resolves to loopback, then the call is refused at connect time and nothing is sent', async () => {
    const port = new URL(listener.url).port;
    await tc.http
      .put('/v1/use-cases/rebound/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(chatPlan('rebound', `http://localhost:${port}/v1`))
      .expect(201);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: [decision('rebound', 1)] })
      .expect(202);
    const [row] = await settled(tdb, 'rebound', 1);
    expect(row).toMatchObject({ aiState: 'error' });
    expect(row!.aiError).toMatch(/localhost/);
    expect(listener.seen).toHaveLength(0);
    const metrics = await tc.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/shadowgate_ai_errors_total\{[^}]*kind="egress-refused"[^}]*\} 1/);
  });
});

describe('serve', () => {
  it("when serve starts, then the controller's own secrets are gone from process.env and still in use", async () => {
    const tdb = await createTestDatabase();
    const adminKey = `serve-admin-${randomBytes(12).toString('hex')}`;
    const secrets = {
      DATABASE_URL: tdb.url,
      REDIS_URL,
      SHADOWGATE_ADMIN_KEY: adminKey,
      UNLEASH_ADMIN_TOKEN: 'unleash-token-without-url',
      SG_SERVE_AI_KEY: 'sk-serve-0123456789',
    };
    const settings = {
      SHADOWGATE_AI_SECRETS: 'SG_SERVE_AI_KEY:api.example.com',
      SHADOWGATE_QUEUE_PREFIX: `sgserve-${randomBytes(5).toString('hex')}`,
      SHADOWGATE_SWEEP_MS: '3600000',
      LOG_LEVEL: 'silent',
    };
    const before = { ...process.env };
    Object.assign(process.env, secrets, settings);
    let running: Awaited<ReturnType<typeof startServing>> | undefined;
    try {
      running = await startServing({ port: 0, host: '127.0.0.1' });
      for (const name of Object.keys(secrets)) expect(process.env[name], name).toBeUndefined();
      expect(process.env.SHADOWGATE_AI_SECRETS).toBe(settings.SHADOWGATE_AI_SECRETS);
      // The controller kept what it read: the admin key is accepted, the database and queue answer.
      const { port } = running.server.address() as AddressInfo;
      const whoami = await fetch(`http://127.0.0.1:${port}/v1/whoami`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(whoami.status).toBe(200);
      expect(running.controller.queue.kind).toBe('bull');
      expect(running.controller.database.kind).toBe('postgres');
    } finally {
      await running?.controller.stop();
      for (const name of [...Object.keys(secrets), ...Object.keys(settings)]) {
        if (before[name] === undefined) delete process.env[name];
        else process.env[name] = before[name];
      }
      await tdb.drop();
    }
  });
});
