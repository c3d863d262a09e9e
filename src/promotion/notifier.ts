import type { Logger } from 'pino';
import { redact } from '../privacy/redact.js';
import { PATTERN_NAMES } from '../privacy/redaction-patterns.js';

export interface RolloutEvent {
  type: 'stage.changed' | 'gate.eligible' | 'guard.tripped' | 'budget.exhausted' | 'flag.repaired';
  useCase: string;
  at: string;
  [key: string]: unknown;
}

/**
 * Posts rollout events to the plan's webhook: best effort, bounded in time, never blocking a decision.
 * Events carry stages, criteria and counts, never a decision's input; the free text in them (a
 * release manager's reason) is masked by every redaction pattern before it is logged or sent.
 */
export class Notifier {
  readonly sent = { delivered: 0, failed: 0 };

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 3000,
  ) {}

  async notify(webhook: string | undefined, raw: RolloutEvent): Promise<void> {
    const event = redact(raw, { patterns: PATTERN_NAMES }) as RolloutEvent;
    this.logger.info({ event }, `rollout event ${event.type}`);
    if (!webhook) return;
    try {
      const response = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'shadowgate' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.sent.delivered++;
    } catch (error) {
      this.sent.failed++;
      this.logger.warn({ err: error, webhook, type: event.type }, 'webhook delivery failed');
    }
  }
}
