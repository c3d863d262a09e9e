import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import type { EvidenceReport } from '../../src/report/report-types.js';
import { createKey } from '../support/change-approval.js';
import { markdownShape } from '../support/markdown-shape.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Drift in `GET /v1/use-cases/:id` and in the evidence report (README "Drift", "Evidence report"):
 * a use case in shadow gets a reference from a release key whose name and reason hold Markdown,
 * then traffic whose region mix moved. The detail's `drift` says in brief what `GET …/drift`
 * says; the report's Drift section shows the same reading in full and, once the tick trips the
 * guard, the `drift.detected` event. No AI is called (`sampleRate: 0`).
 */

const USE_CASE = 'report-drift';
const REASON = 'CAB 7 | *approved* [x](y) <b>\n## not a heading';

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
drift: { window: 1d, minWindow: 100 }
stages:
  shadow:
    sampleRate: 0
    promoteWhen: { minSamples: 1000 }
    rollbackWhen: { driftAbove: { psi: 0.25, fields: [region] }, action: notify }
`;

function batch(from: number, n: number, region: (k: number) => string) {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return {
      useCase: USE_CASE,
      requestId: `${USE_CASE}-${k}`,
      input: makeInvoice(k).input,
      context: { region: region(k) },
      human: { decision: k % 10 === 0 ? 'reject' : 'approve' },
    };
  });
}

interface Field {
  field: string;
  type: string;
  psi: number | null;
  referenceTotal: number;
  currentTotal: number;
}
interface DriftBody {
  stage: string;
  window: string;
  minWindow: number;
  reference: { takenAt: string; takenBy: string; trippedAt: string | null; window: { decisions: number } };
  current: { decisions: number };
  fields: Field[];
  overrideRate: unknown;
  escalationRate: unknown;
  guards: Array<{ guard: string; status: string }>;
}
interface Summary {
  stage: string;
  reference: { takenAt: string; takenBy: string; trippedAt: string | null; decisions: number };
  current: { decisions: number };
  fields: Array<Field & { watched: boolean; threshold: number; verdict: string }>;
  overrideRate: unknown;
  escalationRate: unknown;
  guards: unknown;
}

describe('drift in the use case detail and the evidence report', () => {
  let tdb: TestDatabase;
  let tc: TestController;

  const detail = async () =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin).expect(200)).body as { drift: Summary };
  const drift = async (): Promise<DriftBody> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/drift`).set(tc.admin).expect(200)).body;
  const reportJson = async (): Promise<EvidenceReport> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/report?format=json`).set(tc.admin).expect(200)).body;
  const reportMarkdown = async (): Promise<string> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/report`).set(tc.admin).expect(200)).text;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const release = await createKey(tc, 'rm | *cab*', 'release');
    await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(PLAN).expect(201);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: batch(0, 200, (k) => (k % 10 < 6 ? 'north' : k % 10 < 9 ? 'south' : 'east')) })
      .expect(202);
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/drift/baseline`)
      .set(release)
      .send({ reason: REASON })
      .expect(200);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: batch(200, 200, (k) => (k % 10 < 1 ? 'north' : k % 10 < 4 ? 'south' : 'east')) })
      .expect(202);
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when the region mix moved, then the detail says in brief what GET …/drift says: per field its PSI and verdict, the rates and the guards', async () => {
    const [{ drift: summary }, full] = await Promise.all([detail(), drift()]);
    expect(summary.stage).toBe(full.stage);
    expect(summary.reference).toEqual({
      takenAt: full.reference.takenAt,
      takenBy: full.reference.takenBy,
      trippedAt: null,
      decisions: 200,
    });
    expect(summary.current).toEqual({ decisions: 400 });
    expect(summary.fields.map(({ watched: _w, threshold: _t, verdict: _v, ...f }) => f)).toEqual(
      full.fields.map((f) => ({
        field: f.field,
        type: f.type,
        psi: f.psi,
        referenceTotal: f.referenceTotal,
        currentTotal: f.currentTotal,
      })),
    );
    const byField = Object.fromEntries(summary.fields.map((f) => [f.field, f]));
    expect(byField.region).toMatchObject({ watched: true, threshold: 0.25, verdict: 'drifted' });
    expect(byField.humanLabel).toMatchObject({ watched: false, threshold: 0.25, verdict: 'stable' });
    // Nothing answered, so nothing to judge: no AI label in either window.
    expect(byField.aiLabel).toMatchObject({ watched: false, verdict: 'insufficient', psi: null });
    expect(summary.overrideRate).toEqual(full.overrideRate);
    expect(summary.escalationRate).toEqual(full.escalationRate);
    expect(summary.guards).toEqual(full.guards);
    expect(JSON.stringify(summary)).not.toContain('values');
  });

  it('when the report is read, then its Drift section shows the reference, per field the measures and verdict, the guards, and the drifting guard is an open risk; the release key and reason stay literal text', async () => {
    const [report, md, full] = await Promise.all([reportJson(), reportMarkdown(), drift()]);
    const d = report.drift!;
    expect(d.reference).toMatchObject({
      takenAt: full.reference.takenAt,
      takenBy: 'key:rm | *cab*',
      reason: REASON,
      trippedAt: null,
      window: { decisions: 200 },
    });
    expect(d.current.decisions).toBe(400);
    const region = d.fields.find((f) => f.field === 'region')!;
    expect(region).toMatchObject({
      type: 'categorical',
      psi: full.fields.find((f) => f.field === 'region')!.psi,
      watched: true,
      verdict: 'drifted',
    });
    expect(region.jsDistance).toBeGreaterThan(0);
    expect(d.guards).toMatchObject([{ guard: 'driftAbove', status: 'drifted', drifted: ['region'] }]);
    expect(d.trips).toEqual({ count: 0, first: null, last: null });
    expect(report.risks.filter((r) => r.kind === 'drift').map((r) => r.message)).toEqual([
      `the driftAbove guard of shadow sees drift now (region): actual ${region.psi!.toFixed(3)} above 0.25; the next tick trips it`,
    ]);

    const section = md.slice(md.indexOf('\n## Drift\n'), md.indexOf('\n## Transitions\n'));
    expect(section).toContain(
      `- Reference: taken ${full.reference.takenAt} by key:rm \\| \\*cab\\* (CAB 7 \\| \\*approved\\* \\[x\\](y) \\<b\\> ## not a heading): 200 decisions from `,
    );
    expect(section).toContain('- No guard has tripped against this reference');
    expect(section).toMatch(
      /\n\| region \| categorical \| 200 \| 400 \| \d\.\d{3} \| \d\.\d{3} \| 0\.00% \| — \| — \| 0\.250 \(guard\) \| \*\*drifted\*\* \|\n/,
    );
    expect(section).toMatch(
      /\n\| driftAbove \| PSI above 0\.250 \| \d\.\d{3} \| \*\*drifted\*\* \| region \|\n/,
    );
    expect(section).toContain('Drift detected 0 time(s) (`drift.detected`).');
    expect(md.split('\n').filter((l) => l.startsWith('## not a heading'))).toEqual([]);
    // The reason opens nothing: the section has the shape a plain reason gives.
    const plain = section.replace(/CAB 7 .*## not a heading/, 'plain');
    expect(markdownShape(section)).toEqual(markdownShape(plain));
  });

  it('when the tick trips the guard, then the report records the trip against the reference and the drift.detected event with the fields above the threshold', async () => {
    expect((await tc.controller.engine.tick(new Date())).guardTrips).toContain(USE_CASE);
    const [report, md] = await Promise.all([reportJson(), reportMarkdown()]);
    const d = report.drift!;
    expect(d.reference.trippedAt).not.toBeNull();
    expect(d.trips.count).toBe(1);
    expect(d.recentTrips).toHaveLength(1);
    expect(d.recentTrips[0]).toMatchObject({
      stageVersion: 1,
      guards: [{ guard: 'driftAbove', threshold: 0.25, status: 'drifted' }],
      fields: [{ field: 'region', referenceTotal: 200, currentTotal: 400 }],
    });
    expect(report.risks.find((r) => r.kind === 'drift')?.message).toMatch(
      /it tripped against this reference at \S+ and does not trip again until a re-baseline$/,
    );
    expect(md).toContain(`- A guard tripped against this reference at ${d.reference.trippedAt}`);
    expect(md).toContain(`Drift detected 1 time(s) (\`drift.detected\`), last at ${d.trips.last}.`);
    expect(md).toMatch(
      new RegExp(
        `\\n- ${d.recentTrips[0]!.at} \\(stage version 1\\): driftAbove 0\\.25 \\(actual \\d\\.\\d{3}\\); region PSI \\d\\.\\d{3}\\n`,
      ),
    );
    expect((await detail()).drift.reference.trippedAt).toBe(d.reference.trippedAt);
  });
});
