// @ts-check
/**
 * The /v1 API as the page uses it. The key lives in sessionStorage (this tab only, gone when it
 * closes) and travels in the Authorization header, never in a URL.
 */

/**
 * The answers the page reads, as the controller's own types state them (a date travels as its
 * ISO string).
 * @typedef {import('@shadowgate/sdk/wire').ErrorBody} ErrorBody
 * @typedef {import('@shadowgate/sdk/wire').ProblemDetail} ProblemDetail
 * @typedef {import('../keys/roles.js').Role} Role
 * @typedef {import('../keys/roles.js').Permission} Permission
 * @typedef {import('../metrics/use-case-reader.js').UseCaseSummary} UseCaseSummary
 * @typedef {import('../promotion/challenger-view.js').ChallengerView} ChallengerView
 * @typedef {NonNullable<ChallengerView['challenger']>} Challenger
 * @typedef {import('../report/report-types.js').UseCaseDetail & Pick<ChallengerView, 'champion' | 'challenger'>} UseCaseDetail
 * @typedef {import('../metrics/stage-summary.js').StageSummary} StageSummary
 * @typedef {import('../metrics/metrics-types.js').CohortMetrics} CohortMetrics
 * @typedef {import('../metrics/metrics-types.js').SegmentMetrics} SegmentMetrics
 * @typedef {import('../promotion/gate-types.js').GateAssessment} GateAssessment
 * @typedef {import('../promotion/gate-types.js').GateVerdict} GateVerdict
 * @typedef {import('../promotion/gate-types.js').Criterion} Criterion
 * @typedef {import('../promotion/gate-types.js').CriterionStatus} CriterionStatus
 * @typedef {import('../metrics/timeseries-range.js').Bucket} Bucket
 * @typedef {import('../metrics/timeseries-store.js').TimeseriesPoint} TimeseriesPoint
 * @typedef {import('../promotion/transition-store.js').TransitionRecord} TransitionRecord
 */

/**
 * `GET /v1/whoami`: what the key may do.
 * @typedef {object} Whoami
 * @property {string} name
 * @property {Role} role
 * @property {string[] | null} useCases null: every use case
 * @property {Permission[]} permissions
 */

/**
 * `GET /v1/use-cases`.
 * @typedef {{ useCases: UseCaseSummary[] }} UseCaseList
 */

/**
 * `GET /v1/use-cases/:id/timeseries`.
 * @typedef {object} Timeseries
 * @property {string} useCase
 * @property {Bucket} bucket
 * @property {string | null} stage
 * @property {string} from
 * @property {string} to
 * @property {number} confidence
 * @property {TimeseriesPoint[]} points
 */

/**
 * One stage change of `GET /v1/use-cases/:id/transitions`, whose snapshot holds the gate as it
 * was judged then (null when the move was not judged).
 * @typedef {Omit<TransitionRecord, 'at' | 'snapshot'> & { at: string, snapshot: { gate?: GateAssessment | null } | null }} Transition
 */

/** @typedef {{ useCase: string, transitions: Transition[] }} TransitionList */

const KEY_ITEM = 'shadowgate.apiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  /** @param {string} key */
  save: (key) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** A refusal of the API: its status, message and located problems (`{path, problem}`). */
export class ApiError extends Error {
  /**
   * @param {number} status 0 when the controller did not answer
   * @param {Partial<ErrorBody> | null} body
   * @param {string} [fallback] the message when the body has none
   */
  constructor(status, body, fallback) {
    super(body?.message ?? fallback ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? null;
    this.details = Array.isArray(body?.details) ? body.details : [];
  }
}

/**
 * Calls the API with the key; resolves with the answer's JSON (null when empty), throws ApiError
 * on a refusal. `T` is the answer's type, which the caller knows from the path.
 * @template [T=unknown]
 * @param {string} path
 * @param {{ method?: string, body?: unknown, key?: string | null }} [options]
 * @returns {Promise<T>}
 */
export async function api(path, { method = 'GET', body, key = session.key() } = {}) {
  /** @type {Record<string, string>} */
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
    throw new ApiError(0, null, `the controller did not answer (${/** @type {Error} */ (error).message})`);
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

/**
 * @param {string} id
 * @param {string} [rest]
 */
export const useCasePath = (id, rest = '') => `/v1/use-cases/${encodeURIComponent(id)}${rest}`;
