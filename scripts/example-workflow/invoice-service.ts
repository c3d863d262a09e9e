import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditRequest, Shadowgate } from '@shadowgate/sdk';
import { type InvoiceContext, type InvoiceInput, referenceLabel } from '../simulation/reference-labeler.js';
import { ClerkDesk, clerkOf } from './clerk-desk.js';

export { clerkOf, simulatedClerk } from './clerk-desk.js';

/**
 * An EXAMPLE workflow service: invoice triage that decides every invoice through the
 * Shadowgate SDK, as a real service would. The humans are SIMULATED (see ClerkDesk):
 * clerks who decide by the reference policy, most at once and some later, and an
 * auditor who does the same for autonomous decisions drawn for audit and sends the
 * verdict back late.
 *
 *   POST /invoices {requestId, input, context?}   200 the decision, or 202 when a clerk set it aside
 *   POST /invoices/:requestId/decision {decision} the clerk's decision on an invoice set aside
 *   GET  /invoices/:requestId                     200 the decision, 202 while with the clerk, 404
 *   GET  /stats                                   the SDK's counters, and the service's own under `service`
 *
 * A request is decided once per request id: a retry gets the answer of the first
 * (header `Idempotent-Replayed: true`), so no clerk decides twice and the SDK records
 * the decision once; the same request id with another invoice is refused with 409.
 */

export interface InvoiceServiceOptions {
  sg: Shadowgate;
  useCase: string;
  labels?: string[];
  /** How long the simulated clerk takes per invoice decided at once (default 50 ms). */
  clerkDelayMs?: number;
  /** Share of invoices the clerks set aside for later, 0..1 (default 0). */
  setAsideRate?: number;
  /** The clerks; made from `labels`, `clerkDelayMs` and `setAsideRate` when not given. */
  desk?: ClerkDesk;
  /** How long the simulated auditor takes before sending a verdict. */
  auditDelayMs?: number;
  /** Answers kept for retries (default 10,000); beyond it the oldest decided ones are forgotten. */
  rememberAnswers?: number;
  log?: (line: string) => void;
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const invoiceRequestSchema = z.object({
  requestId: z.string().min(1).max(200),
  input: z
    .object({ amount: z.number(), vendorVerified: z.boolean(), poNumber: z.string().nullable() })
    .passthrough(),
  context: z.record(z.string(), scalar).optional(),
});
const clerkDecisionSchema = z.object({ decision: z.string() });

export interface TriageAnswer {
  requestId: string;
  decision: string;
  decidedBy: 'human' | 'ai';
  mode: string;
  suggestion?: string;
}

export interface AwaitingClerk {
  requestId: string;
  status: 'awaiting-clerk';
}

/** One request id's triage: settled once `decided` is set. */
interface Triage {
  fingerprint: string;
  answer: Promise<TriageAnswer>;
  /** Resolves if a clerk sets the invoice aside (never, otherwise). */
  setAside: Promise<void>;
  decided?: TriageAnswer;
}

export function createInvoiceService(options: InvoiceServiceOptions): Express {
  const { sg, useCase } = options;
  const labels = options.labels ?? options.desk?.options.labels ?? ['approve', 'reject', 'escalate'];
  const desk =
    options.desk ??
    new ClerkDesk({
      labels,
      delayMs: options.clerkDelayMs ?? 50,
      setAsideRate: options.setAsideRate ?? 0,
    });
  const auditDelayMs = options.auditDelayMs ?? 200;
  const remember = options.rememberAnswers ?? 10_000;
  const log = options.log ?? (() => {});
  const triages = new Map<string, Triage>();
  const counts = { answered: 0, setAside: 0, replayed: 0 };

  const audit = (request: AuditRequest<InvoiceInput, string, InvoiceContext>) => {
    // The auditor's verdict comes back later, through the late-human call.
    setTimeout(() => {
      const verdict = referenceLabel(request.input, labels);
      sg.recordHuman(useCase, request.requestId, { decision: verdict, decidedBy: 'simulated-auditor' });
      log(`audit ${request.requestId}: AI said ${request.decision}, auditor says ${verdict}`);
    }, auditDelayMs).unref();
  };

  const triage = (requestId: string, input: InvoiceInput, context: InvoiceContext | undefined) => {
    let onSetAside = () => {};
    const setAside = new Promise<void>((resolve) => {
      onSetAside = () => {
        counts.setAside++;
        resolve();
      };
    });
    const answer = sg
      .decide<InvoiceInput, string, InvoiceContext>(
        useCase,
        { requestId, input, ...(context ? { context } : {}) },
        desk.pathFor(requestId, input, onSetAside),
        { onAudit: audit, decidedBy: clerkOf(requestId) },
      )
      .then((out): TriageAnswer => ({ requestId, ...out }));
    return { answer, setAside };
  };

  const forgetOldest = () => {
    for (const [id, t] of triages) {
      if (triages.size <= remember) return;
      // Only decided ones: an invoice still with a clerk must stay findable.
      if (t.decided) triages.delete(id);
    }
  };

  /** 200 with the decision once made, or 202 as soon as a clerk sets the invoice aside. */
  const reply = async (res: Response, requestId: string, t: Triage) => {
    const first = t.decided ?? (await Promise.race([t.answer, t.setAside.then(() => null)]));
    if (first) {
      res.json(first);
      return;
    }
    const body: AwaitingClerk = { requestId, status: 'awaiting-clerk' };
    res.status(202).json(body);
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));

