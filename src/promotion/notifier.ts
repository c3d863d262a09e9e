import type { Logger } from 'pino';
import { DestinationPolicy } from '../egress/destination-policy.js';
import { EgressRefusedError } from '../egress/egress-refused-error.js';
import { GuardedHttp } from '../egress/guarded-http.js';
import { redact } from '../privacy/redact.js';
import { PATTERN_NAMES } from '../privacy/redaction-patterns.js';

export interface RolloutEvent {
  type:
    | 'stage.changed'
    | 'gate.eligible'
    | 'guard.tripped'
    | 'budget.exhausted'
    | 'drift.detected'
    | 'flag.repaired'
    | 'model.changed'
    | 'challenger.started'
    | 'challenger.eligible'
    | 'challenger.promoted'
    | 'challenger.discarded'
    | 'change.pending'
    | 'change.approved'
    | 'change.rejected';
  useCase: string;
  at: string;
  [key: string]: unknown;
}

export interface NotifierOptions {
  /** Where webhooks may go (default: the default policy, loopback and metadata refused). */
  destinations?: DestinationPolicy;
  /** Deadline of one delivery, answer included. */
  timeoutMs?: number;
  /** Events waiting or in delivery for one webhook; past it new ones are dropped (and logged). */
  maxQueuedPerWebhook?: number;
  /** The same, over every webhook of the process. */
  maxQueued?: number;
}

/**
 * Posts rollout events to the plan's webhook in the background: `notify` returns at once, so a
 * stage change never waits for a webhook. Each webhook gets its events one at a time, in order;
 * what waits is bounded per webhook and in all, and each delivery by a deadline. Best effort:
 * a failed delivery is logged, never retried. The request goes through the webhook destination
 * policy, a redirect (3xx) is a failed delivery, and logs name the webhook's origin only (its path
 * and query often carry a token).
 *
 * Events carry stages, criteria and counts, never a decision's input; the free text in them (a
 * release manager's reason) is masked by every redaction pattern before it is logged or sent.
 */
export class Notifier {
  readonly sent = { delivered: 0, failed: 0, dropped: 0 };
  private readonly http: GuardedHttp;
  private readonly timeoutMs: number;
  private readonly maxQueuedPerWebhook: number;
  private readonly maxQueued: number;
  /** Per webhook URL: how many events wait or are in delivery, and the end of its last one. */
  private readonly queues = new Map<string, { queued: number; tail: Promise<void> }>();
  private queued = 0;

  constructor(
    private readonly logger: Logger,
    options: NotifierOptions = {},
  ) {
    this.http = new GuardedHttp(
      options.destinations ?? new DestinationPolicy('SHADOWGATE_WEBHOOK_DESTINATIONS'),
    );
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.maxQueuedPerWebhook = options.maxQueuedPerWebhook ?? 20;
    this.maxQueued = options.maxQueued ?? 1000;
  }

  /** Logs the event and queues its delivery; never waits for the webhook, never throws. */
  notify(webhook: string | undefined, raw: RolloutEvent): void {
    const event = redact(raw, { patterns: PATTERN_NAMES }) as RolloutEvent;
    this.logger.info({ event }, `rollout event ${event.type}`);
    if (!webhook) return;
    const queue = this.queues.get(webhook) ?? { queued: 0, tail: Promise.resolve() };
    if (queue.queued >= this.maxQueuedPerWebhook || this.queued >= this.maxQueued) {
      this.sent.dropped++;
      this.logger.warn(
        { webhook: originOf(webhook), useCase: event.useCase, type: event.type, queued: queue.queued },
        'webhook delivery dropped: too many deliveries waiting',
      );
      return;
    }
    queue.queued++;
    this.queued++;
    this.queues.set(webhook, queue);
    queue.tail = queue.tail
      .then(() => this.deliver(webhook, event))
      .finally(() => {
        this.queued--;
        if (--queue.queued === 0) this.queues.delete(webhook);
      });
  }

  /** Resolves once every delivery queued so far has ended (each is bounded by the deadline). */
  async settled(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  private async deliver(webhook: string, event: RolloutEvent): Promise<void> {
    try {
      const status = await this.post(new URL(webhook), JSON.stringify(event));
      if (status >= 300 && status <= 399) throw new Error(`HTTP ${status}: redirects are not followed`);
      if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
      this.sent.delivered++;
    } catch (error) {
      this.sent.failed++;
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        { webhook: originOf(webhook), useCase: event.useCase, type: event.type, reason },
        'webhook delivery failed',
      );
    }
  }

  /** The answer's status; the body is discarded unread. */
  private post(url: URL, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      let request: ReturnType<GuardedHttp['request']>;
      try {
        request = this.http.request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'shadowgate',
          },
        });
      } catch (error) {
        reject(error instanceof EgressRefusedError ? error : new Error(describe(error)));
        return;
      }
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(describe(error)));
      });
      request.on('response', (response) => {
        clearTimeout(timer);
        response.resume();
        request.destroy();
        resolve(response.statusCode ?? 0);
      });
      request.end(body);
    });
  }
}

/** What a log may say of a webhook: scheme, host and port; never its path or query. */
export function originOf(webhook: string): string {
  try {
    return new URL(webhook).origin;
  } catch {
    return '(not a URL)';
  }
}

/** A Node error's code and message; its message never quotes the URL's path. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}
