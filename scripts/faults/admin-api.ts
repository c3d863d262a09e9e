/** The controller's HTTP API as the suite uses it, with the bootstrap admin key. */
export class AdminApi {
  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  /** Like request(), but throws unless the status is one of `expected`. */
  async expect<T = unknown>(
    expected: number[],
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<T> {
    const answer = await this.request<T>(method, path, body, contentType);
    if (!expected.includes(answer.status)) {
      throw new Error(
        `${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`,
      );
    }
    return answer.body;
  }

  applyPlan(useCase: string, yaml: string): Promise<unknown> {
    return this.expect([200, 201], 'PUT', `/v1/use-cases/${useCase}/plan`, yaml, 'application/yaml');
  }

  async createKey(name: string, role: string): Promise<string> {
    const body = await this.expect<{ key: string }>([201], 'POST', '/v1/keys', { name, role });
    return body.key;
  }

  useCase(id: string): Promise<UseCaseView> {
    return this.expect<UseCaseView>([200], 'GET', `/v1/use-cases/${id}`);
  }

  release(
    id: string,
    action: 'promote' | 'rollback' | 'disable' | 'enable',
    body: unknown,
  ): Promise<unknown> {
    return this.expect([200], 'POST', `/v1/use-cases/${id}/${action}`, body);
  }

  /** The controller's Prometheus text (no key needed). */
  async metricsText(): Promise<string> {
    const response = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return response.text();
  }
}

/** The parts of `GET /v1/use-cases/:id` the suite reads. */
export interface UseCaseView {
  id: string;
  stage: string;
  metrics: {
    stages: Array<{
      stage: string;
      decisions: number;
      samples: number;
      pendingHuman: number;
      pendingAi: number;
      cohorts: Array<{ aiCalls: number; aiErrors: number; aiErrorRate: number | null; samples: number }>;
    }>;
  };
}

/** Sums a counter of the Prometheus text over the series whose labels include `labels`. */
export function counterSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (!matches) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
