/** The few calls a benchmark makes to set a controller up, through its HTTP API as an operator would. */

export interface ApiTarget {
  url: string;
  key: string;
}

async function call(target: ApiTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** Applies a plan (JSON) through `PUT /v1/use-cases/:id/plan`. */
export async function applyPlan(target: ApiTarget, plan: { useCase: string }): Promise<void> {
  await call(target, 'PUT', `/v1/use-cases/${plan.useCase}/plan`, plan);
}

export async function createKey(
  target: ApiTarget,
  name: string,
  role: 'ingest' | 'viewer',
  useCases?: string[],
): Promise<string> {
  const created = (await call(target, 'POST', '/v1/keys', {
    name,
    role,
    ...(useCases ? { useCases } : {}),
  })) as { key: string };
  return created.key;
}

export function getJson(target: ApiTarget, path: string): Promise<unknown> {
  return call(target, 'GET', path);
}
