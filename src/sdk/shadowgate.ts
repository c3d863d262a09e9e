import { performance } from 'node:perf_hooks';
import { ControllerClient, type SuggestionBody } from './controller-client.js';
import { ModeSource } from './mode-source.js';
import { Outbox } from './outbox.js';
import type { Entry, HumanSide } from './outbox-items.js';
import { type Listener, SdkEvents } from './sdk-events.js';
import type {
  AuditRequest,
  DecideOptions,
  DecisionContext,
  ScalarFields,
  DecideRequest,
  DecideResult,
  HumanDecision,
  HumanPath,
  Mode,
  ShadowgateEventType,
  ShadowgateOptions,
  ShadowgateStats,
  SuggestionRating,
} from './sdk-types.js';
import { MAX_BATCH } from './wire.js';

/** Consecutive unreachable-controller suggestions after which suggestions are skipped for a while. */
const BREAKER_THRESHOLD = 3;
const BREAKER_OPEN_MS = 2_000;

/**
 * The SDK a workflow service decides through. `decide` never throws because of
 * Shadowgate, Unleash, the network or the AI, and never waits for them longer than
 * the suggestion deadline; only the service's own human path can make it throw, and
 * then nothing is recorded for that request. Recording happens off the live path,
 * through a bounded buffer (see Outbox).
 */
export class Shadowgate {
  private readonly modes: ModeSource;
  private readonly client: ControllerClient;
  private readonly outbox: Outbox;
  private readonly events: SdkEvents;
  private readonly deadlineMs: number;
  private readonly earlyMirrorMs: number;
  private readonly readyTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly counts = { suggestionsLate: 0, suggestionsFailed: 0, auditErrors: 0 };
  private unreachableInARow = 0;
  private breakerOpenUntil = 0;
  private lastWarning = '';
  private closing: Promise<void> | undefined;

  /** Throws only on options that cannot work (a programming error, at start-up, not on the live path). */
  constructor(options: ShadowgateOptions) {
    for (const key of ['url', 'apiKey', 'appName'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') {
        throw new TypeError(`Shadowgate: options.${key} is required`);
      }
    }
    const url = options.url.replace(/\/+$/, '');
    this.events = new SdkEvents(options.onEvent);
    this.deadlineMs = positive(options.suggestionDeadlineMs, 1_500);
    this.earlyMirrorMs = Math.max(0, options.earlyMirrorMs ?? 1_000);
    this.readyTimeoutMs = positive(options.readyTimeoutMs, 3_000);
    this.closeTimeoutMs = positive(options.closeTimeoutMs, 5_000);
    this.client = new ControllerClient({
      url,
      apiKey: options.apiKey,
      requestTimeoutMs: positive(options.requestTimeoutMs, 10_000),
    });
    const maxItems = Math.floor(positive(options.buffer?.maxItems, 10_000));
    this.outbox = new Outbox({
      client: this.client,
      maxItems,
      batchSize: Math.floor(Math.min(positive(options.buffer?.batchSize, 500), MAX_BATCH, maxItems)),
      flushIntervalMs: positive(options.buffer?.flushIntervalMs, 1_000),
      retry: {
        baseMs: positive(options.retry?.baseMs, 200),
        maxMs: positive(options.retry?.maxMs, 30_000),
        maxAttempts: Math.floor(positive(options.retry?.maxAttempts, 8)),
      },
      emit: (event) => this.events.emit(event),
    });
    this.modes = new ModeSource({
      url: options.unleash?.url ?? `${url}/api`,
      apiKey: options.unleash?.apiKey ?? options.apiKey,
      appName: options.appName,
      refreshIntervalMs: positive(options.refreshIntervalMs, 10_000),
      ...(options.unleash?.backupPath ? { backupPath: options.unleash.backupPath } : {}),
      metrics: options.unleash !== undefined,
      onWarn: (message, error) => this.events.emit({ type: 'warn', message, error }),
    });
  }

  /**
   * Resolves once the flags were first fetched (true) or after `readyTimeoutMs` (false);
   * never rejects. Until flags arrive, every use case is in shadow.
   */
  ready(): Promise<boolean> {
    return this.modes.ready(this.readyTimeoutMs);
  }

  /** The mode the flag gives this request now (shadow when it cannot be read). */
  modeOf<C extends ScalarFields<C> = DecisionContext>(
    useCase: string,
    request: { requestId: string; context?: C },
  ): Mode {
    try {
      return this.modes.modeOf(useCase, request.requestId, request.context as DecisionContext | undefined);
    } catch (error) {
      this.warn(`flags: ${(error as Error)?.message ?? String(error)}`, error);
      return 'shadow';
    }
  }

