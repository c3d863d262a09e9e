/** Rollout plans of the fault cases: the invoice labels, the simulated AI at `aiUrl`, short timeouts. */

export const LABELS = ['approve', 'reject', 'escalate'];

export interface PlanOptions {
  /** Shadow calls in flight per controller process (default 8). */
  concurrency?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  /** Shadow calls started per second for the use case, across processes. */
  rateLimitPerSecond?: number;
  /** YAML of `stages:` entries, indented by two spaces (default: shadow only). */
  stages?: string;
  /** The plan's `challenger:` settings as a YAML flow mapping, e.g. `{ approval: manual }` (default: none). */
  challenger?: string;
}

/**
 * The lease of a claimed call is `timeoutMs × maxAttempts` + 15 s: short timeouts keep the
 * wait for a call that was in flight when a process died short as well.
 */
export function faultPlan(useCase: string, aiUrl: string, options: PlanOptions = {}): string {
  return `useCase: ${useCase}
owner: faults@example.com
description: fault suite
decision: { type: label, labels: [${LABELS.join(', ')}] }
comparator: { type: exact }
ai:
  adapter: http
  url: ${aiUrl}/decide
  timeoutMs: ${options.timeoutMs ?? 1000}
  maxAttempts: ${options.maxAttempts ?? 2}
  concurrency: ${options.concurrency ?? 8}
${options.rateLimitPerSecond === undefined ? '' : `  rateLimitPerSecond: ${options.rateLimitPerSecond}\n`}  pricing: { perCall: 0.0001, inputPerMTok: 0.15, outputPerMTok: 0.6 }
humanCostPerDecision: 1.8
segments: [region]
stages:
${options.stages ?? '  shadow: {}'}
${options.challenger === undefined ? '' : `challenger: ${options.challenger}\n`}`;
}
