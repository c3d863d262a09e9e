import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_COMMAND } from '../support/demo-command.js';

/**
 * `npm run demo -- --use-case support-reply-draft` end to end, as a child process with a data
 * directory of its own: the judge's calibration grows round by round, the gate is inconclusive on
 * it after the AI's own figures hold, then eligible; the use case is promoted to human-reviewed and
 * the closing tables show the AI's agreement by the judge beside the judge's agreement with the
 * agents. Asserts on what the demo says, never on how long it took.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'sg-demo-drafting-test-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const numberOf = (text: string) => Number(text.replace(/,/g, ''));

describe('the drafting demo', () => {
  it('with --use-case support-reply-draft, then the gate waits on the judge calibration, promotes once it holds, and the closing tables show both agreements', async () => {
    const [node, ...script] = DEMO_COMMAND;
    const proc = spawn(
      node,
      [
        ...script,
        '--use-case',
        'support-reply-draft',
        '--latency',
        '4',
        '--ai-port',
        '0',
        '--data-dir',
        scratch,
      ],
      { cwd: ROOT, env: process.env },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => proc.on('close', (c) => done(c)));
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stderr, stdout).not.toMatch(/demo failed/);

    // The demo plan is the example plan with a larger calibration sample, said on screen.
    expect(stdout).toMatch(/comparator\.calibrationRate: 0\.05 in the example plan, 0\.1 here/);

    // The rounds in shadow: the AI's figures by the judge, the judge's by the agents, the gate.
    const rounds = [
      ...stdout.matchAll(
        /^\[controller\] +shadow: ([\d,]+) tickets · ([\d,]+) judged · AI agreement \(judge\) (\S+) · judge vs agents (\S+) on ([\d,]+) of ([\d,]+) rated, bound (\S+) · gate (\w+)(?: \(not yet: (.*)\))?$/gm,
      ),
    ];
    expect(rounds.length, stdout).toBeGreaterThan(1);
    const last = rounds.at(-1)!;
    expect(last[8], stdout).toBe('eligible');
    // Before it: inconclusive, the judge's calibration among what is not met yet in the last of them.
    const earlier = rounds.slice(0, -1);
    expect(
      earlier.every((r) => r[8] === 'inconclusive'),
      stdout,
    ).toBe(true);
    expect(earlier.at(-1)![9]).toContain('judgeAgreementLowerBound');
    // Every draft judged before the tick, every rating given counted; the calibration grows.
    for (const r of rounds) {
      expect(numberOf(r[2]!)).toBeLessThanOrEqual(numberOf(r[1]!));
      expect(numberOf(r[5]!)).toBe(numberOf(r[6]!));
    }
    const counted = rounds.map((r) => numberOf(r[5]!));
    expect([...counted].sort((a, b) => a - b)).toEqual(counted);
    expect(counted.at(-1)!).toBeGreaterThan(counted[0]!);
    // At the end the judge's bound is over the bar, and the AI's agreement by the judge near 91%.
    expect(Number(last[7])).toBeGreaterThanOrEqual(0.8);
    expect(Number.parseFloat(last[3]!)).toBeGreaterThan(85);

    expect(stdout).toMatch(/\[release manager\] +promoted support-reply-draft to human-reviewed/);
    expect(stdout).toMatch(/its SDK read human-reviewed from the flag/);
    expect(stdout).toMatch(/^\[phase 2 · human-reviewed\]/m);
    expect(stdout).toMatch(/the agents had a draft for [\d,]+ of 250 tickets/);

    // The closing table: per stage, the AI's agreement by the judge beside the judge's with the agents.
    const row = (stage: string) =>
      stdout.match(
        new RegExp(
          `^ +${stage} +([\\d,]+) +([\\d.]+)% +(0\\.\\d{3}) +(\\S+) +([\\d,]+) +([\\d.]+)% +(0\\.\\d{3}) +(-?\\d\\.\\d{3})$`,
          'm',
        ),
      );
    const shadow = row('shadow');
    const reviewed = row('human-reviewed');
    expect(shadow, stdout).not.toBeNull();
    expect(reviewed, stdout).not.toBeNull();
    expect(Number(shadow![2])).toBeGreaterThan(85);
    expect(Number(shadow![6])).toBeGreaterThan(85);
    expect(Number(shadow![7])).toBeGreaterThanOrEqual(0.8);
    expect(numberOf(reviewed![5]!)).toBeGreaterThanOrEqual(numberOf(shadow![5]!));

    // The simulations' own tallies: the truth the figures above estimate.
    expect(stdout).toMatch(/drafts acceptable by the truth \(token-f1 ≥ 0\.5\): 9\d\.\d% of/);
    expect(stdout).toMatch(/the judge was right on 9\d\.\d% of the [\d,]+ drafts it scored/);
    expect(stdout).toMatch(/ends human-reviewed\./);
    // The support desk's SDK delivered every decision and rating.
    expect(stdout).toMatch(/^ +sent [\d,]+ · retried \d+ · dropped 0 · failed 0 · still buffered 0$/m);
  }, 400_000);

  it('when --use-case names no example, or is combined with another demo, then it says so and exits 2', async () => {
    for (const args of [
      ['--use-case', 'nope'],
      ['--use-case', 'support-reply-draft', '--drift'],
    ]) {
      const [node, ...script] = DEMO_COMMAND;
      const proc = spawn(node, [...script, ...args, '--data-dir', scratch], { cwd: ROOT, env: process.env });
      let stderr = '';
      proc.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((done) => proc.on('close', (c) => done(c)));
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(/demo: --use-case/);
    }
  }, 60_000);
});
