import type { DecisionContext, ProblemDetail } from './wire.js';

/** What the SDK owes the controller, as the caller handed it over (serialised later, off the live path). */

export interface HumanSide {
  decision: unknown;
  decidedBy?: string;
  handlingMs?: number;
}

/** A request (and usually its human decision) for `POST /v1/decisions`. */
export interface MirrorItem {
  kind: 'mirror';
  useCase: string;
  requestId: string;
  input: unknown;
  context?: DecisionContext;
  human?: HumanSide;
}

/**
 * A human decision for a decision the controller may already hold (`POST …/human`).
 * With a `fallback`, a 404 (the suggestion never reached the controller) turns it into
 * a mirror of the whole request.
 */
export interface HumanItem {
  kind: 'human';
  useCase: string;
  requestId: string;
  human: HumanSide;
  fallback?: { input: unknown; context?: DecisionContext };
}

/** People's rating of the AI's output (`POST …/rating`): sent after the decision it rates is stored. */
export interface RatingItem {
  kind: 'rating';
  useCase: string;
  requestId: string;
  rating: { acceptable: boolean; by: string };
}

export type OutboxItem = MirrorItem | HumanItem | RatingItem;

/** An item and what sending it has cost so far; `json` is computed once, so a retry resends the same bytes. */
export interface Entry {
  item: OutboxItem;
  attempts: number;
  json?: string;
  /**
   * The late human decision this mirror stands in for (its 404): when the mirror then meets the
   * decision stored meanwhile (409, a suggestion that landed late), the human side goes to it.
   */
  fromHuman?: HumanItem;
}

export function mirrorOf(item: HumanItem): MirrorItem | undefined {
  if (!item.fallback) return undefined;
  return {
    kind: 'mirror',
    useCase: item.useCase,
    requestId: item.requestId,
    input: item.fallback.input,
    ...(item.fallback.context === undefined ? {} : { context: item.fallback.context }),
    human: item.human,
  };
}

/** The wire form of an item (a batch element or a late-human body); throws on what JSON cannot hold. */
export function serialise(item: OutboxItem): string {
  const json =
    item.kind === 'mirror'
      ? JSON.stringify({
          useCase: item.useCase,
          requestId: item.requestId,
          input: item.input,
          context: item.context,
          human: item.human,
        })
      : item.kind === 'human'
        ? JSON.stringify(item.human)
        : JSON.stringify({ acceptable: item.rating.acceptable, by: item.rating.by });
  if (json === undefined) throw new TypeError('the value has no JSON form');
  return json;
}

export function batchBody(jsons: readonly string[]): string {
  return `{"decisions":[${jsons.join(',')}]}`;
}

const ITEM_PATH = /^decisions\[(\d+)\]/;

/**
 * The batch items a refusal names (`decisions[3].requestId` → 3), each with its first
 * problem. Empty when the refusal names none, i.e. it is about the batch as a whole.
 */
export function namedItems(details: readonly ProblemDetail[], size: number): Map<number, string> {
  const named = new Map<number, string>();
  for (const detail of details) {
    const match = ITEM_PATH.exec(detail.path);
    if (!match) continue;
    const index = Number(match[1]);
    if (index < size && !named.has(index)) named.set(index, `${detail.path}: ${detail.problem}`);
  }
  return named;
}
