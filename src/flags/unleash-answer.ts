import { oneLine } from '../contracts/safe-text.js';
import type { FlagStoreProblem } from './flag-store-error.js';

/**
 * The permission Unleash names when a change must go through a change request; its docs call
 * it "skip change requests" (an environment permission of a custom project role).
 */
export const SKIP_CHANGE_REQUEST = 'SKIP_CHANGE_REQUEST';

/** Change request states in which the change still waits for people (Unleash's change request schema). */
const WAITING_STATES = new Set(['Draft', 'In review', 'Approved', 'Scheduled']);

/** Unleash's own message is shown cut to this, on one line: it is text from another program. */
const MESSAGE_CHARS = 300;

export type UnleashAnswer = { kind: 'done' } | { kind: FlagStoreProblem; problem: string };

/**
 * What an Admin API answer means for the flag the controller is writing. Pure.
 *
 * Unleash Enterprise refuses a direct write to an environment whose project requires change
 * requests with a 403 PermissionError naming SKIP_CHANGE_REQUEST, unless the token may skip
 * them; any 4xx that names change requests is read so, and so is a write answered with a change
 * request still waiting (Draft, In review, Approved, Scheduled) instead of the change itself.
 * Other 401s and 403s are a refused token, a 5xx is Unleash being unreachable, and any other
 * status outside 2xx is a write that failed.
 */
export function classifyAnswer(
  method: string,
  status: number,
  body: unknown,
  text = typeof body === 'string' ? body : JSON.stringify(body ?? ''),
): UnleashAnswer {
  if (status >= 200 && status < 300) {
    const request = method === 'GET' ? null : waitingChangeRequest(body);
    if (!request) return { kind: 'done' };
    return {
      kind: 'pending-approval',
      problem: `the change became change request ${request.id} (${request.state}) in Unleash and waits for approval`,
    };
  }
  const message = messageOf(body, text);
  if (status >= 400 && status < 500 && namesChangeRequests(body, text)) {
    return {
      kind: 'pending-approval',
      problem: `the change needs approval in Unleash: change requests are required there and the token may not skip them (${status}): ${message}`,
    };
  }
  if (status === 401 || status === 403) {
    return { kind: 'refused', problem: `the admin token was refused (${status}): ${message}` };
  }
  return { kind: status >= 500 ? 'unreachable' : 'failed', problem: `answered ${status}: ${message}` };
}

/** The change request a write was answered with, when it still waits; null for anything else. */
export function waitingChangeRequest(body: unknown): { id: string; state: string } | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { id, state, features, changes } = body as Record<string, unknown>;
  if (typeof state !== 'string' || !WAITING_STATES.has(state)) return null;
  if (!Array.isArray(features) && !Array.isArray(changes)) return null;
  const shown = typeof id === 'number' || typeof id === 'string' ? oneLine(String(id)).slice(0, 40) : '?';
  return { id: shown, state };
}

function namesChangeRequests(body: unknown, text: string): boolean {
  const permissions = (body as { permissions?: unknown } | null)?.permissions;
  const named = Array.isArray(permissions) ? permissions : [permissions];
  if (named.includes(SKIP_CHANGE_REQUEST)) return true;
  return /SKIP_CHANGE_REQUEST|change[ _-]?requests?/i.test(text.slice(0, 10_000));
}

/** Unleash's `message`, else the start of the body, on one line and bounded. */
export function messageOf(body: unknown, text: string): string {
  const message = (body as { message?: unknown } | null)?.message;
  const raw = (typeof message === 'string' ? message : text).slice(0, 2 * MESSAGE_CHARS);
  const shown = oneLine(raw).trim();
  if (shown === '') return '(empty body)';
  return shown.length > MESSAGE_CHARS ? `${shown.slice(0, MESSAGE_CHARS)}…` : shown;
}
