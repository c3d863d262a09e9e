import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { DriftBody } from '../../scripts/demo/drift-act.js';
import { launchChromium } from '../support/browser.js';
import { DEMO_COMMAND } from '../support/demo-command.js';

/**
 * `npm run demo -- --drift --keep` end to end, as a child process with a data directory of its
 * own: the region shift trips the human-reviewed drift guard within one window and rolls the use
 * case back, the figures are printed, and the dashboard left running shows the drift view the API
 * answers. Asserts on what the demo says and stores, never on how long it took.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const USE_CASE = 'invoice-triage';
const scratch = mkdtempSync(join(tmpdir(), 'sg-demo-drift-test-'));

let child: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** Matches `text` whatever the line breaks and indentation the demo's narration puts between its words. */
function words(text: string): RegExp {
  return new RegExp(
    text
      .split(/\s+/)
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+'),
  );
}

const numberOf = (text: string) => Number(text.replace(/,/g, ''));

describe('the drift demo', () => {
  // About 1,600 invoices through the example service on PGlite, then a browser on the dashboard it leaves.
  it('with --drift --keep, then stable traffic keeps the guard quiet, the region shift trips it within one window and rolls back, the figures are printed, and the dashboard shows the drift view the API answers', async () => {
    const [node, ...script] = DEMO_COMMAND;
    const proc = spawn(
      node,
      [...script, '--drift', '--keep', '--latency', '4', '--ai-port', '0', '--data-dir', scratch],
      { cwd: ROOT, env: process.env },
    );
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const closed = new Promise<number | null>((done) => proc.on('close', (code) => done(code)));
    // --keep: the demo waits for Ctrl-C once it has printed the dashboard's address.
    const kept = await Promise.race([
      closed.then(() => false),
      (async () => {
        while (!/The dashboard: open \S+ and paste the viewer key \S+/.test(stdout)) {
          await new Promise((r) => setTimeout(r, 200));
        }
        return true;
      })(),
    ]);
    expect(kept, `${stdout}\n${stderr}`).toBe(true);
    expect(stderr, stdout).not.toMatch(/demo failed/);

    // The mixes, said on screen; the phases in order.
    expect(stdout).toMatch(words('EU 60% · US 30% · APAC 10%'));
    expect(stdout).toMatch(
      words('the region mix moves from EU 60% · US 30% · APAC 10% to EU 10% · US 30% · APAC 60%'),
    );
    const at = (text: string) => stdout.indexOf(text);
    const phases = [
      '[phase 1 · shadow]',
      '[phase 2 · stable]',
      '[phase 3 · the mix shifts]',
      '[phase 4 · back in shadow]',
    ].map(at);
    expect(
      phases.every((p) => p >= 0),
      stdout,
    ).toBe(true);
    expect([...phases].sort((a, b) => a - b)).toEqual(phases);
    expect(stdout).toMatch(words('its SDK read human-reviewed from the flag'));
    expect(stdout).toMatch(words('its SDK read shadow from the flag'));

    // Stable traffic: judged (a full window) and quiet at every tick.
    const stable = [...stdout.matchAll(/^\[controller\] +([\d,]+) stable: .* guard (\w+) · tick: (.*)$/gm)];
    expect(stable.length, stdout).toBeGreaterThan(0);
    expect(stable.map((m) => m[3])).toEqual(stable.map(() => 'the guard holds'));
    expect(stable.map((m) => m[2])).toContain('stable');

    // The shift: the guard trips at a tick within one window (1,000 decisions) of it.
    const shifted = [...stdout.matchAll(/^\[controller\] +([\d,]+) shifted: .* guard (\w+) · tick: (.*)$/gm)];
    expect(shifted.length, stdout).toBeGreaterThan(0);
    const last = shifted.at(-1)!;
    expect(last[3]).toBe('the guard TRIPPED');
    expect(last[2]).toBe('drifted');
    expect(numberOf(last[1]!)).toBeLessThanOrEqual(1000);
    expect(shifted.slice(0, -1).map((m) => m[3])).toEqual(shifted.slice(0, -1).map(() => 'the guard holds'));

    // The drift view's table as the tick judged it: region moved from the reference's mix and drifted.
    const region = stdout.match(
      /^ +region +((?:\w+ \d+% · ){2}\w+ \d+%) +((?:\w+ \d+% · ){2}\w+ \d+%) +(\d+\.\d{3}) +JS \d\.\d{3} +(\w+)$/m,
    );
    expect(region, stdout).not.toBeNull();
    expect(region![1]).toMatch(/^EU [56]\d%/);
    expect(Number(region![3])).toBeGreaterThan(0.25);
    expect(region![4]).toBe('drifted');
    expect(stdout).toMatch(/^ +humanLabel +.* +stable$/m);

    // The transition with its evidence, and in the closing table.
    expect(stdout).toMatch(
      words(
        'moved invoice-triage human-reviewed → shadow; actor system, reason: guard tripped in human-reviewed: driftAbove:region 0.25',
      ),
    );
    expect(stdout).toMatch(/^ +driftAbove:region +0\.25 +0\.\d{3} +[\d,]+ +yes$/m);
    expect(stdout).toMatch(/^ +2 +shadow → human-reviewed \(forced\) +key:demo release manager /m);
    expect(stdout).toMatch(/^ +3 +human-reviewed → shadow +system +- +guard tripped in human-reviewed: /m);
    expect(stdout).toMatch(/^ +sent [\d,]+ · retried \d+ · dropped \d+ · failed \d+ · still buffered 0$/m);
    expect(stdout).toMatch(words('Check: the controller measured'));
    const check = stdout.match(
      /Check: the controller measured ([\d.]+%); the simulation's own tally is ([\d.]+%)/,
    );
    expect(check![1]).toBe(check![2]);
    expect(stdout).toMatch(words('The drift guard tripped'));
    expect(stdout).toMatch(words('rolled invoice-triage back: it ends shadow.'));

    // The dashboard left running: its drift panel shows what GET /v1/use-cases/:id/drift answers.
    const [, url, key] = stdout.match(/The dashboard: open (\S+)\/ and paste the viewer key (\S+)/)!;
    const response = await fetch(`${url}/v1/use-cases/${USE_CASE}/drift`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    const drift = (await response.json()) as DriftBody;
    expect(drift.stage).toBe('shadow');
    expect(drift.current.decisions).toBeGreaterThanOrEqual(drift.minWindow);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
    await page.goto(`${url}/`);
    await page.fill('#key-input', key!);
    await page.press('#key-input', 'Enter');
    await page.waitForSelector('#drift-panel [data-drift-field]');
    const panel = page.locator('#drift-panel');
    expect(await panel.getAttribute('data-stage')).toBe('shadow');
    expect(await panel.locator('[data-field="current-window"]').getAttribute('data-value')).toBe(
      String(drift.current.decisions),
    );
    expect(await panel.locator('[data-field="reference-window"]').getAttribute('data-value')).toBe(
      String(drift.reference.window.decisions),
    );
    // Every measured field in the table with the API's PSI, largest first; the first three charted.
    const measured = drift.fields
      .filter((f) => f.referenceTotal > 0 || f.currentTotal > 0)
      .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
    const rows = panel.locator('table.drift-fields-table tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-field')))).toEqual(
      measured.map((f) => f.field),
    );
    for (const f of measured) {
      const row = panel.locator(`table.drift-fields-table tr[data-field="${f.field}"]`);
      expect(await row.locator('[data-measure="psi"]').getAttribute('data-value'), f.field).toBe(
        String(f.psi ?? ''),
      );
    }
    const charted = measured.filter((f) => f.psi !== null).slice(0, 3);
    expect(
      await panel
        .locator('[data-drift-field]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-drift-field'))),
    ).toEqual(charted.map((f) => f.field));
    const regionAt = charted.findIndex((f) => f.field === 'region');
    expect(regionAt).toBeGreaterThanOrEqual(0);
    const regionView = drift.fields.find((f) => f.field === 'region')!;
    expect(
      await panel.locator('[data-drift-field="region"] [data-field="verdict"]').getAttribute('data-value'),
    ).toBe(regionView.currentTotal >= drift.minWindow && regionView.psi! > 0.25 ? 'drifted' : 'stable');
    // Page code runs in the browser: passed as text, since the tests are compiled without the DOM's types.
    const plotted = (await page.evaluate(
      `(() => { const d = Chart.getChart('drift-chart-${regionAt}').data; return { labels: d.labels, reference: d.datasets[0].data, current: d.datasets[1].data }; })()`,
    )) as { labels: string[]; reference: number[]; current: number[] };
    const byValue = new Map(regionView.values.map((v) => [v.value, v]));
    expect([...plotted.labels].sort()).toEqual([...byValue.keys()].sort());
    expect(plotted.reference).toEqual(plotted.labels.map((l) => byValue.get(l)!.referenceShare));
    expect(plotted.current).toEqual(plotted.labels.map((l) => byValue.get(l)!.currentShare));
    expect(
      await panel.locator('[data-field="override-rate"] [data-value]').first().getAttribute('data-value'),
    ).toBe(String(drift.overrideRate.current ?? ''));
    // Shadow has no drift guard: said, not a table.
    expect(drift.guards).toEqual([]);
    expect(await panel.textContent()).toContain('No drift guard in shadow');
    expect(await panel.textContent()).not.toMatch(/null|undefined|NaN/);
    // The transition the guard made, in the transitions panel.
    expect(await page.locator('#transitions [data-field="reason"]').first().textContent()).toMatch(
      /^guard tripped in human-reviewed: driftAbove:region 0\.25/,
    );
    expect(errors).toEqual([]);
    await page.close();

    // Ctrl-C ends a kept demo normally.
    proc.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(stdout).toMatch(words('Stopping the controller and the simulated AI system.'));
  }, 400_000);
});
