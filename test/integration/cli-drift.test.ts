import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import { ADMIN_KEY, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { runCli } from './cli-harness.js';

/**
 * `shadowgate drift USE_CASE` against a running controller (README "CLI", "Drift"): a use case in
 * shadow gets a reference from a release key, then traffic whose region mix moved, with a region
 * value an ingest client chose to hold terminal escapes (OSC 52, a bidi override, a bell). The
 * command prints both windows, each field's measures and values, the rates and whether the region
 * guard would trip; after the tick trips it, that it does not trip again. No AI is called
 * (`sampleRate: 0`): the human labels and the context are what is measured.
 */

const USE_CASE = 'cli-drift';
/** What a hostile ingest client sends as a region: a clipboard write, a bell, a bidi override. */
const HOSTILE = '\u001b]52;c;ZXZpbA==\u0007evil\u202e|x';

const PLAN = `useCase: ${USE_CASE}
owner: ops@example.com
decision: { type: label, labels: [approve, reject, escalate] }
comparator: { type: exact }
ai:
  adapter: http
  url: http://127.0.0.1:9/decide
  timeoutMs: 2000
humanCostPerDecision: 1.8
segments: [region]
drift: { window: 1d, minWindow: 100, numeric: [amount] }
stages:
  shadow:
    sampleRate: 0
    promoteWhen: { minSamples: 1000 }
    rollbackWhen: { driftAbove: { psi: 0.25, fields: [region] }, action: notify }
`;

interface DriftBody {
  stage: string;
  reference: { takenBy: string; trippedAt: string | null; window: { decisions: number } };
  current: { decisions: number };
  fields: Array<{
    field: string;
    type: string;
    psi: number | null;
    jsDistance: number | null;
    unseenShare: number | null;
    ks: number | null;
    normalisedWasserstein: number | null;
    threshold: number;
    verdict: string;
    referenceTotal: number;
    currentTotal: number;
    values: Array<{ value: string }>;
  }>;
  guards: Array<{ guard: string; status: string; actual: number | null; drifted?: string[] }>;
}

/** Decisions k in [from, from + n): the region of each picked by `region(k)`, an amount per request. */
function batch(from: number, n: number, region: (k: number) => string) {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return {
      useCase: USE_CASE,
      requestId: `${USE_CASE}-${k}`,
      input: makeInvoice(k).input,
      context: { region: region(k), amount: 10 + (k % 50) * 20 },
      human: { decision: k % 10 === 0 ? 'reject' : 'approve' },
    };
  });
}

/** 60/30/10 north, south, east. */
const BEFORE = (k: number) => (k % 10 < 6 ? 'north' : k % 10 < 9 ? 'south' : 'east');
/** 10/30/50 north, south, east, and a tenth the hostile value. */
const AFTER = (k: number) => (k % 10 < 1 ? 'north' : k % 10 < 4 ? 'south' : k % 10 < 9 ? 'east' : HOSTILE);

