import { isSampled, unitHash } from '../../src/contracts/sampling.js';
import type { HumanPath } from '@shadowgate/sdk';
import { referenceLabel } from '../simulation/reference-labeler.js';

/**
 * The example service's SIMULATED clerks, its human path. A clerk decides most
 * invoices by the reference policy after a short delay; a share of them, drawn by
 * a hash of the request id, is set aside and decided later, when the clerk's
 * decision is posted to the service (as a real clerk's work queue would call back).
 */

export interface ClerkDeskOptions {
  labels: string[];
  /** How long a clerk takes over an invoice decided at once. */
  delayMs: number;
  /** Share of invoices set aside for later, 0..1 (drawn by request id, so a retry draws the same). */
  setAsideRate: number;
}

/** Whether the clerks set the invoice with this request id aside at `rate`. */
export function setAside(requestId: string, rate: number): boolean {
  return isSampled(requestId, rate, 'set-aside');
}

/** One of six simulated clerks, always the same one for a request. */
export function clerkOf(requestId: string): string {
  return `simulated-clerk-${1 + Math.floor(unitHash(requestId, 'clerk') * 6)}`;
}

/** The simulated clerk: the reference label after `delayMs`, whatever the suggestion says. */
export function simulatedClerk(input: unknown, labels: string[], delayMs: number): HumanPath<string> {
  return async () => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return referenceLabel(input, labels);
  };
}

export class ClerkDesk {
  private readonly waiting = new Map<string, (decision: string) => void>();

  constructor(readonly options: ClerkDeskOptions) {}

  /** Invoices set aside whose decision has not been posted yet. */
  get awaiting(): number {
    return this.waiting.size;
  }

  /**
   * The human path for one invoice. When the clerk sets it aside, `onSetAside` is called
   * and the path resolves only once `complete` brings the decision. The path is called
   * only when a human decides (not for an autonomous AI decision), so neither is the hook.
   */
  pathFor(requestId: string, input: unknown, onSetAside: () => void): HumanPath<string> {
    const { labels, delayMs, setAsideRate } = this.options;
    if (!setAside(requestId, setAsideRate)) return simulatedClerk(input, labels, delayMs);
    return () =>
      new Promise<string>((resolve) => {
        this.waiting.set(requestId, resolve);
        onSetAside();
      });
  }

  /** The clerk's decision on an invoice set aside; false when none waits under that request id. */
  complete(requestId: string, decision: string): boolean {
    const resolve = this.waiting.get(requestId);
    if (!resolve) return false;
    this.waiting.delete(requestId);
    resolve(decision);
    return true;
  }
}
