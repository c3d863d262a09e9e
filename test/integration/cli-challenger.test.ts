import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
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
import { runCli } from './cli-harness.js';

/**
 * Champion and challenger from the command line (README "CLI"): a use case in human-reviewed gets
 * a plan version with another AI url, so that configuration is judged as a challenger beside the
 * champion. A few decisions give both an answer on the same requests; `challenger` shows the
 * verdict and its evidence, `promote --challenger` is refused like a gate (exit 1) until forced,
 * `discard` returns to the champion's configuration.
 */

const LABELS = ['approve', 'reject', 'escalate'];
const USE_CASE = 'cli-chal';
const DECISIONS = 8;

function plan(aiUrl: string): string {
  return `useCase: ${USE_CASE}
owner: ops@example.com
decision: { type: label, labels: [approve, reject, escalate] }
comparator: { type: exact }
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  pricing: { perCall: 0.0001 }
humanCostPerDecision: 1.8
stages:
  shadow:
    promoteWhen: { minSamples: 5 }
  human-reviewed:
    promoteWhen: { minSamples: 1000 }
  limited-autonomous:
    auditRate: 1
challenger: { approval: manual, margin: 0.02 }
`;
}

interface View {
  champion: { planVersion: number; aiConfig: string };
  challenger: {
    planVersion: number;
    aiConfig: string;
    verdict: string;
    owedCalls: number;
    paired: { n: number } | null;
    cohort: { samples: number } | null;
  } | null;
  history: Array<{ state: string; planVersion: number; endedBy: string | null; endReason: string | null }>;
}

