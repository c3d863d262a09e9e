import { sleep } from './waiting.js';

/** What ingest answered while a fault lasted, and how long its slowest answer took. */
export interface IngestProbes {
  statuses: number[];
  /** The Retry-After of the first 503, if any. */
  retryAfter: string | null;
  /** The slowest answer in ms (an unanswered probe counts its whole wait). */
  slowestMs: number;
  /** Probes that got no answer within `answerWithinMs`. */
  unanswered: number;
}

/**
 * Posts one decision of an unknown use case every 200 ms for `durationMs`: looking the use case
 * up needs the database, so it answers 503 while the database is out of reach and 404 otherwise.
 * Each probe waits at most `answerWithinMs` for its answer.
 */
export async function probeIngest(
  url: string,
  key: string,
  durationMs: number,
  answerWithinMs = 8_000,
): Promise<IngestProbes> {
  const probes: IngestProbes = { statuses: [], retryAfter: null, slowestMs: 0, unanswered: 0 };
  const ends = Date.now() + durationMs;
  for (let i = 0; Date.now() < ends; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ useCase: 'faults-probe', requestId: `probe-${i}`, input: {} }),
      signal: AbortSignal.timeout(answerWithinMs),
    }).catch(() => null);
    await response?.arrayBuffer().catch(() => null);
    probes.slowestMs = Math.max(probes.slowestMs, performance.now() - started);
    probes.statuses.push(response?.status ?? 0);
    if (!response) probes.unanswered++;
    if (response?.status === 503) probes.retryAfter ??= response.headers.get('retry-after');
    await sleep(200);
  }
  return probes;
}

/** "503 ×12, 404 ×3, no answer ×1". */
export function summarizeStatuses(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s === 0 ? 'no answer' : s} ×${n}`).join(', ');
}

/** What posting real decisions answered while a fault lasted. */
export interface DecisionPosts {
  /** The request ids posted (each answered or not): the tally counts them as sent. */
  requestIds: string[];
  statuses: number[];
  slowestMs: number;
}

/**
 * Posts one decision of `useCase` with its human side every 200 ms for `durationMs`, each
 * waiting at most `answerWithinMs`: whether ingest keeps storing while the fault lasts.
 */
export async function postDecisions(
  url: string,
  key: string,
  useCase: string,
  idPrefix: string,
  durationMs: number,
  answerWithinMs = 8_000,
): Promise<DecisionPosts> {
  const posts: DecisionPosts = { requestIds: [], statuses: [], slowestMs: 0 };
  const ends = Date.now() + durationMs;
  for (let i = 0; Date.now() < ends; i++) {
    const requestId = `${idPrefix}-${i}`;
    posts.requestIds.push(requestId);
    const started = performance.now();
    const response = await fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        useCase,
        requestId,
        input: { amount: 100 + i, vendor: 'probe' },
        context: { region: 'eu' },
        human: { decision: 'approve' },
      }),
      signal: AbortSignal.timeout(answerWithinMs),
    }).catch(() => null);
    await response?.arrayBuffer().catch(() => null);
    posts.slowestMs = Math.max(posts.slowestMs, performance.now() - started);
    posts.statuses.push(response?.status ?? 0);
    await sleep(200);
  }
  return posts;
}