describe('shadowgate drift against a running controller', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let url: string;
  const cli = (args: string[], key = ADMIN_KEY) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: key });
  const drift = async (): Promise<DriftBody> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/drift`).set(tc.admin).expect(200)).body;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const server = await tc.controller.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(PLAN).expect(201);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: batch(0, 200, BEFORE) })
      .expect(202);
    // Shadow is the first stage: a release key sets its reference.
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/drift/baseline`)
      .set(tc.admin)
      .send({ reason: 'the traffic the gate judged' })
      .expect(200);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: batch(200, 200, AFTER) })
      .expect(202);
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when the region mix moved, then drift prints both windows, each field with its measures and values, the rates and a region guard that would trip; --json is the API answer; nothing an ingest client sent reaches the terminal raw', async () => {
    const [text, json] = await Promise.all([cli(['drift', USE_CASE]), cli(['drift', USE_CASE, '--json'])]);
    const api = await drift();
    expect(api.reference.window.decisions).toBe(200);
    expect(api.current.decisions).toBe(400);
    const region = api.fields.find((f) => f.field === 'region')!;
    const amount = api.fields.find((f) => f.field === 'amount')!;
    expect(region.psi!).toBeGreaterThan(0.25);
    expect(api.guards).toMatchObject([{ guard: 'driftAbove', status: 'drifted', drifted: ['region'] }]);

    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `${USE_CASE}: drift in shadow (stage version 1), window 1d; a guard judges from 100 observations`,
    );
    expect(lines[1]).toMatch(
      /^reference {2}200 decisions, \S+ \S+ to \S+ \S+; taken \S+ \S+ by bootstrap-admin: the traffic the gate judged$/,
    );
    expect(lines[2]).toMatch(/^current {4}400 decisions, \S+ \S+ to \S+ \S+$/);
    expect(lines[3]).toBe('no guard has tripped against this reference');
    expect(text.stdout).toMatch(
      /\nFIELD\s+TYPE\s+REFERENCE\s+CURRENT\s+PSI\s+JS\s+UNSEEN\s+KS\s+W\/IQR\s+VERDICT\n/,
    );
    const row = (f: DriftBody['fields'][number]) => {
      const n = (x: number | null) => (x === null ? '—' : x.toFixed(3));
      const share = f.unseenShare === null ? '—' : `${(f.unseenShare * 100).toFixed(2)}%`;
      return new RegExp(
        `\\n${f.field}\\s+${f.type}\\s+${f.referenceTotal}\\s+${f.currentTotal}\\s+${n(f.psi)}\\s+${n(f.jsDistance)}\\s+${share}\\s+${n(f.ks)}\\s+${n(f.normalisedWasserstein)}\\s+${f.verdict === 'drifted' ? `drifted \\(PSI > ${n(f.threshold)}\\)` : f.verdict}\\n`,
      );
    };
    expect(text.stdout).toMatch(row(region));
    expect(text.stdout).toMatch(row(amount));
    // The hostile value was new to the window: part of its unseen share, a tenth of what it sent.
    expect(region.unseenShare).toBeCloseTo(20 / 400, 6);
    expect(amount.ks).not.toBeNull();
    expect(text.stdout).toContain('\nregion: reference against current, largest PSI contribution first\n');
    expect(text.stdout).toMatch(/\neast\s+10\.00% \(20\)\s+30\.00% \(120\)\s+\d\.\d{3}\n/);
    expect(text.stdout).toMatch(/\namount: reference against current per bucket; Wasserstein \d+\.\d{3}\n/);
    expect(text.stdout).toMatch(
      /\nRATE\s+CURRENT\s+OF\s+REFERENCE\s+OF\noverride\s+—\s+0\s+—\s+0\nescalation\s+—\s+0\s+—\s+0\n/,
    );
    expect(text.stdout).toContain('\nGuards (rollbackWhen of shadow):\n');
    expect(text.stdout).toMatch(
      new RegExp(
        `\\ndriftAbove\\s+PSI > 0\\.250\\s+${region.psi!.toFixed(3)}\\s+drifted\\s+yes: region above it\\n`,
      ),
    );

    // The value is shown, without what would act on the terminal, on its own row.
    expect(text.stdout).toMatch(/\n\]52;c;ZXZpbA==evil\|x\s+0\.00% \(0\)\s+5\.00% \(20\)\s+\d\.\d{3}\n/);
    for (const output of [text.stdout, json.stdout]) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: what a terminal must never receive
      expect(output).not.toMatch(/[\u001b\u0007\u202e]/);
    }

    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(json.stdout).toContain('\\u001b]52;c;ZXZpbA==\\u0007evil\\u202e|x');
    const printed = JSON.parse(json.stdout) as DriftBody;
    expect(printed).toEqual(api);
    expect(printed.fields.find((f) => f.field === 'region')!.values.map((v) => v.value)).toContain(HOSTILE);
  });

  it('when the tick trips the guard, then drift says it tripped against this reference and would not trip again', async () => {
    const report = await tc.controller.engine.tick(new Date());
    expect(report.guardTrips).toContain(USE_CASE);
    const api = await drift();
    expect(api.stage).toBe('shadow');
    expect(api.reference.trippedAt).not.toBeNull();

    const text = await cli(['drift', USE_CASE]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[3]).toMatch(
      /^a guard tripped against this reference at \S+ \S+: none trips again until a re-baseline or a new stage visit$/,
    );
    expect(text.stdout).toMatch(
      /\ndriftAbove\s+PSI > 0\.250\s+\d\.\d{3}\s+drifted\s+no: tripped already against this reference: region above it\n/,
    );
  });

  it('when the use case is unknown, the key is missing or a viewer is out of scope, then drift exits 4, 2 and 3', async () => {
    const scoped = (
      await tc.http
        .post('/v1/keys')
        .set(tc.admin)
        .send({ name: 'other-viewer', role: 'viewer', useCases: ['another'] })
        .expect(201)
    ).body as { key: string };
    const [unknown, noKey, outOfScope] = await Promise.all([
      cli(['drift', 'no-such-use-case']),
      runCli(['drift', USE_CASE], { SHADOWGATE_URL: url }),
      cli(['drift', USE_CASE], scoped.key),
    ]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe('shadowgate: unknown use case no-such-use-case (HTTP 404)\n');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('no API key');
    expect(outOfScope.code).toBe(3);
    expect(outOfScope.stdout).toBe('');
  });
});
