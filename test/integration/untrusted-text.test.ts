import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSimOptions } from '../../scripts/demo/demo-ai-system.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { markdownShape } from '../support/markdown-shape.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Text a product owner, a release manager and an ingest client may legitimately send (line
 * breaks, tabs, pipes, angle brackets, Markdown) is stored as sent and shown escaped; the
 * control characters a reviewer's name may carry are dropped.
 */

const USE_CASE = 'hostile-text';
const LABELS = ['approve', 'reject', 'escalate'];
const DESCRIPTION = [
  'Routes invoices.',
  '',
  '## Current gate',
  '',
  'From **shadow** to **limited-autonomous**: **eligible**',
  '',
  '| criterion | required | actual | status |',
  '| --- | --- | --- | --- |',
  '| agreementLowerBound | 0.9 | 0.99 | holds |',
  '<script>alert(1)</script>',
].join('\n');
const SEGMENT_VALUE = 'EU | eligible | 100.00% |\n## Current gate\n[x](javascript:alert(1))';
const REASON = 'CAB ok | eligible |\n\n## Current gate\n\t<script>alert(1)</script>';

/** The description as a YAML block scalar, indented under its key. */
const yamlDescription = `description: |\n${DESCRIPTION.split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}`;

describe('untrusted text through the API and the evidence report', () => {
  let tdb: TestDatabase;
  let sim: SimulatedAiSystem;
  let tc: TestController;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem(demoSimOptions({ agreement: 1, errorRate: 0, latencyMs: 2 }, LABELS));
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const plan = labelPlan(USE_CASE, `${sim.url}/decide`, '  human-reviewed: {}\n').replace(
      'description: test use case',
      yamlDescription,
    );
    await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(plan).expect(201);
    const decisions = Array.from({ length: 6 }, (_, i) => ({
      useCase: USE_CASE,
      requestId: `r-${i}`,
      input: { amount: 100 + i },
      context: { region: i % 2 === 0 ? SEGMENT_VALUE : 'APAC', riskTier: '<b>low</b>' },
      human: { decision: 'approve', decidedBy: `clerk\u001b]52;c;ZWNobw==\u0007\u202e-${i}\r\nnext` },
    }));
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
    await eventually(async () => {
      const body = (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin)).body;
      const shadow = body.metrics.stages[0];
      return shadow?.samples === 6 && shadow.pendingAi === 0 ? true : undefined;
    }, 'every AI call answered');
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  it("when a reviewer's name holds control characters, then the decision is stored with them dropped and line breaks as spaces", async () => {
    const rows = await tdb.database.rows<{ human_decided_by: string }>(
      sql`select human_decided_by from decisions where use_case = ${USE_CASE} and request_id = 'r-1'`,
    );
    expect(rows).toEqual([{ human_decided_by: 'clerk]52;c;ZWNobw==-1 next' }]);
  });

  it('when a reason spans lines and holds a tab, pipes and markup, then the promotion is recorded with the reason as typed', async () => {
    const res = await tc.http
      .post(`/v1/use-cases/${USE_CASE}/promote`)
      .set(tc.admin)
      .send({ reason: REASON, force: true })
      .expect(200);
    expect(res.body.reason).toBe(REASON);
  });

  it('when the report holds that text, then the JSON carries it as sent and the Markdown escapes it: one gate section, every table row with its own cells', async () => {
    const json = await tc.http.get(`/v1/use-cases/${USE_CASE}/report?format=json`).set(tc.admin).expect(200);
    expect(json.body.useCase.description).toBe(`${DESCRIPTION}\n`);
    expect(json.body.transitions.at(-1).reason).toBe(REASON);

    const md = (await tc.http.get(`/v1/use-cases/${USE_CASE}/report`).set(tc.admin).expect(200)).text;
    const lines = md.split('\n');
    expect(lines.filter((l) => /^ {0,3}#/.test(l))).toEqual([
      `# Evidence report: ${USE_CASE}`,
      '## Use case',
      '## Rollout plan',
      '## Human baseline',
      '## Evaluation results',
      '### Stage shadow',
      '#### Evidence (model simulated-v1)',
      '#### Segments (model simulated-v1)',
      '#### Confusion matrix (model simulated-v1)',
      '#### Precision and recall (model simulated-v1)',
      '## Guards',
      '## Drift',
      '## Journey',
      '## Transitions',
      '## Changes held for approval',
      '## Costs',
      '## Current gate',
      '## Champion and challenger',
      '### Earlier challengers',
      '## Open risks',
    ]);
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<b>');
    expect(md).toContain('- Description: Routes invoices.  ## Current gate  From \\*\\*shadow\\*\\*');
    expect(md).toContain(
      '| region | EU \\| eligible \\| 100.00% \\| ## Current gate \\[x\\](javascript:alert(1)) |',
    );

    // Every table keeps the cells of its header row.
    const shape = markdownShape(md);
    shape.forEach((line, i) => {
      if (line.kind !== 'table row' || shape[i - 1]?.kind !== 'table row') return;
      expect(line.inline['|'], lines[i]).toBe(shape[i - 1]!.inline['|']);
    });
  });
});