describe('shadowgate challenger, promote --challenger and discard against a running controller', () => {
  let tdb: TestDatabase;
  let champion: SimulatedAiSystem;
  let challenger: SimulatedAiSystem;
  let tc: TestController;
  let url: string;
  let dir: string;
  const cli = (args: string[]) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: ADMIN_KEY });
  const view = async () =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/challenger`).set(tc.admin).expect(200)).body as View;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    champion = await startSimulatedAiSystem({ agreement: 1, latencyMs: 1, modelVersion: 'champion-1' });
    challenger = await startSimulatedAiSystem({ agreement: 1, latencyMs: 1, modelVersion: 'challenger-1' });
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const server = await tc.controller.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'shadowgate-cli-challenger-'));
    await writeFile(join(dir, 'champion.yaml'), plan(`${champion.url}/decide`));
    await writeFile(join(dir, 'challenger.yaml'), plan(`${challenger.url}/decide`));

    // human-reviewed (forced), then the challenger's url as plan version 2.
    await tc.http
      .put(`/v1/use-cases/${USE_CASE}/plan`)
      .set(tc.admin)
      .send(plan(`${champion.url}/decide`))
      .expect(201);
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/promote`)
      .set(tc.admin)
      .send({ reason: 'test set-up', force: true })
      .expect(200);
    const applied = await tc.http
      .put(`/v1/use-cases/${USE_CASE}/plan`)
      .set(tc.admin)
      .send(plan(`${challenger.url}/decide`))
      .expect(200);
    expect(applied.body.challenger?.action).toBe('challenger.started');

    // Suggestions (the champion answers), each decided by a person as the AI answered.
    for (let k = 0; k < DECISIONS; k++) {
      const invoice = makeInvoice(k);
      await tc.http
        .post(`/v1/use-cases/${USE_CASE}/suggest`)
        .set(tc.admin)
        .send({ requestId: invoice.requestId, input: invoice.input, context: invoice.context })
        .expect(200);
      await tc.http
        .post(`/v1/decisions/${USE_CASE}/${invoice.requestId}/human`)
        .set(tc.admin)
        .send({ decision: referenceLabel(invoice.input, LABELS) })
        .expect(200);
    }
    // The tick scores and folds the pairs; a read shows what the last fold left.
    await eventually(async () => {
      await tc.controller.engine.tick(new Date());
      const c = (await view()).challenger;
      return c?.owedCalls === 0 && c.cohort?.samples === DECISIONS && c.paired?.n === DECISIONS
        ? true
        : undefined;
    }, 'every challenger call made and paired with the champion');
  });
  afterAll(async () => {
    await tc?.stop();
    await Promise.all([champion?.close(), challenger?.close()]);
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when a challenger is judged, then challenger shows both configurations, the verdict, criteria, paired comparison and cohort; --json is the API answer; status has its line; promote --challenger exits 1 like a gate', async () => {
    const [text, json, status, refused, stageRefused, diff] = await Promise.all([
      cli(['challenger', USE_CASE]),
      cli(['challenger', USE_CASE, '--json']),
      cli(['status', USE_CASE]),
      cli(['promote', USE_CASE, '--challenger', '--reason', 'looks fine']),
      cli(['promote', USE_CASE, '--reason', 'not yet']),
      cli(['plan', 'diff', join(dir, 'champion.yaml')]),
    ]);
    const api = await view();
    const championConfig = api.champion.aiConfig;
    const challengerConfig = api.challenger!.aiConfig;
    expect(championConfig).not.toBe(challengerConfig);

    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${USE_CASE}: champion plan version 1, AI configuration ${championConfig}`);
    expect(lines[1]).toBe(`challenger plan version 2, AI configuration ${challengerConfig}`);
    expect(lines).toContain('  changed     ai.url');
    expect(text.stdout).toMatch(/\n {2}since {7}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, by bootstrap-admin\n/);
    expect(lines).toContain('  approval    manual, margin 2.00%, sample rate 100.00% of live requests');
    expect(lines).toContain('  verdict     inconclusive');
    expect(lines).toContain('  owed calls  0');
    expect(text.stdout).toMatch(/\nCRITERION\s+REQUIRED\s+ACTUAL\s+STATUS\s+DETAIL\n/);
    // shadow's gate on the challenger's own cohort, then non-inferiority against the champion.
    expect(text.stdout).toMatch(/\nshadow\.minSamples\s+≥ 5\s+8\s+holds\n/);
    expect(text.stdout).toMatch(
      /\nchampionNonInferiority\s+≥ -2\.0 pp\s+[-+]?\d+\.\d pp\s+inconclusive\s+not yet shown within 0\.02 of the champion\n/,
    );
    // Both answer as the people decided: every pair agrees on both sides.
    expect(text.stdout).toMatch(
      /\nPaired with the champion \(challenger − champion agreement on the same requests\): 8 pairs, mean 0\.0 pp, bounds -\d+\.\d pp to \+?\d+\.\d pp; the lower bound must reach -2\.0 pp\n/,
    );
    expect(text.stdout).toMatch(
      /\nMODEL\s+SAMPLES\s+AGREEMENT\s+WILSON 95%\s+AI ERRORS\s+AI P50\s+AI P95\s+AI COST\/DECISION\s+COST\/DECISION\nchallenger-1\s+8\s+100\.00%\s+\d+\.\d\d%\s+0\.00%\s+\d+ms\s+\d+ms\s+\$0\.0001\s+\$1\.80\n/,
    );
    expect(lines.at(-1)).toBe('No earlier challengers.');

    expect(json.code).toBe(0);
    const printed = JSON.parse(json.stdout) as View;
    expect(printed).toMatchObject({
      champion: api.champion,
      challenger: {
        planVersion: 2,
        aiConfig: challengerConfig,
        changes: ['ai.url'],
        verdict: 'inconclusive',
        paired: { n: DECISIONS, mean: 0 },
        cohort: { samples: DECISIONS, agreement: 1, modelVersion: 'challenger-1' },
        owedCalls: 0,
      },
      history: [],
    });
    expect(Object.keys(printed.challenger!).sort()).toEqual(Object.keys(api.challenger!).sort());

    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      `plan version 2, AI configuration ${championConfig} (the champion's, plan version 1)`,
    );
    expect(status.stdout).toMatch(
      new RegExp(
        `\\nchallenger plan version 2 \\(ai\\.url\\) since \\S+ \\S+: inconclusive \\(shadowgate challenger ${USE_CASE}\\)\\n`,
      ),
    );

    // The same exit code as a stage promotion whose gate does not hold, the failing criteria listed.
    expect(stageRefused.code).toBe(1);
    expect(stageRefused.stderr).toContain('minSamples: inconclusive: required 1000, actual 8');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      'shadowgate: the challenger is inconclusive; promote it with force and a reason to override',
    );
    expect(refused.stderr).toMatch(
      /\n {2}championNonInferiority: inconclusive: required -0\.02, actual -[\d.]+ \(not yet shown within 0\.02 of the champion\)\n/,
    );
    expect(refused.stderr).not.toContain('shadow.minSamples');

    // The champion's plan again would discard the challenger, not restart any evidence.
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(
      `The AI configuration returns to the champion's (${championConfig}): the challenger of plan version 2 is discarded.`,
    );
    expect((await view()).challenger?.planVersion).toBe(2);
  });

  it('when the challenger is discarded, then the champion plan version is applied again, challenger shows none and the history, and a second discard exits 5', async () => {
    const before = await view();
    const discarded = await cli(['discard', USE_CASE, '--reason', 'not this quarter']);
    expect(discarded.stderr).toBe('');
    expect(discarded.code).toBe(0);
    expect(discarded.stdout).toBe(
      `${USE_CASE}: challenger (plan version 2) discarded; plan version 3 applies the champion's AI configuration ${before.champion.aiConfig}\n`,
    );

    const [shown, again, promote, status, noReason] = await Promise.all([
      cli(['challenger', USE_CASE]),
      cli(['discard', USE_CASE, '--reason', 'once more']),
      cli(['promote', USE_CASE, '--challenger', '--reason', 'which one?']),
      cli(['status', USE_CASE]),
      cli(['discard', USE_CASE]),
    ]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("shadowgate: required option '--reason <text>' not specified");
    expect(shown.code).toBe(0);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      `${USE_CASE}: champion plan version 3, AI configuration ${before.champion.aiConfig}`,
      'no challenger',
    ]);
    expect(lines).toContain('Earlier challengers (newest first):');
    expect(lines.at(-2)).toMatch(/^ID\s+PLAN\s+STATE\s+STARTED\s+ENDED\s+BY\s+REASON$/);
    expect(lines.at(-1)).toMatch(
      /^\s*\d+\s+2\s+discarded\s+\S+ \S+\s+\S+ \S+\s+bootstrap-admin\s+not this quarter$/,
    );
    expect([again.code, promote.code]).toEqual([5, 5]);
    expect(again.stderr).toBe(`shadowgate: use case ${USE_CASE} has no challenger (HTTP 409)\n`);
    expect(status.code).toBe(0);
    expect(status.stdout).not.toContain('challenger plan version');
  });

  it('when plan diff and plan apply meet a use case in human-reviewed, then they say the new configuration is judged as a challenger; forced in, it is champion and the history has both', async () => {
    const file = join(dir, 'challenger.yaml');
    const diff = await cli(['plan', 'diff', file, '--json']);
    expect(diff.code).toBe(1);
    expect(JSON.parse(diff.stdout)).toMatchObject({
      challenger: 'starts',
      aiConfig: { evidenceRestarts: false },
    });
    const applied = await cli(['plan', 'apply', file]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toBe(
      `${file}: ${USE_CASE} updated to plan version 4 (stage human-reviewed); its AI configuration (ai.url) is judged as a challenger while the champion keeps answering (shadowgate challenger ${USE_CASE})\n`,
    );
    const active = await view();
    expect(active.challenger).toMatchObject({ planVersion: 4, verdict: 'inconclusive' });

    const forced = await cli(['promote', USE_CASE, '--challenger', '--force', '--reason', 'pilot agreed']);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(
      `${USE_CASE}: challenger (plan version 4) promoted; the champion is now plan version 4, AI configuration ${active.challenger!.aiConfig}\n`,
    );
    const json = await cli(['challenger', USE_CASE, '--json']);
    const after = JSON.parse(json.stdout) as View;
    expect(after.challenger).toBeNull();
    expect(after.champion).toEqual({ planVersion: 4, aiConfig: active.challenger!.aiConfig });
    expect(after.history.map((h) => [h.planVersion, h.state, h.endedBy, h.endReason])).toEqual([
      [4, 'promoted', 'bootstrap-admin', 'pilot agreed'],
      [2, 'discarded', 'bootstrap-admin', 'not this quarter'],
    ]);
    const detail = (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin).expect(200)).body;
    expect(detail).toMatchObject({ stage: 'human-reviewed', challenger: null });
  });
});