  async decide<I, D, C extends ScalarFields<C> = DecisionContext>(
    useCase: string,
    request: DecideRequest<I, C>,
    humanPath: HumanPath<D>,
    options: DecideOptions<I, D, C> = {},
  ): Promise<DecideResult<D>> {
    const mode = this.modeOf(useCase, request as SdkRequest);
    if (mode === 'shadow' || mode === 'disabled') {
      // Disabled is the kill switch of the AI: no suggestion is asked for, but the human
      // decision is still mirrored (the controller owes no AI call outside shadow), so
      // volume and human cost keep being measured.
      const started = performance.now();
      let early: Entry | undefined;
      const timer =
        mode === 'shadow'
          ? setTimeout(() => {
              early = this.mirrorEarly(useCase, request as SdkRequest);
            }, this.earlyMirrorMs)
          : undefined;
      timer?.unref();
      let decision: D;
      try {
        decision = await humanPath({ suggestion: undefined, mode });
      } finally {
        clearTimeout(timer);
      }
      const human = this.humanSide(decision, started, options);
      if (early?.item.kind === 'mirror' && early.json === undefined) early.item.human = human;
      else this.record(useCase, request as SdkRequest, human, early !== undefined);
      return { decision, decidedBy: 'human', mode };
    }

    const { suggestion, delivered } = await this.suggest(useCase, request as SdkRequest);
    if (mode === 'limited-autonomous' && suggestion?.autonomous) {
      if (suggestion.audit && options.onAudit)
        this.handToAudit(useCase, request, suggestion, options.onAudit);
      const decision = suggestion.decision as D;
      return { decision, decidedBy: 'ai', mode, suggestion: decision };
    }
    const started = performance.now();
    const decision = await humanPath({
      suggestion: suggestion?.decision as D | undefined,
      ...(suggestion ? { confidence: suggestion.confidence } : {}),
      mode,
    });
    this.record(useCase, request as SdkRequest, this.humanSide(decision, started, options), delivered);
    if (!suggestion) return { decision, decidedBy: 'human', mode };
    const offered = { decision, decidedBy: 'human' as const, mode, suggestion: suggestion.decision as D };
    return suggestion.rate ? { ...offered, rate: true } : offered;
  }

  /**
   * People's rating of the AI's output for a request, for the judge's calibration (README "Is the
   * judge right?"). Buffered and sent like a human decision, retried while the controller is away
   * (and, a bounded number of times, while the decision it rates is not stored yet); never throws.
   * A rating the controller refuses for good (no judge, another rating stands) is a `failed` event.
   */
  rateSuggestion(useCase: string, requestId: string, rating: SuggestionRating): void {
    try {
      if (typeof rating?.acceptable !== 'boolean' || typeof rating.by !== 'string') {
        throw new TypeError('a rating is {acceptable: boolean, by: string}');
      }
      this.outbox.add({
        kind: 'rating',
        useCase,
        requestId,
        rating: { acceptable: rating.acceptable, by: rating.by },
      });
    } catch (error) {
      this.warn(`could not buffer the rating of ${requestId}`, error);
    }
  }

  /**
   * A human decision for a request already recorded: an audit's verdict, or a decision
   * taken after `decide` returned. Buffered like everything else; never throws.
   */
  recordHuman<D>(useCase: string, requestId: string, human: HumanDecision<D>): void {
    try {
      this.outbox.add({ kind: 'human', useCase, requestId, human: { ...human } });
    } catch (error) {
      this.warn(`could not buffer the human decision for ${requestId}`, error);
    }
  }

  /** Sends what is buffered now; resolves true when nothing is left, false after `timeoutMs`. Never rejects. */
  flush(timeoutMs = this.closeTimeoutMs): Promise<boolean> {
    return this.outbox.flush(timeoutMs).catch(() => false);
  }