  app.post('/invoices', async (req: Request, res: Response) => {
    const parsed = invoiceRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'bad_request', message: 'expected {requestId, input, context?}' });
      return;
    }
    const { requestId, context } = parsed.data;
    const fingerprint = JSON.stringify([parsed.data.input, context ?? null]);
    const known = triages.get(requestId);
    if (known) {
      if (known.fingerprint !== fingerprint) {
        res.status(409).json({
          error: 'conflict',
          message: `request ${requestId} was sent before with another invoice`,
        });
        return;
      }
      counts.replayed++;
      res.setHeader('idempotent-replayed', 'true');
      await reply(res, requestId, known);
      return;
    }
    const input = parsed.data.input as unknown as InvoiceInput;
    const t: Triage = {
      fingerprint,
      ...triage(requestId, input, context as unknown as InvoiceContext | undefined),
    };
    triages.set(requestId, t);
    forgetOldest();
    t.answer.then(
      (answer) => {
        t.decided = answer;
        counts.answered++;
      },
      // Only the human path can make decide throw; a retry may try again.
      () => triages.delete(requestId),
    );
    await reply(res, requestId, t);
  });

  app.post('/invoices/:requestId/decision', async (req: Request, res: Response) => {
    const requestId = String(req.params.requestId);
    const parsed = clerkDecisionSchema.safeParse(req.body);
    if (!parsed.success || !labels.includes(parsed.data.decision)) {
      res.status(400).json({ error: 'bad_request', message: `expected {decision: ${labels.join(' | ')}}` });
      return;
    }
    const t = triages.get(requestId);
    if (!t || !desk.complete(requestId, parsed.data.decision)) {
      const [status, message] = t?.decided
        ? [409, `invoice ${requestId} is already decided`]
        : [404, `no invoice ${requestId} awaits a clerk`];
      res.status(status).json({ error: status === 409 ? 'conflict' : 'not_found', message });
      return;
    }
    res.json(await t.answer);
  });

  app.get('/invoices/:requestId', (req: Request, res: Response) => {
    const requestId = String(req.params.requestId);
    const t = triages.get(requestId);
    if (!t) res.status(404).json({ error: 'not_found', message: `no invoice ${requestId} here` });
    else if (t.decided) res.json(t.decided);
    else res.status(202).json({ requestId, status: 'awaiting-clerk' } satisfies AwaitingClerk);
  });

  app.get('/stats', (_req, res) => {
    res.json({ ...sg.stats(), service: { ...counts, awaitingClerk: desk.awaiting } });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}
