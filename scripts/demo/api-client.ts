/**
 * The few calls the demo makes to the controller's v1 HTTP API, as any
 * outside client would: JSON over fetch with a bearer key. A refusal throws
 * an ApiError whose message carries the controller's own explanation.
 */

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  /** The bearer key it speaks with (the demo hands the workflow's to the example service's SDK). */
  readonly key: string;
  /** The same client speaking with another key. */
  withKey(key: string): ApiClient;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** Sends `text` verbatim (a YAML plan). */
  putText<T>(path: string, text: string, contentType: string): Promise<T>;
}

export function createApiClient(baseUrl: string, key: string): ApiClient {
  const call = async <T>(method: string, path: string, body?: string, contentType?: string): Promise<T> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) {
      throw new ApiError(response.status, `${method} ${path} → ${response.status}: ${explain(parsed, text)}`);
    }
    return parsed as T;
  };
  return {
    baseUrl,
    key,
    withKey: (other) => createApiClient(baseUrl, other),
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, JSON.stringify(body), 'application/json'),
    putText: (path, text, contentType) => call('PUT', path, text, contentType),
  };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/** The controller's `{message, details: [{path, problem}]}`, on one line. */
function explain(body: unknown, raw: string): string {
  if (typeof body !== 'object' || body === null) return raw.slice(0, 200) || '(empty body)';
  const { message, details } = body as { message?: unknown; details?: unknown };
  const parts = Array.isArray(details)
    ? details.map((d: { path?: unknown; problem?: unknown }) => `${String(d.path)}: ${String(d.problem)}`)
    : [];
  return [String(message ?? raw.slice(0, 200)), ...parts].join('; ');
}
