/**
 * The /v1 API as the page uses it. The key lives in sessionStorage (this tab only, gone when it
 * closes) and travels in the Authorization header, never in a URL.
 */

const KEY_ITEM = 'shadowgate.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  save: (key) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** A refusal of the API: its status, message and located problems (`{path, problem}`). */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    super(body?.message ?? fallback ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? null;
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

export async function api(path, { method = 'GET', body, key = session.key() } = {}) {
  const headers = { Authorization: `Bearer ${key ?? ''}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new ApiError(0, null, `the controller did not answer (${error.message})`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data, text.slice(0, 200) || response.statusText);
  return data;
}

export const useCasePath = (id, rest = '') => `/v1/use-cases/${encodeURIComponent(id)}${rest}`;
