import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { InMemStorageProvider, Unleash, type Context } from 'unleash-client';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import type { Plan } from '../../src/plans/plan-schema.js';

/** A real unleash-client, started and synchronized; `errors` collects what it emitted. */
export interface FlagClient {
  unleash: Unleash;
  errors: Error[];
  /** How many polls were answered 304 Not Modified. */
  unchanged(): number;
  mode(flag: string, context?: Context): string;
  close(): void;
}

/**
 * unleash-client against `url` (an Unleash client API base, `…/api`). It keeps its
 * backup in memory (no stale /tmp file from another run), polls quickly, and has an
 * `error` listener so a destroy before the first fetch cannot crash the worker.
 */
export async function startFlagClient(
  url: string,
  apiKey: string,
  refreshInterval = 250,
): Promise<FlagClient> {
  const unleash = new Unleash({
    url,
    appName: `sg-flag-test-${randomBytes(4).toString('hex')}`,
    customHeaders: { Authorization: apiKey },
    refreshInterval,
    storageProvider: new InMemStorageProvider(),
    disableMetrics: true,
  });
  const errors: Error[] = [];
  unleash.on('error', (error: Error) => errors.push(error));
  unleash.on('warn', () => {});
  let unchanged = 0;
  unleash.on('unchanged', () => {
    unchanged += 1;
  });
  const client: FlagClient = {
    unleash,
    errors,
    unchanged: () => unchanged,
    mode: (flag, context = {}) => unleash.getVariant(flag, context).name,
    close: () => unleash.destroy(),
  };
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`unleash-client did not synchronize with ${url} in 10 s`)),
      10_000,
    ).unref(),
  );
  try {
    await Promise.race([once(unleash, 'synchronized'), timeout]);
  } catch (error) {
    client.close();
    throw new Error(`${(error as Error).message}; client errors: ${errors.map((e) => e.message).join('; ')}`);
  }
  return client;
}

/** Polls `check` until it returns true; fails naming `what` and the last value seen. */
export async function eventually(check: () => unknown, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not true within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

/** A valid plan whose limited-autonomous boundary is `riskTier IN [low]` at `rolloutPercent`. */
export function boundaryPlan(useCase: string, rolloutPercent: number): Plan {
  const parsed = parsePlanText(`useCase: ${useCase}
owner: flags@example.com
decision: { type: label, labels: [approve, reject] }
ai: { adapter: http, url: 'http://127.0.0.1:9/decide' }
stages:
  shadow: {}
  human-reviewed: {}
  limited-autonomous:
    boundary:
      constraints: [{ contextName: riskTier, operator: IN, values: [low] }]
      rolloutPercent: ${rolloutPercent}
`);
  if (!parsed.ok) throw new Error(`test plan is invalid: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
}

/** How many of `n` request ids inside the boundary `client` sends to the AI alone. */
export function autonomousShare(client: FlagClient, flag: string, n: number): number {
  let autonomous = 0;
  for (let i = 0; i < n; i++) {
    const context = { sessionId: `req-${i}`, properties: { riskTier: 'low' } };
    if (client.mode(flag, context) === 'limited-autonomous') autonomous += 1;
  }
  return autonomous / n;
}
