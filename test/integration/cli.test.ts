import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import {
  ADMIN_KEY,
  eventually,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { percent } from '../../src/format/figures.js';
import { runCli } from './cli-harness.js';

const LABELS = ['approve', 'reject', 'escalate'];

/** Wilson statistics (`fixed`) so the lower bound is hand-computable; no segments, two stages. */
function triagePlan(aiUrl: string, threshold = '0.8'): string {
  return `useCase: cli-triage
owner: ops@example.com
description: invoices, routed
statistics: fixed
decision:
  type: label
  labels: [approve, reject, escalate]
comparator: { type: exact }
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  pricing: { perCall: 0.0001, inputPerMTok: 0.15, outputPerMTok: 0.6 }
humanCostPerDecision: 1.8
stages:
  shadow:
    promoteWhen: { minSamples: 500, agreementLowerBound: ${threshold} }
  human-reviewed:
    promoteWhen: { minSamples: 1000 }
`;
}

/**
 * A label use case whose bar always answering the most common label clears; `recall` adds a
 * per-label criterion (which judges the rare labels, so the gate no longer warns).
 */
function labelsPlan(aiUrl: string, options: { priced?: boolean; recall?: boolean } = {}): string {
  return `useCase: cli-labels
owner: ops@example.com
decision: { type: label, labels: [approve, reject, escalate] }
ai: { adapter: http, url: ${aiUrl}, timeoutMs: 2000 }
${options.priced ? 'errorCosts: { approve: { reject: 450, escalate: 40 } }\n' : ''}stages:
  shadow:
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.5${options.recall ? ', labelRecallLowerBound: { reject: 0.7 }' : ''} }
  human-reviewed: {}
`;
}

function chatPlan(aiUrl: string, model = 'sim-model-1'): string {
  return `useCase: cli-chat
owner: ops@example.com
decision: { type: label, labels: [approve, reject, escalate] }
ai:
  adapter: openai-chat
  url: ${aiUrl}
  model: ${model}
  prompt: "Route this invoice: {{input}}"
stages:
  shadow:
    promoteWhen: { minSamples: 100 }
  human-reviewed: {}
`;
}

describe('shadowgate CLI against a running controller', () => {
  let tdb: TestDatabase;
  let sim: SimulatedAiSystem;
  let tc: TestController;
  let dir: string;
  let url: string;
  /** A port nothing listens on (it was free a moment ago). */
  let closedPort: number;
  const cli = (args: string[], key = ADMIN_KEY) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: key });
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 2, inputTokens: 300, outputTokens: 20 });
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const server = await tc.controller.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    dir = await mkdtemp(join(tmpdir(), 'shadowgate-cli-'));
    await writeFile(file('triage.yaml'), triagePlan(`${sim.url}/decide`));
    await writeFile(file('chat.yaml'), chatPlan(`${sim.url}/v1/chat/completions`));
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when plans are applied and decisions compared, then status shows stage, samples, agreement, bound, gate and cost', async () => {
    const applied = await cli(['plan', 'apply', file('triage.yaml'), file('chat.yaml')]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('use case cli-triage created in shadow (plan version 1)');
    expect(applied.stdout).toContain('use case cli-chat created in shadow (plan version 1)');

    // Six decisions; the simulated AI answers the reference label, the humans agree on four.
    const decisions = Array.from({ length: 6 }, (_, k) => {
      const invoice = makeInvoice(k);
      const reference = referenceLabel(invoice.input, LABELS);
      const other = LABELS[(LABELS.indexOf(reference) + 1) % LABELS.length]!;
      return {
        useCase: 'cli-triage',
        requestId: `cli-${k}`,
        input: invoice.input,
        context: invoice.context,
        human: { decision: k < 4 ? reference : other },
      };
    });
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
    await eventually(async () => {
      const body = (await tc.http.get('/v1/use-cases/cli-triage').set(tc.admin)).body;
      return body.metrics.stages[0]?.samples === 6 ? true : undefined;
    }, 'six comparisons');

    const [all, one, json] = await Promise.all([
      cli(['status']),
      cli(['status', 'cli-triage']),
      cli(['status', '--json']),
    ]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^USE CASE\s+STAGE\s+SAMPLES\s+AGREEMENT\s+LOWER BOUND\s+GATE\s+HELD BACK BY\s+COST\/DECISION$/,
    );
    // 4 of 6 agree; Wilson 95% lower bound of 4/6 is 0.29999; cost 1.8 (human) + 0.0001 + 300 × 0.15e-6 + 20 × 0.6e-6.
    expect(lines[1]).toMatch(/^cli-chat\s+shadow\s+0\s+—\s+—\s+inconclusive\s+minSamples 0 \(≥ 100\)\s+—$/);
    expect(lines[2]).toMatch(
      /^cli-triage\s+shadow\s+6\s+66\.67%\s+30\.00%\s+inconclusive\s+minSamples 6 \(≥ 500\), agreementLowerBound 30\.00% \(≥ 80\.00%\)\s+\$1\.80$/,
    );

    expect(one.code).toBe(0);
    expect(one.stdout).toContain('cli-triage (owner ops@example.com): invoices, routed');
    expect(one.stdout).toContain(
      'Gate shadow → human-reviewed: inconclusive (approval manual; agreement bounds fixed at 95.0%)',
    );
    expect(one.stdout).toMatch(/\nminSamples\s+≥ 500\s+6\s+inconclusive/);
    expect(one.stdout).toMatch(/\nagreementLowerBound\s+≥ 80\.00%\s+30\.00%\s+66\.67% of 6\s+inconclusive/);

    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { useCases: Array<{ id: string; stage: string }> };
    expect(parsed.useCases.map((u) => [u.id, u.stage])).toEqual([
      ['cli-chat', 'shadow'],
      ['cli-triage', 'shadow'],
    ]);
  });

  it('when plan diff compares edited plans, then a threshold keeps the evidence, a model restarts it, and exit codes say whether anything changes', async () => {
    await writeFile(file('triage-stricter.yaml'), triagePlan(`${sim.url}/decide`, '0.85'));
    await writeFile(file('chat-new-model.yaml'), chatPlan(`${sim.url}/v1/chat/completions`, 'sim-model-2'));
    await writeFile(file('new.yaml'), triagePlan(`${sim.url}/decide`).replace('cli-triage', 'cli-new'));
    const [threshold, model, same, created, json] = await Promise.all([
      cli(['plan', 'diff', file('triage-stricter.yaml')]),
      cli(['plan', 'diff', file('chat-new-model.yaml')]),
      cli(['plan', 'diff', file('triage.yaml')]),
      cli(['plan', 'diff', file('new.yaml')]),
      cli(['plan', 'diff', file('chat-new-model.yaml'), '--json']),
    ]);

    expect(threshold.code).toBe(1);
    expect(threshold.stdout).toContain('--- cli-triage plan version 1 (applied by bootstrap-admin)');
    expect(threshold.stdout).toContain(`+++ ${file('triage-stricter.yaml')}`);
    expect(threshold.stdout).toContain(
      [
        '@@ -14,6 +14,6 @@',
        ' humanCostPerDecision: 1.8',
        ' stages:',
        '   shadow:',
        '-    promoteWhen: { minSamples: 500, agreementLowerBound: 0.8 }',
        '+    promoteWhen: { minSamples: 500, agreementLowerBound: 0.85 }',
        '   human-reviewed:',
        '     promoteWhen: { minSamples: 1000 }',
      ].join('\n'),
    );
    expect(threshold.stdout).toContain('makes plan version 2 of cli-triage');
    expect(threshold.stdout).toContain('the evidence is kept');

    expect(model.code).toBe(1);
    expect(model.stdout).toContain('-  model: sim-model-1\n+  model: sim-model-2');
    expect(model.stdout).toContain('the evidence restarts');

    expect(same.code).toBe(0);
    expect(same.stdout).toContain('cli-triage: no change');

    expect(created.code).toBe(1);
    expect(created.stdout).toContain('cli-new does not exist yet');
    expect(created.stdout).toContain('@@ -0,0 +1,19 @@');

    const diff = JSON.parse(json.stdout) as { changed: boolean; aiConfig: { evidenceRestarts: boolean } };
    expect(diff.changed).toBe(true);
    expect(diff.aiConfig.evidenceRestarts).toBe(true);

    // What plan diff reads: the applied text, any version of it, and a clear 404 or 400 otherwise.
    const v1 = await tc.http.get('/v1/use-cases/cli-chat/plan?version=1').set(tc.admin).expect(200);
    expect(v1.body).toMatchObject({
      useCase: 'cli-chat',
      version: 1,
      current: true,
      text: chatPlan(`${sim.url}/v1/chat/completions`),
      format: 'yaml',
      appliedBy: 'bootstrap-admin',
    });
    const missing = await tc.http.get('/v1/use-cases/cli-chat/plan?version=9').set(tc.admin).expect(404);
    expect(missing.body.message).toBe('use case cli-chat has no plan version 9 (the latest is 1)');
    await tc.http.get('/v1/use-cases/cli-chat/plan?version=first').set(tc.admin).expect(400);
  });

  it('when a bar the majority label clears is validated against the controller, applied and shown, then each says so in a warning line until a per-label criterion judges the rare labels', async () => {
    const aiUrl = `${sim.url}/decide`;
    await writeFile(file('labels.yaml'), labelsPlan(aiUrl));
    await writeFile(file('labels-priced.yaml'), labelsPlan(aiUrl, { priced: true }));
    await writeFile(file('labels-recall.yaml'), labelsPlan(aiUrl, { priced: true, recall: true }));
    const created = await cli(['plan', 'apply', file('labels.yaml')]);
    // Nothing measured yet: nothing to compare the bar with.
    expect(created.stdout).toBe(
      `${file('labels.yaml')}: use case cli-labels created in shadow (plan version 1)\n`,
    );

    // The simulated AI answers the reference label; the people agree on 16 of 20.
    const decisions = Array.from({ length: 20 }, (_, k) => {
      const invoice = makeInvoice(100 + k);
      const reference = referenceLabel(invoice.input, LABELS);
      const other = LABELS[(LABELS.indexOf(reference) + 1) % LABELS.length]!;
      return {
        useCase: 'cli-labels',
        requestId: `labels-${k}`,
        input: invoice.input,
        context: invoice.context,
        human: { decision: k < 16 ? reference : other },
      };
    });
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
    await eventually(async () => {
      const body = (await tc.http.get('/v1/use-cases/cli-labels').set(tc.admin)).body;
      return body.metrics.stages[0]?.samples === 20 ? true : undefined;
    }, 'twenty comparisons');
    const detail = (await tc.http.get('/v1/use-cases/cli-labels').set(tc.admin)).body as {
      gate: { majorityBaseline: { label: string; agreement: number }; warnings: Array<{ message: string }> };
    };
    const people = new Map<string, number>();
    for (const d of decisions) people.set(d.human.decision, (people.get(d.human.decision) ?? 0) + 1);
    const [label, most] = [...people].sort((a, b) => b[1] - a[1])[0]!;
    expect(detail.gate.majorityBaseline).toEqual({ label, agreement: most / 20 });
    expect(most / 20).toBeGreaterThanOrEqual(0.5);
    expect(detail.gate.warnings).toHaveLength(1);
    const message = detail.gate.warnings[0]!.message;
    expect(message).toContain(`always answers "${label}"`);

    const [offline, checked, checkedJson, unknownUrl] = await Promise.all([
      // The controller in the environment alone leaves validate offline.
      cli(['plan', 'validate', file('labels.yaml')]),
      runCli([
        '--url',
        url,
        '--key',
        ADMIN_KEY,
        'plan',
        'validate',
        file('labels.yaml'),
        file('labels-recall.yaml'),
      ]),
      runCli(['--url', url, '--key', ADMIN_KEY, 'plan', 'validate', '--json', file('labels.yaml')]),
      runCli([
        '--url',
        `http://127.0.0.1:${closedPort}`,
        '--key',
        ADMIN_KEY,
        'plan',
        'validate',
        file('labels.yaml'),
      ]),
    ]);
    expect(offline).toMatchObject({ code: 0, stderr: '' });
    expect(offline.stdout).toBe(`${file('labels.yaml')}: ok (use case cli-labels)\n`);
    expect(checked.code).toBe(0);
    expect(checked.stdout.split('\n')).toEqual([
      `${file('labels.yaml')}: ok (use case cli-labels)`,
      `${file('labels-recall.yaml')}: ok (use case cli-labels)`,
      `warning: ${file('labels.yaml')}: ${message}`,
      '',
    ]);
    expect(JSON.parse(checkedJson.stdout)).toMatchObject({
      valid: true,
      warnings: [{ file: file('labels.yaml'), useCase: 'cli-labels', code: 'majority-baseline', message }],
    });
    // A controller that cannot be asked leaves a note; the plan is still valid.
    expect(unknownUrl.code).toBe(0);
    expect(unknownUrl.stdout).toBe(`${file('labels.yaml')}: ok (use case cli-labels)\n`);
    expect(unknownUrl.stderr).toBe(
      `shadowgate: note: the gate's warnings were not checked on the controller: cannot reach the controller at http://127.0.0.1:${closedPort}: connection refused\n`,
    );

    const priced = await cli(['plan', 'apply', file('labels-priced.yaml')]);
    expect(priced.code).toBe(0);
    expect(priced.stdout.split('\n')).toEqual([
      `${file('labels-priced.yaml')}: cli-labels updated to plan version 2 (stage shadow)`,
      `warning: cli-labels: ${message}`,
      '',
    ]);
    const [all, one] = await Promise.all([cli(['status']), cli(['status', 'cli-labels'])]);
    expect(all.stdout).toContain(`\nwarning: cli-labels: ${message}\n`);
    expect(one.stdout).toContain(`\nwarning: ${message}\n`);
    expect(one.stdout).toMatch(/\n {2}error cost +\$\d+\.\d\d per compared decision, upper bound \$/);
    expect(one.stdout).toContain(
      '  coverage              100.00% of the decisions owed an AI answer have one\n',
    );
    const rejects = decisions.filter((d) => d.human.decision === 'reject').length;
    expect(one.stdout).toMatch(new RegExp(`\\nreject +${rejects} +`));

    const diff = await cli(['plan', 'diff', file('labels-recall.yaml')]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(
      'The criteria that change judge that evidence again: stages.shadow.promoteWhen.labelRecallLowerBound.\n',
    );
    const judged = await cli(['plan', 'apply', file('labels-recall.yaml')]);
    expect(judged.stdout).toBe(
      `${file('labels-recall.yaml')}: cli-labels updated to plan version 3 (stage shadow)\n`,
    );
    const after = await cli(['status', 'cli-labels']);
    expect(after.stdout).not.toContain('warning:');
    expect(after.stdout).toMatch(
      /\nlabelRecallLowerBound:reject +≥ 70\.00% +\d+\.\d\d% +\d+\.\d\d% of \d+ +(blocked|inconclusive)/,
    );
  });

  it('when a promotion is refused, forced, rolled back, disabled and enabled, then exit codes and transitions follow', async () => {
    const refused = await cli(['promote', 'cli-triage', '--reason', 'looks good']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('the gate from shadow to human-reviewed is inconclusive');
    expect(refused.stderr).toContain('  minSamples: inconclusive: required 500, actual 6');
    expect(refused.stderr).toContain('  agreementLowerBound: inconclusive: required 0.8, actual 0.3');

    // The controller's tick judges the gate as the refusal did; the journey keeps what it judged.
    expect((await tc.controller.engine.tick(new Date())).ran).toBe(true);
    const forced = await cli(['promote', 'cli-triage', '--force', '--reason', 'pilot agreed with AP ops']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('cli-triage: shadow → human-reviewed (forced)');
    const back = await cli(['rollback', 'cli-triage', '--reason', 'too early after all']);
    expect(back.stdout).toContain('cli-triage: human-reviewed → shadow');
    const off = await cli(['disable', 'cli-triage', '--reason', 'incident 42']);
    expect(off.stdout).toContain('cli-triage: shadow → disabled');
    const on = await cli(['enable', 'cli-triage', '--reason', 'incident 42 resolved']);
    expect(on.stdout).toContain('cli-triage: disabled → shadow');
    expect([back.code, off.code, on.code]).toEqual([0, 0, 0]);

    const [again, table, json] = await Promise.all([
      cli(['enable', 'cli-triage', '--reason', 'once more']),
      cli(['transitions', 'cli-triage']),
      cli(['transitions', 'cli-triage', '--json']),
    ]);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('use case cli-triage is not disabled (it is in shadow) (HTTP 409)');

    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^AT\s+FROM\s+TO\s+ACTOR\s+APPROVED BY\s+FORCED\s+PLAN\s+MODEL\s+REASON$/);
    expect(rows.slice(1).map((r) => r.replace(/^\S+ \S+\s+/, '').split(/\s{2,}/))).toEqual([
      ['—', 'shadow', 'bootstrap-admin', '—', 'no', '1', '—', 'use case created by its first plan'],
      ['shadow', 'human-reviewed', 'bootstrap-admin', '—', 'yes', '1', 'sim-1', 'pilot agreed with AP ops'],
      ['human-reviewed', 'shadow', 'bootstrap-admin', '—', 'no', '1', '—', 'too early after all'],
      ['shadow', 'disabled', 'bootstrap-admin', '—', 'no', '1', '—', 'incident 42'],
      ['disabled', 'shadow', 'bootstrap-admin', '—', 'no', '1', '—', 'incident 42 resolved'],
    ]);
    const body = JSON.parse(json.stdout) as { transitions: Array<{ toStage: string; forced: boolean }> };
    expect(body.transitions.map((t) => t.toStage)).toEqual([
      'shadow',
      'human-reviewed',
      'shadow',
      'disabled',
      'shadow',
    ]);

    // The journey: a line per visit, the first with what the tick judged it on.
    const [journey, journeyJson] = await Promise.all([
      cli(['journey', 'cli-triage']),
      cli(['journey', 'cli-triage', '--json']),
    ]);
    expect(journey.code).toBe(0);
    const visits = journey.stdout.trimEnd().split('\n');
    expect(visits[0]).toMatch(
      /^STAGE\s+ENTERED\s+FOR\s+BY\s+COMPARED\s+AGREEMENT\s+GATE BOUND\s+VERDICT\s+GUARD WINDOW\s+REASON$/,
    );
    const api = JSON.parse(journeyJson.stdout) as {
      points: Array<{ stageVersion: number; samples: number; lowerBound: number; required: number }>;
    };
    const judged = api.points.find((p) => p.stageVersion === 1)!;
    expect(judged).toMatchObject({ samples: 6, required: 0.8 });
    expect(visits[1]).toContain(`${percent(judged.lowerBound)} vs ≥ 80.00%  inconclusive → human-reviewed`);
    expect(visits.slice(1).map((v) => v.split(/\s{2,}/)[0])).toEqual([
      'shadow',
      'human-reviewed (forced)',
      'shadow',
      'disabled',
      'shadow',
    ]);
  });

  it('when keys are created, listed and revoked, then a scoped viewer reads, may not release, and is refused once revoked', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'ci-viewer',
      '--role',
      'viewer',
      '--use-case',
      'cli-triage',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string; useCases: string[] };
    expect(key).toMatchObject({ role: 'viewer', useCases: ['cli-triage'] });

    const [list, reads, releases, outOfScope] = await Promise.all([
      cli(['keys', 'list']),
      cli(['status', 'cli-triage'], key.key),
      cli(['disable', 'cli-triage', '--reason', 'not mine to do'], key.key),
      cli(['status', 'cli-chat'], key.key),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`\\n${key.id}\\s+ci-viewer\\s+viewer\\s+cli-triage\\s`));
    expect(reads.code).toBe(0);
    expect(releases.code).toBe(3);
    expect(releases.stderr).toContain('a key with role viewer may not release (HTTP 403)');
    expect(outOfScope.code).toBe(3);

    const revoked = await cli(['keys', 'revoke', key.id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`key ${key.id} revoked\n`);
    const [after, twice] = await Promise.all([cli(['status'], key.key), cli(['keys', 'revoke', key.id])]);
    expect(after.code).toBe(3);
    expect(after.stderr).toBe('shadowgate: unknown or revoked API key (HTTP 401)\n');
    expect(twice.code).toBe(4);
  });

  it('when the key is wrong, the use case unknown, the reason missing or the server unreachable, then exit codes 3, 4, 2 and 6', async () => {
    const [wrongKey, unknown, noReason, noKey, unreachable] = await Promise.all([
      cli(['status'], 'not-a-key-of-this-controller'),
      cli(['status', 'no-such-use-case']),
      cli(['promote', 'cli-triage']),
      runCli(['status'], { SHADOWGATE_URL: url }),
      runCli(['status', '--url', `http://127.0.0.1:${closedPort}`, '--key', ADMIN_KEY]),
    ]);
    expect([wrongKey.code, unknown.code, noReason.code, noKey.code]).toEqual([3, 4, 2, 2]);
    expect(unknown.stderr).toBe('shadowgate: unknown use case no-such-use-case (HTTP 404)\n');
    expect(noReason.stderr).toContain("shadowgate: required option '--reason <text>' not specified");
    expect(noKey.stderr).toBe('shadowgate: no API key: pass --key or set SHADOWGATE_KEY\n');
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toBe(
      `shadowgate: cannot reach the controller at http://127.0.0.1:${closedPort}: connection refused\n`,
    );
  });

  it('when a report is asked for, then it prints the Markdown or the JSON of the API, and an unknown use case exits 4', async () => {
    const [unknown, md, json] = await Promise.all([
      cli(['report', 'no-such-use-case']),
      cli(['report', 'cli-triage']),
      cli(['report', 'cli-triage', '--format', 'json']),
    ]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe('shadowgate: unknown use case no-such-use-case (HTTP 404)\n');
    expect(md.code).toBe(0);
    expect(md.stdout.startsWith('# Evidence report: cli-triage\n')).toBe(true);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'shadowgate.evidence-report',
      useCase: { id: 'cli-triage', owner: 'ops@example.com' },
    });
  });
});
