/**
 * The previous release of the controller, materialised from git for the rolling-upgrade case.
 *
 * Which commit is "the previous release" (docs/reliability.md states the rule):
 *   1. FAULTS_PREVIOUS_RELEASE, any revision git understands (a tag, a branch, a commit), if set;
 *   2. else the newest `v*` tag reachable from HEAD that is not HEAD itself;
 *   3. else the parent of the newest first-parent commit that changed migrations/, so the newest
 *      migration is always run against the code that came before it.
 *
 * Its tree is extracted with `git archive` into a directory under the system's temp directory
 * named by the commit, and installed there: when its package-lock.json and patches/ equal ours
 * the dependencies are our node_modules, linked entry by entry (its own workspace package, the
 * SDK, is linked to its own sources); otherwise `npm ci` runs there (with its install scripts, so its
 * own patches apply). A finished install is kept and reused by later runs, keyed by the commit.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './processes.js';

export interface PreviousRelease {
  /** The full commit id. */
  commit: string;
  /** How it was chosen, e.g. "parent of e6add3b, the newest commit that changed migrations/". */
  chosenBy: string;
  /** The directory holding its tree and dependencies. */
  dir: string;
  /** The arguments to `node` that run its `shadowgate` CLI in `dir` (followed by `serve`). */
  nodeArgs: string[];
  /** How its dependencies were provided: "linked", "npm ci", or "kept" from an earlier run. */
  install: 'linked' | 'npm ci' | 'kept';
  /** Seconds it took to extract and install (0 when kept). */
  seconds: number;
}

const READY_MARK = '.faults-release-ready';
/** npm ci of a release takes ~40 s on an idle 2-core machine; a loaded one or a cold npm cache more. */
const NPM_CI_TIMEOUT_MS = 5 * 60_000;

async function git(root: string, args: string[]): Promise<string> {
  return (await runCommand('git', ['-C', root, ...args], 30_000)).trim();
}

/** Which commit is the previous release, and why. */
export async function choosePreviousRelease(root: string): Promise<{ commit: string; chosenBy: string }> {
  const given = process.env.FAULTS_PREVIOUS_RELEASE?.trim();
  if (given) {
    if (!/^[\w./@^~-]{1,200}$/.test(given)) {
      throw new Error(`FAULTS_PREVIOUS_RELEASE is not a git revision: ${JSON.stringify(given)}`);
    }
    const commit = await git(root, ['rev-parse', '--verify', '--quiet', `${given}^{commit}`]).catch(() => '');
    if (!commit) throw new Error(`FAULTS_PREVIOUS_RELEASE=${given} names no commit of this repository`);
    return { commit, chosenBy: `FAULTS_PREVIOUS_RELEASE=${given}` };
  }
  const head = await git(root, ['rev-parse', 'HEAD']);
  const tags = (await git(root, ['tag', '--list', 'v*', '--merged', 'HEAD', '--sort=-v:refname']))
    .split('\n')
    .filter((t) => t !== '');
  for (const tag of tags) {
    const commit = await git(root, ['rev-parse', `${tag}^{commit}`]);
    if (commit !== head) return { commit, chosenBy: `the newest v* tag, ${tag}` };
  }
  const changed = await git(root, ['log', '--first-parent', '-1', '--format=%H', 'HEAD', '--', 'migrations']);
  if (!changed)
    throw new Error('no v* tag and no commit that changed migrations/: no previous release to run');
  const parent = await git(root, ['rev-parse', '--verify', '--quiet', `${changed}^1`]).catch(() => '');
  if (!parent) {
    const shallow = await git(root, ['rev-parse', '--is-shallow-repository']);
    throw new Error(
      `the parent of ${changed.slice(0, 7)} (the newest commit that changed migrations/) is not in this ` +
        `clone${shallow === 'true' ? ': it is shallow, fetch the history (git fetch --unshallow)' : ''}`,
    );
  }
  return {
    commit: parent,
    chosenBy: `the parent of ${changed.slice(0, 7)}, the newest commit that changed migrations/`,
  };
}

/**
 * What decides the installed dependencies: the lock file and the patches applied at install
 * (patch-package's patches/), so linking ours never gives the release another patch of a package.
 */
function installFingerprint(dir: string): string {
  const hash = createHash('sha256').update(readFileSync(join(dir, 'package-lock.json')));
  const patches = join(dir, 'patches');
  if (existsSync(patches)) {
    const entries = readdirSync(patches, { withFileTypes: true }).sort((x, y) =>
      x.name.localeCompare(y.name),
    );
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const name = entry.name;
      hash.update(`\0${name}\0`).update(readFileSync(join(patches, name)));
    }
  }
  return hash.digest('hex');
}

/**
 * Extracts and installs the previous release once per commit under `base` (the system's temp
 * directory unless given); later calls reuse it.
 */
