import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { materialisePreviousRelease } from '../../scripts/faults/previous-release.js';

// The rolling-upgrade fault case runs the previous release from a directory it keeps across
// runs. A CI machine keeps its temp directory while each run is a new clone: a release linked to
// an earlier clone's node_modules must be rebuilt, never launched (CI failed on exactly that).
const ROOT = resolve(import.meta.dirname, '../..');
const base = mkdtempSync(join(tmpdir(), 'shadowgate-release-test-'));
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(base, { recursive: true, force: true });
});

describe('the previous release for the rolling-upgrade case', () => {
  it('is kept for the checkout that built it and rebuilt for another or when its links dangle', async () => {
    // The release is this commit itself, so its lock file is ours and it is linked: the default
    // choice (the commit before the newest migration) may have other dependencies, installed
    // with npm ci, which is not what this test is about.
    vi.stubEnv('FAULTS_PREVIOUS_RELEASE', 'HEAD');
    const first = await materialisePreviousRelease(ROOT, base);
    expect(first.install).toBe('linked');
    expect(first.nodeArgs).toContain('src/cli/main.ts');
    expect((await materialisePreviousRelease(ROOT, base)).install).toBe('kept');

    const markFile = join(first.dir, '.faults-release-ready');
    const mark = JSON.parse(readFileSync(markFile, 'utf8')) as { root: string };
    expect(mark.root).toBe(ROOT);
    writeFileSync(markFile, JSON.stringify({ ...mark, root: '/a/clone/that/has/gone' }));
    expect((await materialisePreviousRelease(ROOT, base)).install).toBe('linked');

    unlinkSync(join(first.dir, 'node_modules', 'tsx'));
    const again = await materialisePreviousRelease(ROOT, base);
    expect(again.install).toBe('linked');
    expect(readFileSync(join(again.dir, 'node_modules/tsx/package.json'), 'utf8')).toContain('"tsx"');
  });
});