  /** Flushes for up to `closeTimeoutMs`, drops (and counts) what is left, stops reading flags. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush(this.closeTimeoutMs);
      await this.outbox.stop();
      try {
        this.modes.close();
      } catch (error) {
        this.warn('flags: could not stop unleash-client', error);
      }
    })();
    return this.closing;
  }

  stats(): ShadowgateStats {
    return { ...this.outbox.counters, buffered: this.outbox.buffered, ...this.counts };
  }

  on<T extends ShadowgateEventType>(type: T, listener: Listener<T>): this {
    this.events.on(type, listener);
    return this;
  }

  off<T extends ShadowgateEventType>(type: T, listener: Listener<T>): this {
    this.events.off(type, listener);
    return this;
  }

  /**
   * Never throws and settles by the deadline. `suggestion` is undefined when none came in
   * time; `delivered` is false when the controller surely never saw the request (so it
   * holds no decision for it).
   */
  private async suggest(
    useCase: string,
    request: SdkRequest,
  ): Promise<{ suggestion?: SuggestionBody; delivered: boolean }> {
    if (Date.now() < this.breakerOpenUntil) {
      this.counts.suggestionsFailed += 1;
      return { delivered: false };
    }
    try {
      const body = JSON.stringify({
        requestId: request.requestId,
        input: request.input,
        context: request.context,
      });
      const outcome = await this.client.suggest(useCase, body, this.deadlineMs);
      if (outcome.kind === 'ok') {
        this.unreachableInARow = 0;
        return { suggestion: outcome.suggestion, delivered: true };
      }
      if (outcome.kind === 'late') {
        this.counts.suggestionsLate += 1;
        return { delivered: true };
      }
      this.counts.suggestionsFailed += 1;
      if (outcome.unreachable && ++this.unreachableInARow >= BREAKER_THRESHOLD) {
        // The controller is away: the next requests go straight to the human for a while.
        this.breakerOpenUntil = Date.now() + BREAKER_OPEN_MS;
        this.unreachableInARow = 0;
      }
      const status = outcome.status === null ? '' : `HTTP ${outcome.status}: `;
      this.warn(`suggestions for ${useCase} failed: ${status}${outcome.message}`);
      return { delivered: outcome.delivered };
    } catch (error) {
      this.counts.suggestionsFailed += 1;
      this.warn(`suggestions for ${useCase} failed`, error);
      return { delivered: true };
    }
  }

  /** Mirrors a request whose human is still deciding, so the AI's call need not wait for them. */
  private mirrorEarly(useCase: string, request: SdkRequest): Entry | undefined {
    try {
      const { requestId, input, context } = request;
      return this.outbox.add({ kind: 'mirror', useCase, requestId, input, ...(context ? { context } : {}) });
    } catch (error) {
      this.warn(`could not buffer request ${request.requestId}`, error);
      return undefined;
    }
  }

  private humanSide(decision: unknown, started: number, options: { decidedBy?: string }): HumanSide {
    const handlingMs = Math.round(performance.now() - started);
    return options.decidedBy === undefined
      ? { decision, handlingMs }
      : { decision, decidedBy: options.decidedBy, handlingMs };
  }

  /**
   * When the controller may hold the decision (a suggestion was asked for and may have
   * arrived), the human side is sent on its own, falling back to a mirror of the whole
   * request if the controller answers that it has none. Otherwise it is mirrored with the request.
   */
  private record(useCase: string, request: SdkRequest, human: HumanSide, mayBeStored: boolean): void {
    try {
      const { requestId, input, context } = request;
      this.outbox.add(
        mayBeStored
          ? { kind: 'human', useCase, requestId, human, fallback: { input, ...(context ? { context } : {}) } }
          : { kind: 'mirror', useCase, requestId, input, ...(context ? { context } : {}), human },
      );
    } catch (error) {
      this.warn(`could not buffer decision ${request.requestId}`, error);
    }
  }

  private handToAudit<I, D, C extends ScalarFields<C>>(
    useCase: string,
    request: DecideRequest<I, C>,
    suggestion: SuggestionBody,
    onAudit: NonNullable<DecideOptions<I, D, C>['onAudit']>,
  ): void {
    const audit: AuditRequest<I, D, C> = {
      useCase,
      requestId: request.requestId,
      input: request.input,
      context: request.context ?? {},
      decision: suggestion.decision as D,
      confidence: suggestion.confidence,
    };
    const failed = (error: unknown) => {
      this.counts.auditErrors += 1;
      this.events.emit({ type: 'warn', message: `the audit hook failed for ${request.requestId}`, error });
    };
    // Not on the live path's turn, and never awaited by it.
    setImmediate(() => {
      try {
        const result: unknown = onAudit(audit);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          Promise.resolve(result).catch(failed);
        }
      } catch (error) {
        failed(error);
      }
    });
  }

  /** Repeated warnings (one per request during an outage) are reported once until something else happens. */
  private warn(message: string, error?: unknown): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.events.emit(error === undefined ? { type: 'warn', message } : { type: 'warn', message, error });
  }
}

/** A request as the SDK handles it inside, whatever the service's own types. */
type SdkRequest = DecideRequest<unknown, DecisionContext>;

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