export async function materialisePreviousRelease(root: string, base = tmpdir()): Promise<PreviousRelease> {
  const { commit, chosenBy } = await choosePreviousRelease(root);
  const dir = join(base, `shadowgate-faults-release-${commit.slice(0, 12)}`);
  const kept = keptRelease(root, dir);
  if (kept) return { commit, chosenBy, dir, nodeArgs: kept, install: 'kept', seconds: 0 };
  // Nothing usable there (never built, or left by a run whose checkout has gone): start over.
  rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  // Built beside the final name and renamed into place, so a run interrupted half-way (or a
  // second suite at the same time) never leaves a directory that looks ready but is not.
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    const archive = join(building, '.release.tar');
    await runCommand('git', ['-C', root, 'archive', '--format=tar', '-o', archive, commit], 60_000);
    await runCommand('tar', ['-xf', archive, '-C', building], 60_000);
    rmSync(archive);
    let install: PreviousRelease['install'];
    if (installFingerprint(building) === installFingerprint(root)) {
      linkDependencies(root, building);
      install = 'linked';
    } else {
      await runCommand('npm', ['ci', '--no-audit', '--no-fund', '--prefix', building], NPM_CI_TIMEOUT_MS);
      install = 'npm ci';
    }
    const mark: ReadyMark = { commit, install, root };
    writeFileSync(join(building, READY_MARK), `${JSON.stringify(mark)}\n`);
    try {
      renameSync(building, dir);
    } catch {
      // Another run finished first: use its copy when it is usable, else ours.
      if (keptRelease(root, dir)) rmSync(building, { recursive: true, force: true });
      else {
        rmSync(dir, { recursive: true, force: true });
        renameSync(building, dir);
      }
    }
    return {
      commit,
      chosenBy,
      dir,
      nodeArgs: launchArgs(dir),
      install,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}

/** What a finished release directory records about its install. */
interface ReadyMark {
  commit: string;
  install: 'linked' | 'npm ci';
  /** For a linked install, the checkout whose node_modules the links point into. */
  root: string;
}

/**
 * The launch arguments of a release directory an earlier run finished, or undefined when there
 * is none or it can no longer run. A linked install points into the node_modules of the checkout
 * that built it; when that checkout is another one (a CI machine keeps its temp directory across
 * clones), or its links dangle, the release is not kept: it is built again from our checkout.
 */
function keptRelease(root: string, dir: string): string[] | undefined {
  let mark: ReadyMark;
  try {
    mark = JSON.parse(readFileSync(join(dir, READY_MARK), 'utf8')) as ReadyMark;
  } catch {
    return undefined;
  }
  if (mark.install === 'linked' && mark.root !== root) return undefined;
  try {
    return launchArgs(dir);
  } catch {
    return undefined;
  }
}

/**
 * Our node_modules, entry by entry, except the release's own workspace packages (the SDK),
 * which must be its sources, not ours.
 */
function linkDependencies(root: string, target: string): void {
  const ours = join(root, 'node_modules');
  const theirs = join(target, 'node_modules');
  mkdirSync(theirs);
  const workspaces = readWorkspaces(target);
  for (const entry of readdirSync(ours)) {
    if (entry.startsWith('@')) {
      mkdirSync(join(theirs, entry));
      for (const sub of readdirSync(join(ours, entry))) {
        const name = `${entry}/${sub}`;
        const own = workspaces.get(name);
        symlinkSync(own ? join(target, own) : join(ours, name), join(theirs, name));
      }
    } else {
      const own = workspaces.get(entry);
      symlinkSync(own ? join(target, own) : join(ours, entry), join(theirs, entry));
    }
  }
}

/** The release's workspace packages: name → directory inside the release. */
function readWorkspaces(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { workspaces?: string[] };
  for (const where of pkg.workspaces ?? []) {
    const file = join(dir, where, 'package.json');
    if (!existsSync(file)) continue;
    const { name } = JSON.parse(readFileSync(file, 'utf8')) as { name?: string };
    if (name) found.set(name, where);
  }
  return found;
}

/**
 * How the release's CLI runs: from its sources with its own tsx when it has them (as its
 * `npm start` did before the built JavaScript), else its built JavaScript.
 */
function launchArgs(dir: string): string[] {
  // existsSync follows the links, so a link into a checkout that has gone counts as absent.
  if (existsSync(join(dir, 'src/cli/main.ts')) && existsSync(join(dir, 'node_modules/tsx/package.json'))) {
    return ['--conditions=shadowgate-source', '--import', 'tsx', 'src/cli/main.ts'];
  }
  if (existsSync(join(dir, 'dist/src/cli/main.js'))) return ['dist/src/cli/main.js'];
  throw new Error(`the release in ${dir} has neither src/cli/main.ts with tsx nor dist/src/cli/main.js`);
}
