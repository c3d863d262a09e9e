import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { unitHash } from '../../src/contracts/sampling.js';
import type { AuditRequest, HumanPath, Shadowgate } from '../../src/sdk/index.js';
import {
  type InvoiceContext,
  type InvoiceInput,
  referenceLabel,
} from '../../src/simulation/reference-labeler.js';

/**
 * An EXAMPLE workflow service: invoice triage that decides every invoice through the
 * Shadowgate SDK, as a real service would. The "human" is SIMULATED: a clerk who
 * decides by the reference policy after a short delay, and an auditor who does the
 * same for autonomous decisions drawn for audit and sends the verdict back late.
 */

export interface InvoiceServiceOptions {
  sg: Shadowgate;
  useCase: string;
  labels?: string[];
  /** How long the simulated clerk takes per invoice. */
  clerkDelayMs?: number;
  /** How long the simulated auditor takes before sending a verdict. */
  auditDelayMs?: number;
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

export interface TriageAnswer {
  requestId: string;
  decision: string;
  decidedBy: 'human' | 'ai';
  mode: string;
  suggestion?: string;
}

/** The simulated clerk: the reference label after `delayMs`, whatever the suggestion says. */
export function simulatedClerk(input: InvoiceInput, labels: string[], delayMs: number): HumanPath<string> {
  return async () => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return referenceLabel(input, labels);
  };
}

/** One of six simulated clerks, always the same one for a request. */
export function clerkOf(requestId: string): string {
  return `simulated-clerk-${1 + Math.floor(unitHash(requestId, 'clerk') * 6)}`;
}

export function createInvoiceService(options: InvoiceServiceOptions): Express {
  const { sg, useCase } = options;
  const labels = options.labels ?? ['approve', 'reject', 'escalate'];
  const clerkDelayMs = options.clerkDelayMs ?? 50;
  const auditDelayMs = options.auditDelayMs ?? 200;
  const log = options.log ?? (() => {});

  const audit = (request: AuditRequest<InvoiceInput, string, InvoiceContext>) => {
    // The auditor's verdict comes back later, through the late-human call.
    setTimeout(() => {
      const verdict = referenceLabel(request.input, labels);
      sg.recordHuman(useCase, request.requestId, { decision: verdict, decidedBy: 'simulated-auditor' });
      log(`audit ${request.requestId}: AI said ${request.decision}, auditor says ${verdict}`);
    }, auditDelayMs).unref();
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
    const input = parsed.data.input as unknown as InvoiceInput;
    const out = await sg.decide<InvoiceInput, string, InvoiceContext>(
      useCase,
      { requestId, input, ...(context ? { context: context as unknown as InvoiceContext } : {}) },
      simulatedClerk(input, labels, clerkDelayMs),
      { onAudit: audit, decidedBy: clerkOf(requestId) },
    );
    const answer: TriageAnswer = { requestId, ...out };
    res.json(answer);
  });

  app.get('/stats', (_req, res) => {
    res.json(sg.stats());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}
