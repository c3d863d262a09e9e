import { InMemStorageProvider, Unleash } from 'unleash-client';
import { type DecisionContext, flagName, MODES, type Mode, unleashContext } from './wire.js';

export interface ModeSourceOptions {
  /** The Unleash client API base (`…/api`): a real Unleash or the controller. */
  url: string;
  /** Sent raw in the Authorization header, as unleash-client does. */
  apiKey: string;
  appName: string;
  refreshIntervalMs: number;
  /** Keep the flags on disk (unleash-client's file backup); otherwise in memory only. */
  backupPath?: string;
  /** Send unleash-client's usage metrics (a real Unleash wants them; the controller drops them). */
  metrics: boolean;
  onWarn: (message: string, error?: unknown) => void;
}

const KNOWN = new Set<string>(MODES);

/**
 * The mode of a use case for one request, from a variant. Only an enabled flag with a
 * variant named after a mode counts: a missing flag (unleash-client answers
 * `disabled` with `enabled: false`), a flag switched off, or a variant with any other
 * name all mean shadow, the mode in which the workflow is exactly what it was.
 */
export function modeFromVariant(variant: {
  name?: unknown;
  enabled?: unknown;
  feature_enabled?: unknown;
}): Mode {
  if (variant.enabled !== true || variant.feature_enabled === false) return 'shadow';
  return typeof variant.name === 'string' && KNOWN.has(variant.name) ? (variant.name as Mode) : 'shadow';
}

/**
 * Reads modes locally with unleash-client: no network call on the live path. Until the
 * first flags arrive every use case is shadow; when Unleash becomes unreachable later,
 * the last flags seen stay in force.
 */
export class ModeSource {
  private readonly unleash: Unleash;
  private flagsLoaded = false;
  private lastWarning = '';
  private readonly firstSync: Promise<void>;

  constructor(options: ModeSourceOptions) {
    this.unleash = new Unleash({
      url: options.url,
      appName: options.appName,
      customHeaders: { Authorization: options.apiKey },
      refreshInterval: options.refreshIntervalMs,
      disableMetrics: !options.metrics,
      ...(options.backupPath
        ? { backupPath: options.backupPath }
        : { storageProvider: new InMemStorageProvider() }),
    });
    // Without an `error` listener, unleash-client's errors (e.g. a destroy before the first fetch) crash the process.
    const warn = (message: string, error?: unknown) => {
      if (message === this.lastWarning) return;
      this.lastWarning = message;
      options.onWarn(message, error);
    };
    this.unleash.on('error', (error: Error) => warn(`flags: ${error.message}`, error));
    this.unleash.on('warn', (message: unknown) => warn(`flags: ${String(message)}`));
    this.unleash.on('ready', () => {
      this.flagsLoaded = true;
    });
    this.firstSync = new Promise((resolve) => {
      this.unleash.once('synchronized', () => {
        this.flagsLoaded = true;
        this.lastWarning = '';
        resolve();
      });
      // A refused key stops unleash-client's polling for good: nothing more to wait for.
      this.unleash.on('error', (error: Error) => {
        if (/responded 40[13]\b/.test(error.message)) resolve();
      });
    });
  }

  /** True once flags were fetched (or read from a backup). */
  get loaded(): boolean {
    return this.flagsLoaded;
  }

  /** Resolves true when the first flags were fetched within `timeoutMs`, false otherwise; never rejects. */
  async ready(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    // Ref'd, unlike the background timers: `await sg.ready()` must settle, not end the process.
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.firstSync, timeout]);
    clearTimeout(timer);
    return this.unleash.isSynchronized();
  }

  modeOf(useCase: string, requestId: string, context: DecisionContext | undefined): Mode {
    if (!this.flagsLoaded) return 'shadow';
    return modeFromVariant(this.unleash.getVariant(flagName(useCase), unleashContext(requestId, context)));
  }

  close(): void {
    this.unleash.destroy();
    // destroy() removes every listener of unleash-client's repository, but a poll already in
    // flight still reports its failure (say, the flag server is down) through it: an `error`
    // event nobody listens to is thrown, and becomes an unhandled rejection in the host process.
    // A listener left behind swallows what comes after close.
    const repository = (this.unleash as unknown as { repository?: { on(e: string, f: () => void): void } })
      .repository;
    repository?.on('error', () => {});
  }
}
