/**
 * Whether a use case's flag says what its stage says, as this controller's reconciler last found
 * it. A flag whose write Unleash refused or holds for approval does not stall silently: the API,
 * the CLI and the dashboard show this status, and the reconciler checks again at every flag sync.
 */

export const FLAG_SYNC_STATES = [
  'unknown',
  'in-sync',
  'pending-approval',
  'refused',
  'failed',
  'unreachable',
] as const;
export type FlagSyncState = (typeof FLAG_SYNC_STATES)[number];

export interface FlagSyncStatus {
  state: FlagSyncState;
  /** The state in a few words for a person: `pending approval in Unleash`. */
  detail: string;
  /** What was being written and what Unleash answered; null in sync or before the first check. */
  reason: string | null;
  /** When this controller first found the flag in this state (ISO 8601); null before the first check. */
  since: string | null;
  /** This controller's last check (ISO 8601); null before the first. */
  checkedAt: string | null;
}

const DETAILS: Record<FlagSyncState, string> = {
  unknown: 'not checked yet',
  'in-sync': 'in sync',
  'pending-approval': 'pending approval in Unleash',
  refused: 'refused by Unleash',
  failed: 'write failed in Unleash',
  unreachable: 'Unleash unreachable',
};

/** Before the reconciler has looked at the flag (a controller just started, a use case just created). */
export const UNCHECKED: FlagSyncStatus = {
  state: 'unknown',
  detail: DETAILS.unknown,
  reason: null,
  since: null,
  checkedAt: null,
};

/** States a person has to act on (grant a permission, approve the change, fix the flag). */
export const NEEDS_A_PERSON: ReadonlySet<FlagSyncState> = new Set(['pending-approval', 'refused', 'failed']);

/**
 * The status after a check at `now` that found `state`: `since` stays while the state does (the
 * reason may change meanwhile), `checkedAt` always moves. Pure.
 */
export function afterCheck(
  previous: FlagSyncStatus | undefined,
  state: Exclude<FlagSyncState, 'unknown'>,
  reason: string | null,
  now: Date,
): FlagSyncStatus {
  const at = now.toISOString();
  return {
    state,
    detail: DETAILS[state],
    reason: state === 'in-sync' ? null : reason,
    since: previous?.state === state && previous.since !== null ? previous.since : at,
    checkedAt: at,
  };
}
