import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HumanPath, type Mode, Shadowgate, type ShadowgateEvent } from '@shadowgate/sdk';
import { ClerkDesk } from '../example-workflow/clerk-desk.js';
import { createInvoiceService } from '../example-workflow/invoice-service.js';

/**
 * The example workflow service (scripts/example-workflow-service.ts's app) run in the
 * demo's process on a free loopback port, its SDK pointed at the controller and
 * reading the flags from the controller's `/api` with the ingest key, as a real
 * service would be deployed. Only the clerks are the demo's: quick, and setting
 * one invoice in ten aside for later.
 */

export const DEMO_CLERK_MS = 10;
export const DEMO_SET_ASIDE_RATE = 0.1;
const APP_NAME = 'demo-example-service';

export interface DemoServiceOptions {
  controllerUrl: string;
  /** A key with the ingest role. */
  apiKey: string;
  useCase: string;
  labels: string[];
  /** The SDK's `buffer.batchSize`. */
  batch: number;
  /** Answers the service keeps for retries: the demo resends invoices it sent long before. */
  rememberAnswers: number;
  /** How often the SDK polls the flags (the SDK's default, 10 s, unless set: the journey polls each second). */
  refreshIntervalMs?: number;
}

/** What the human path was handed for one invoice: the AI's suggestion and confidence, if any came. */
export interface HandedToClerk {
  suggestion?: string;
  confidence?: number | null;
  mode: Mode;
}

/** The demo's clerks, who also note what the SDK handed them, so the demo can say why a person decided. */
export class NotingClerkDesk extends ClerkDesk {
  readonly handed = new Map<string, HandedToClerk>();

  override pathFor(requestId: string, input: unknown, onSetAside: () => void): HumanPath<string> {
    const path = super.pathFor(requestId, input, onSetAside);
    return (ctx) => {
      this.handed.set(requestId, {
        mode: ctx.mode,
        ...(ctx.suggestion === undefined ? {} : { suggestion: ctx.suggestion }),
        ...(ctx.confidence === undefined ? {} : { confidence: ctx.confidence }),
      });
      return path(ctx);
    };
  }
}

export interface DemoService {
  url: string;
  sg: Shadowgate;
  desk: NotingClerkDesk;
  /** Whether the SDK had the flags before its ready timeout (else it decides in shadow until it has). */
  flagsFetched: boolean;
  /** The mode the flag gives the use case, as the SDK reads it. */
  mode: Mode;
  appName: string;
  /** Autonomous decisions the controller drew for audit, with the simulated auditor's verdict. */
  audits: Array<{ requestId: string; ai: string; auditor: string }>;
  /** What the SDK reported through `onEvent`, by type (a clean run reports nothing). */
  events: Map<ShadowgateEvent['type'], { count: number; first: string }>;
  /** Stops taking invoices, then `sg.close()`, which delivers what the SDK still holds. Once. */
  stop(): Promise<void>;
}

/** How long the simulated auditor takes before the verdict on an autonomous decision comes back. */
export const DEMO_AUDIT_MS = 50;

/** How long the SDK waits for the clerk before it mirrors the invoice alone. */
export const DEMO_EARLY_MIRROR_MS = 100;

export async function startDemoService(options: DemoServiceOptions): Promise<DemoService> {
  const events: DemoService['events'] = new Map();
  const sg = new Shadowgate({
    url: options.controllerUrl,
    apiKey: options.apiKey,
    appName: APP_NAME,
    buffer: { batchSize: options.batch },
    ...(options.refreshIntervalMs === undefined ? {} : { refreshIntervalMs: options.refreshIntervalMs }),
    // The clerk's quick decisions (10 ms) go out with their invoice; an invoice set aside is
    // mirrored after 0.1 s without one, so the AI answers before the clerk has decided.
    earlyMirrorMs: DEMO_EARLY_MIRROR_MS,
    // A demo can wait for the controller at the end, however loaded the machine: nothing is left.
    closeTimeoutMs: 60_000,
    onEvent: (event) => {
      const seen = events.get(event.type);
      if (seen) seen.count += 1;
      else events.set(event.type, { count: 1, first: describe(event) });
    },
  });
  const desk = new NotingClerkDesk({
    labels: options.labels,
    delayMs: DEMO_CLERK_MS,
    setAsideRate: DEMO_SET_ASIDE_RATE,
  });
  const audits: DemoService['audits'] = [];
  const app = createInvoiceService({
    sg,
    useCase: options.useCase,
    desk,
    rememberAnswers: options.rememberAnswers,
    // The service tells each audit in one line (invoice-service.ts); the demo counts them.
    auditDelayMs: DEMO_AUDIT_MS,
    log: (line) => {
      const audit = /^audit (\S+): AI said (\S+), auditor says (\S+)$/.exec(line);
      if (audit) audits.push({ requestId: audit[1]!, ai: audit[2]!, auditor: audit[3]! });
    },
  });
  const server = createServer(app);
  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await sg.close();
    })();
    return stopped;
  };
  try {
    const flagsFetched = await sg.ready();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const mode = sg.modeOf(options.useCase, { requestId: 'demo-probe' });
    return {
      url: `http://127.0.0.1:${port}`,
      sg,
      desk,
      flagsFetched,
      mode,
      appName: APP_NAME,
      audits,
      events,
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

function describe(event: ShadowgateEvent): string {
  switch (event.type) {
    case 'warn':
      return event.message;
    case 'retry':
    case 'failed':
      return event.reason;
    case 'dropped':
      return `${event.count} dropped (${event.reason})`;
  }
}
