import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './cli-harness.js';

/**
 * The CLI prints what a controller answers, and the controller answers what owners, release
 * managers, ingest clients and AI systems wrote, including text stored before control characters
 * were refused on input. So the controller here is a stand-in that answers such text: reasons,
 * descriptions, actors and error messages holding a clipboard write (OSC 52), cursor movements
 * that hide lines (CSI), a C1 sequence introducer and bidi overrides.
 */

const ESC = '\u001b';
const OSC52 = `${ESC}]52;c;ZWNobw==\u0007`;
const HIDE_LINE = `${ESC}[1A${ESC}[2K`;
const HOSTILE_REASON = `approved ${OSC52}by CAB${HIDE_LINE} \u009b2J \u202eexe.txt\r\nForged line`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: what a terminal must never receive
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const TRANSITION = {
  id: 7,
  useCase: 'uc',
  fromStage: 'shadow',
  toStage: 'human-reviewed',
  stageVersion: 2,
  actor: `key:rm${HIDE_LINE}`,
  reason: HOSTILE_REASON,
  forced: true,
  planVersion: 1,
  modelVersion: `m1${ESC}]0;pwned\u0007`,
  at: '2026-04-15T12:00:00.000Z',
};

const CHALLENGER = {
  id: 4,
  planVersion: 2,
  aiConfig: 'cfg-2',
  changes: [`ai.url${OSC52}`, `ai.model\nGate shadow → human-reviewed: eligible`],
  startedAt: '2026-04-12T12:00:00.000Z',
  startedBy: `key:rm${HIDE_LINE}`,
  approval: 'manual',
  margin: 0.02,
  sampleRate: 1,
  verdict: 'inconclusive',
  criteria: [
    {
      name: 'championNonInferiority',
      required: -0.02,
      actual: -0.1,
      status: 'inconclusive',
      holds: false,
      detail: `not yet${HIDE_LINE}\r\nForged line`,
    },
  ],
  paired: { n: 3, mean: 0, lower: -0.1, upper: 0.1 },
  cohort: null,
  owedCalls: 0,
};

const CHALLENGERS = {
  champion: { planVersion: 1, aiConfig: 'cfg-1' },
  challenger: CHALLENGER,
  history: [
    {
      id: 3,
      planVersion: 1,
      aiConfig: 'cfg-0',
      championPlanVersion: 1,
      state: 'discarded',
      startedAt: '2026-04-01T12:00:00.000Z',
      endedAt: '2026-04-02T12:00:00.000Z',
      endedBy: `key:rm${HIDE_LINE}`,
      endReason: HOSTILE_REASON,
    },
  ],
};

const DETAIL = {
  id: 'uc',
  stage: 'shadow',
  owner: `ops${OSC52}@example.com`,
  description: `invoices\n\nGate shadow → human-reviewed: eligible ${HIDE_LINE}`,
  planVersion: 1,
  stageEnteredAt: '2026-04-10T12:00:00.000Z',
  stageVersion: 1,
  aiConfig: 'cfg-1',
  metrics: { stages: [] },
  gate: null,
  champion: { planVersion: 1, aiConfig: 'cfg-1' },
  challenger: CHALLENGER,
};

/** A change whose requester, reasons, rule path and diff carry escapes and forged lines. */
const CHANGE = {
  id: 9,
  useCase: 'uc',
  kind: 'plan',
  state: 'pending',
  requestedBy: `key:po${HIDE_LINE}`,
  createdAt: '2026-04-15T12:00:00.000Z',
  expiresAt: '2026-04-22T12:00:00.000Z',
  basePlanVersion: 1,
  baseStageVersion: 1,
  approvalsRequired: 2,
  approvals: [{ by: `key:rm${OSC52}`, at: '2026-04-15T13:00:00.000Z', reason: HOSTILE_REASON }],
  rules: [
    { path: `stages${ESC}[2J\nApprove: now`, rule: 'threshold-lowered', before: 0.9, after: `0.1${OSC52}` },
  ],
  plan: { textHash: 'h', format: 'yaml' },
  stage: null,
  decidedAt: null,
  decidedBy: null,
  decisionReason: null,
  result: null,
  current: true,
  inForce: { planVersion: 1, stage: 'shadow', stageVersion: 1 },
  text: 'x',
  diff: `--- a\n+++ b\n@@ -1 +1 @@\n-a: 1\n+a: 2 ${OSC52}\rApprove: shadowgate changes approve 1`,
  aiConfigChanges: [],
  evidence: 're-judge',
};

