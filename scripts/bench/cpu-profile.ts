import { readFileSync } from 'node:fs';

/**
 * A V8 `.cpuprofile` (node --cpu-prof) summarised: where the process spent its samples, by
 * function and by area (a package under node_modules, a folder of src/, Node's internals, GC),
 * self time only. Idle time is reported apart, so shares are of the busy time.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  file: string;
  wallSeconds: number;
  busySeconds: number;
  idleShare: number;
  /** Busy time by area, largest first: `{area, seconds, share}` with share of the busy time. */
  areas: Array<{ area: string; seconds: number; share: number }>;
  functions: Array<{ fn: string; seconds: number; share: number }>;
  /**
   * Busy time by the nearest function of the controller's own code (src/) on the stack: what the
   * controller was doing, its libraries' time included. Samples with no src/ frame (timers,
   * sockets, GC) are `(outside src/)`.
   */
  sourceFrames: Array<{ fn: string; seconds: number; share: number }>;
}

/** `src/ingest/…`, `node_modules/postgres`, `node:internal`, or V8's own entries such as `(garbage collector)`. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `node_modules/${modules[1]}`;
  const source = /\/(src\/[^/]+|scripts)\//.exec(url);
  if (source) return source[1]!;
  if (url.startsWith('node:')) return 'node: internals';
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const tail = /(node_modules\/.*|src\/.*)$/.exec(url);
  return tail ? tail[1]! : url.replace(/^file:\/\//, '');
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const wallSeconds = (profile.endTime - profile.startTime) / 1e6;
  const perSample = profile.samples.length > 0 ? wallSeconds / profile.samples.length : 0;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const bySource = new Map<string, number>();
  const parent = new Map<number, ProfileNode>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node);
  }
  const sourceFrame = (node: ProfileNode): string => {
    for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) {
      const { url, functionName, lineNumber } = at.callFrame;
      if (/\/src\//.test(url) && !url.includes('node_modules')) {
        return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
      }
    }
    return '(outside src/)';
  };
  let idle = 0;
  let busy = 0;
  for (const node of profile.nodes) {
    const seconds = (node.hitCount ?? 0) * perSample;
    if (seconds === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += seconds;
      continue;
    }
    busy += seconds;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + seconds);
    const fn = `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + seconds);
    const source = sourceFrame(byId.get(node.id) ?? node);
    bySource.set(source, (bySource.get(source) ?? 0) + seconds);
  }
  const ranked = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, seconds]) => ({
        name,
        seconds: Math.round(seconds * 100) / 100,
        share: busy === 0 ? 0 : Math.round((seconds / busy) * 1000) / 10,
      }));
  return {
    file,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    busySeconds: Math.round(busy * 10) / 10,
    idleShare: wallSeconds === 0 ? 0 : Math.round((idle / wallSeconds) * 1000) / 10,
    areas: ranked(byArea).map(({ name, seconds, share }) => ({ area: name, seconds, share })),
    functions: ranked(byFunction).map(({ name, seconds, share }) => ({ fn: name, seconds, share })),
    sourceFrames: ranked(bySource).map(({ name, seconds, share }) => ({ fn: name, seconds, share })),
  };
}

/** Lines for the notes: how busy the main thread was, by area and by the controller's own function. */
export function describeProfile(summary: ProfileSummary, areas = 6): string[] {
  const parts = summary.areas.slice(0, areas).map((a) => `${a.area} ${a.share}%`);
  const frames = summary.sourceFrames.slice(0, 5).map((f) => `${f.fn.replace(/ src\/.*$/, '')} ${f.share}%`);
  return [
    `controller CPU profile (main thread, whole run): busy ${summary.busySeconds} s of ${summary.wallSeconds} s ` +
      `(${round1(100 - summary.idleShare)}%); self time by area: ${parts.join(', ')}`,
    `by the controller's own function on the stack: ${frames.join(', ')}`,
  ];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
