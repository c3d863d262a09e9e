import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../support/change-approval.js';
import {
  ADMIN_KEY,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { runCli } from './cli-harness.js';

/**
 * Change control from the command line (README "Change control", "CLI"): a product owner's plan
 * that lowers a threshold is held (exit 7) until a release key approves it; under the plan's
 * `changeControl` a promotion waits for a second release key, never its requester's; disable is
 * never held; `changes list|show|approve|reject` and `status` show what waits and who approved.
 */

const USE_CASE = 'cli-cc';
/** Nothing listens there: no decision is sent, the AI is never called. */
const AI_URL = 'http://127.0.0.1:9/decide';
const HUMAN_REVIEWED = '  human-reviewed: { approval: manual }\n';
const V1 = labelPlan(USE_CASE, AI_URL, HUMAN_REVIEWED);
const LOWERED = V1.replace('agreementLowerBound: 0.9', 'agreementLowerBound: 0.8');
const FOUR_EYES = `${LOWERED}changeControl: { approvals: 1 }\n`;

describe('shadowgate changes, and the commands change control holds back, against a running controller', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let url: string;
  let dir: string;
  const keys = { owner: '', bob: '', eve: '', viewer: '' };
  const as = (key: string) => (args: string[]) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: key });
  const file = (name: string) => join(dir, name);
  const bare = (auth: { Authorization: string }) => auth.Authorization.replace('Bearer ', '');
  const api = async (path: string) => (await tc.http.get(path).set(tc.admin).expect(200)).body;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const server = await tc.controller.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    keys.owner = bare(await createKey(tc, 'po-anna', 'owner'));
    keys.bob = bare(await createKey(tc, 'rm-bob', 'release'));
    keys.eve = bare(await createKey(tc, 'rm-eve', 'release'));
    keys.viewer = bare(await createKey(tc, 'auditor', 'viewer'));
    dir = await mkdtemp(join(tmpdir(), 'shadowgate-cli-changes-'));
    await writeFile(file('v1.yaml'), V1);
    await writeFile(file('lowered.yaml'), LOWERED);
    await writeFile(file('four-eyes.yaml'), FOUR_EYES);
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when an owner lowers a threshold, then plan apply exits 7 with the held change, why, its approvals and the command; list, show and status present it; a release key approves it and it applies once; only the key that asked may withdraw another', async () => {
    const owner = as(keys.owner);
    expect((await owner(['plan', 'apply', file('v1.yaml')])).code).toBe(0);

    const held = await owner(['plan', 'apply', file('lowered.yaml')]);
    expect(held.code, held.stderr).toBe(7);
    const [change] = (await api(`/v1/changes?useCase=${USE_CASE}`)).changes;
    const id = change.id as number;
    expect(held.stdout.split('\n').slice(0, 4)).toEqual([
      `${file('lowered.yaml')}: ${USE_CASE}: held for approval as change ${id}; nothing is applied until it is approved`,
      '  why: stages.shadow.promoteWhen.agreementLowerBound: threshold-lowered (0.9 → 0.8)',
      expect.stringMatching(
        /^ {2}approvals: 0 of 1; 1 more release key \(never key:po-anna, who asked\) must approve before \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
      ),
      `  approve: shadowgate changes approve ${id} --reason "…"   (details: shadowgate changes show ${id})`,
    ]);
    expect((await api(`/v1/use-cases/${USE_CASE}`)).planVersion).toBe(1);
    const json = await owner(['plan', 'apply', file('lowered.yaml'), '--json']);
    expect(json.code).toBe(7);
    // The same text again answers the same change: nothing stacks.
    expect(JSON.parse(json.stdout)).toMatchObject({ applied: [], pending: [{ id, state: 'pending' }] });

    const viewer = as(keys.viewer);
    const [list, applied, show, showJson, status, overview] = await Promise.all([
      viewer(['changes', 'list', '--use-case', USE_CASE]),
      viewer(['changes', 'list', '--state', 'applied']),
      viewer(['changes', 'show', String(id)]),
      viewer(['changes', 'show', String(id), '--json']),
      viewer(['status', USE_CASE]),
      viewer(['status']),
    ]);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID\s+USE CASE\s+KIND\s+STATE\s+REQUESTED BY\s+APPROVALS\s+EXPIRES\s+WHY HELD$/);
    expect(rows.slice(1).map((r) => r.trim().split(/\s{2,}/))).toEqual([
      [
        String(id),
        USE_CASE,
        'plan',
        'pending',
        'key:po-anna',
        '0/1',
        expect.stringMatching(/^\d{4}-/),
        'threshold-lowered stages.shadow.promoteWhen.agreementLowerBound',
      ],
    ]);
    expect(applied.stdout.trim()).toBe('no changes');

    expect(show.code).toBe(0);
    const text = show.stdout;
    expect(text).toContain(`change ${id}: plan of ${USE_CASE}, pending\n`);
    expect(text).toMatch(/\n {2}requested\s+\S+ \S+ by key:po-anna\n/);
    expect(text).toContain('  base       plan version 1, stage version 1 (still in force)\n');
    expect(text).toContain('  approvals  0 of 1\n');
    expect(text).toContain(
      'Why it is held:\n  stages.shadow.promoteWhen.agreementLowerBound: threshold-lowered (0.9 → 0.8)\n',
    );
    expect(text).toContain(
      'What it does to the evidence: re-judge: the same AI configuration; the evidence is kept and judged under the new thresholds\n',
    );
    expect(text).toContain('    -    promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }\n');
    expect(text).toContain('    +    promoteWhen: { minSamples: 500, agreementLowerBound: 0.8 }\n');
    expect(text.trimEnd().split('\n').at(-1)).toBe(`Approve: shadowgate changes approve ${id} --reason "…"`);
    expect(JSON.parse(showJson.stdout)).toEqual(await api(`/v1/changes/${id}`));

    expect(status.stdout).toContain(
      `\nPending changes (1; shadowgate changes show ID):\n  change ${id}: plan by key:po-anna, approvals 0/1, expires `,
    );
    expect(overview.stdout).toContain(
      `\n${USE_CASE}: 1 change pending approval (shadowgate changes list --use-case ${USE_CASE})`,
    );

    // The owner may not approve (no release role); the release key does, once.
    const refused = await owner(['changes', 'approve', String(id), '--reason', 'my own plan']);
    expect(refused.code).toBe(3);
    const approved = await as(keys.bob)(['changes', 'approve', String(id), '--reason', 'CAB 12 agreed']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim()).toBe(
      `change ${id} of ${USE_CASE} approved by key:rm-bob and applied: plan version 2`,
    );
    const again = await as(keys.eve)(['changes', 'approve', String(id), '--reason', 'me too']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain(`change ${id} is applied, no longer pending (HTTP 409)`);
    const after = await viewer(['changes', 'show', String(id)]);
    expect(after.stdout).toContain(`change ${id}: plan of ${USE_CASE}, applied\n`);
    expect(after.stdout).toContain('    approved by key:rm-bob at ');
    expect(after.stdout).toMatch(/\n {2}result\s+plan version 2\n/);
    expect(after.stdout).not.toContain('Approve:');
    expect(await api(`/v1/use-cases/${USE_CASE}/plan`)).toMatchObject({
      version: 2,
      appliedBy: 'key:po-anna',
      approvedBy: ['key:rm-bob'],
    });

    // A lower bar still: only the owner that asked may take it back.
    await writeFile(
      file('lower-still.yaml'),
      LOWERED.replace('agreementLowerBound: 0.8', 'agreementLowerBound: 0.7'),
    );
    const second = await owner(['plan', 'apply', file('lower-still.yaml'), '--json']);
    expect(second.code).toBe(7);
    const secondId = String(JSON.parse(second.stdout).pending[0].id);
    const notMine = await as(ADMIN_KEY)(['changes', 'withdraw', secondId, '--reason', 'not mine to take']);
    expect(notMine.code).toBe(3);
    expect(notMine.stderr).toContain('only that key may withdraw it');
    const withdrawn = await owner(['changes', 'withdraw', secondId, '--reason', 'sent the wrong file']);
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect(withdrawn.stdout.trim()).toBe(`change ${secondId} of ${USE_CASE} withdrawn by key:po-anna`);
    expect((await api(`/v1/changes/${secondId}`)).change).toMatchObject({
      state: 'rejected',
      decidedBy: 'key:po-anna',
    });
  }, 300_000); // some twenty CLI processes, each loading TypeScript: minutes on a loaded 2-core machine

  it('when the plan asks for four eyes, then promote exits 7, its requester cannot approve it, another release key does and the transition names both; disable is immediate; a rejected enable cannot be approved', async () => {
    expect((await as(keys.owner)(['plan', 'apply', file('four-eyes.yaml')])).code).toBe(0);
    const bob = as(keys.bob);
    const eve = as(keys.eve);

    const held = await bob(['promote', USE_CASE, '--force', '--reason', 'pilot agreed with AP ops']);
    expect(held.code, held.stderr).toBe(7);
    const id = Number(held.stdout.match(/held for approval as change (\d+)/)![1]);
    expect(held.stdout).toContain(`${USE_CASE}: promote: held for approval as change ${id}`);
    expect(held.stdout).toContain('\n  why: changeControl asks for 1 approval\n');
    expect((await api(`/v1/use-cases/${USE_CASE}`)).stage).toBe('shadow');

    const self = await bob(['changes', 'approve', String(id), '--reason', 'trust me']);
    expect(self.code).toBe(3);
    expect(self.stderr).toContain('another key must approve it (HTTP 403)');
    const approved = await eve(['changes', 'approve', String(id), '--reason', 'second pair of eyes']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim()).toBe(
      `change ${id} of ${USE_CASE} approved by key:rm-eve and applied: shadow → human-reviewed (stage version 2)`,
    );

    const [transitions, status] = await Promise.all([
      eve(['transitions', USE_CASE]),
      eve(['status', USE_CASE]),
    ]);
    const rows = transitions.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^AT\s+FROM\s+TO\s+ACTOR\s+APPROVED BY\s+FORCED\s+PLAN\s+MODEL\s+REASON$/);
    expect(
      rows
        .at(-1)!
        .replace(/^\S+ \S+\s+/, '')
        .split(/\s{2,}/),
    ).toEqual([
      'shadow',
      'human-reviewed',
      'key:rm-bob',
      'key:rm-eve',
      'yes',
      '3',
      '—',
      'pilot agreed with AP ops',
    ]);
    expect(status.stdout).toContain(
      `\nLatest stage changes, who asked and who approved (shadowgate transitions ${USE_CASE} for all):\n`,
    );
    expect(status.stdout).toMatch(/key:rm-bob\s+key:rm-eve\s+yes/);
    expect(status.stdout).not.toContain('Pending changes');

    // The kill switch is never held back; undoing it is.
    const off = await bob(['disable', USE_CASE, '--reason', 'incident 7']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain(`${USE_CASE}: human-reviewed → disabled`);
    const on = await bob(['enable', USE_CASE, '--reason', 'incident 7 resolved', '--json']);
    expect(on.code).toBe(7);
    const enable = JSON.parse(on.stdout) as { pending: true; change: { id: number; kind: string } };
    expect(enable).toMatchObject({ pending: true, change: { kind: 'enable' } });
    const rejected = await eve([
      'changes',
      'reject',
      String(enable.change.id),
      '--reason',
      'not before the review',
    ]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout.trim()).toBe(`change ${enable.change.id} of ${USE_CASE} rejected by key:rm-eve`);
    const late = await eve(['changes', 'approve', String(enable.change.id), '--reason', 'changed my mind']);
    expect(late.code).toBe(5);
    const list = await eve(['changes', 'list', '--state', 'rejected']);
    expect(list.stdout).toMatch(
      new RegExp(`\\n\\s*${enable.change.id}\\s+${USE_CASE}\\s+enable\\s+rejected\\s+key:rm-bob\\s+0/1`),
    );
    expect((await api(`/v1/use-cases/${USE_CASE}`)).stage).toBe('disabled');
  });

  it('when a change id is not a number or unknown, or a limit is out of range, then usage (2) or not found (4) before anything else', async () => {
    const cli = as(ADMIN_KEY);
    const [word, unknown, limit] = await Promise.all([
      cli(['changes', 'show', 'abc']),
      cli(['changes', 'show', '987654']),
      cli(['changes', 'list', '--limit', '500']),
    ]);
    expect(word.code).toBe(2);
    expect(word.stderr).toContain('invalid change id "abc"');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('unknown change 987654 (HTTP 404)');
    expect(limit.code).toBe(2);
  });
});