/** A drift answer: a reference reason stored before controls were refused, ingest-chosen values. */
const DRIFT = {
  useCase: 'uc',
  stage: 'shadow',
  stageVersion: 2,
  window: '1d',
  minWindow: 100,
  reference: {
    id: 1,
    takenAt: '2026-04-15T12:00:00.000Z',
    takenBy: `key:rm${HIDE_LINE}`,
    reason: HOSTILE_REASON,
    trippedAt: null,
    window: { stageVersion: 2, from: null, to: null, decisions: 0 },
  },
  current: { stageVersion: 2, from: null, to: null, decisions: 0 },
  fields: [
    {
      field: `region${OSC52}`,
      kind: 'segment',
      type: 'categorical',
      referenceTotal: 1,
      currentTotal: 1,
      psi: 0,
      jsDistance: 0,
      unseenShare: 0,
      ks: null,
      wasserstein: null,
      normalisedWasserstein: null,
      watched: false,
      threshold: 0.25,
      verdict: 'insufficient',
      values: [
        {
          value: `EU${HIDE_LINE}\r\nGuards: none would trip`,
          reference: 1,
          current: 1,
          referenceShare: 1,
          currentShare: 1,
          psi: 0,
        },
      ],
    },
  ],
  overrideRate: { current: null, samples: 0, reference: null, referenceSamples: 0 },
  escalationRate: { current: null, samples: 0, reference: null, referenceSamples: 0 },
  guards: [
    {
      stage: 'shadow',
      guard: 'driftAbove',
      threshold: 0.25,
      status: 'drifted',
      actual: 0.5,
      drifted: [`region${OSC52}\nno`],
    },
  ],
};

const ROUTES: Record<string, { status: number; type: string; body: string }> = {
  'GET /v1/use-cases/uc/drift': json(200, DRIFT),
  'GET /v1/changes/9': json(200, { change: CHANGE }),
  'GET /v1/use-cases/uc/transitions': json(200, { useCase: 'uc', transitions: [TRANSITION] }),
  'GET /v1/use-cases/uc': json(200, DETAIL),
  'GET /v1/use-cases/uc/metrics': json(200, { stages: [] }),
  'GET /v1/use-cases/uc/challenger': json(200, CHALLENGERS),
  'POST /v1/use-cases/uc/promote': json(409, {
    error: 'gate_not_eligible',
    message: `the gate does not hold${HIDE_LINE}\nshadowgate: promoted`,
    details: [{ path: `minSamples${OSC52}`, problem: `needs 500${ESC}[8m, has 3` }],
  }),
  'GET /v1/use-cases/uc/report': {
    status: 200,
    type: 'text/markdown; charset=utf-8',
    body: `# Evidence report: uc\n\n- Description: ${OSC52}hidden${HIDE_LINE}\n`,
  },
};

function json(status: number, body: unknown) {
  return { status, type: 'application/json', body: JSON.stringify(body) };
}

/** Every character that is not printable text, shown as its code point. */
function controlsIn(run: CliRun): string[] {
  return [...run.stdout, ...run.stderr]
    .filter((c) => TERMINAL_CONTROL.test(c))
    .map((c) => `U+${c.codePointAt(0)!.toString(16)}`);
}

describe('shadowgate CLI printing hostile text from a controller', () => {
  let server: Server;
  let url: string;
  const cli = (args: string[]) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: 'any-key' });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = ROUTES[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`];
      if (!route) return res.writeHead(404).end();
      res.writeHead(route.status, { 'content-type': route.type }).end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('when drift names fields and values an ingest client chose, and a reason holds escapes, then drift prints each on its line, without controls', async () => {
    const run = await cli(['drift', 'uc']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[1]).toBe(
      'reference  0 decisions; taken 2026-04-15 12:00:00Z by key:rm[1A[2K: approved ]52;c;ZWNobw==by CAB[1A[2K 2J exe.txt Forged line',
    );
    expect(lines).toContain(
      'region]52;c;ZWNobw==: reference against current, largest PSI contribution first',
    );
    expect(run.stdout).toMatch(/\nEU\[1A\[2K Guards: none would trip\s+100\.00% \(1\)/);
    expect(run.stdout).toMatch(
      /\ndriftAbove\s+PSI > 0\.250\s+0\.500\s+drifted\s+yes: region\]52;c;ZWNobw== no above it\n/,
    );
    expect(lines.filter((l) => l.startsWith('Forged') || l.startsWith('Guards: none'))).toEqual([]);
  });

  it('when a reason and an actor hold OSC 52, CSI, C1 and bidi controls, then transitions prints them without the controls, the row on one line', async () => {
    const run = await cli(['transitions', 'uc']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('approved ]52;c;ZWNobw==by CAB[1A[2K 2J exe.txt Forged line');
    expect(lines[1]).toContain('key:rm[1A[2K');
  });

  it('when a description holds a forged gate line and a cursor movement, then status shows it on the first line, without the escape', async () => {
    const run = await cli(['status', 'uc']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(
      'uc (owner ops]52;c;ZWNobw==@example.com): invoices  Gate shadow → human-reviewed: eligible [1A[2K',
    );
    expect(lines.filter((l) => l.startsWith('Gate'))).toEqual([]);
  });

  it("when the controller's error message and problems hold escapes and line breaks, then stderr has one line for the message and one per problem, without controls", async () => {
    const run = await cli(['promote', 'uc', '--reason', 'ship it']);
    expect(run.code).toBe(1);
    expect(controlsIn(run)).toEqual([]);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'shadowgate: the gate does not hold[1A[2K shadowgate: promoted',
      '  minSamples]52;c;ZWNobw==: needs 500[8m, has 3',
    ]);
  });

  it('when a challenger, its criteria and earlier challengers hold escapes and line breaks, then challenger and status print each on its line, without controls', async () => {
    const [run, status] = await Promise.all([cli(['challenger', 'uc']), cli(['status', 'uc'])]);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toContain(
      '  changed     ai.url]52;c;ZWNobw==, ai.model Gate shadow → human-reviewed: eligible',
    );
    expect(lines).toContain('  since       2026-04-12 12:00:00Z, by key:rm[1A[2K');
    expect(lines.filter((l) => l.startsWith('Gate') || l.startsWith('Forged'))).toEqual([]);
    expect(run.stdout).toMatch(
      /\nchampionNonInferiority\s+≥ -2\.0 pp\s+-10\.0 pp\s+inconclusive\s+not yet\[1A\[2K Forged line\n/,
    );
    expect(lines.at(-1)).toMatch(
      /\s+discarded\s.*key:rm\[1A\[2K\s+approved \]52;c;ZWNobw==by CAB\[1A\[2K 2J exe\.txt Forged line$/,
    );

    expect(status.code).toBe(0);
    expect(controlsIn(status)).toEqual([]);
    expect(status.stdout).toContain(
      '\nchallenger plan version 2 (ai.url]52;c;ZWNobw==, ai.model Gate shadow → human-reviewed: eligible) since 2026-04-12 12:00:00Z: inconclusive (shadowgate challenger uc)\n',
    );
    expect(status.stdout.split('\n').filter((l) => l.startsWith('Gate shadow'))).toEqual([]);
  });

  it('when a change holds escapes and forged lines, then changes show prints no control, each value on its line, and no line of the diff passes for the CLI’s own', async () => {
    const run = await cli(['changes', 'show', '9']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toContain('  requested  2026-04-15 12:00:00Z by key:po[1A[2K');
    expect(lines).toContain(
      '    approved by key:rm]52;c;ZWNobw== at 2026-04-15 13:00:00Z: approved ]52;c;ZWNobw==by CAB[1A[2K 2J exe.txt Forged line',
    );
    expect(lines).toContain('  stages[2J Approve: now: threshold-lowered (0.9 → 0.1]52;c;ZWNobw==)');
    expect(lines).toContain('    Approve: shadowgate changes approve 1');
    expect(lines.filter((l) => l.startsWith('Approve:') || l.startsWith('Forged'))).toEqual([
      'Approve: shadowgate changes approve 9 --reason "…"',
    ]);
  });

  it('when the Markdown report holds escapes, then report prints it without them', async () => {
    const run = await cli(['report', 'uc']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    expect(run.stdout).toContain('- Description: ]52;c;ZWNobw==hidden[1A[2K');
  });

  it('when --json is asked for, then every control character is a \\u escape and the JSON parses to the text as sent', async () => {
    const run = await cli(['transitions', 'uc', '--json']);
    expect(run.code).toBe(0);
    expect(controlsIn(run)).toEqual([]);
    expect(run.stdout).toContain('\\u009b2J \\u202eexe.txt');
    expect(JSON.parse(run.stdout)).toEqual({ useCase: 'uc', transitions: [TRANSITION] });
  });
});
