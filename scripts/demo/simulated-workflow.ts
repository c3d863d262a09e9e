import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';

/**
 * The SIMULATED upstream of the example service: synthetic invoices sent to its
 * `POST /invoices` a number at a time, as the system feeding a triage service
 * would, and the clerk who later decides the invoices set aside (through the
 * service's `POST /invoices/:requestId/decision`, as a clerk's work queue would).
 * Each invoice is sent with its own id as the request id, so a retry is the same request.
 */

export interface WorkflowPlan {
  serviceUrl: string;
  labels: string[];
  decisions: number;
  /** The number of the first invoice sent (default 0): invoices first .. first + decisions − 1. */
  first?: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface SendProgress {
  sent: number;
  setAside: number;
}

export interface SendReport extends SendProgress {
  /** Decided while the request waited (200). */
  decided: number;
  /** Invoice numbers the clerk set aside (202), with when the service answered. */
  setAsideAt: Map<number, number>;
  /** The decision each invoice got, by invoice number; none yet for those set aside. */
  answers: Map<number, string>;
  /** Who decided each invoice, in which mode, with which suggestion (as the service answered). */
  decidedHow: Map<number, Answered>;
  /** How long the service took to answer each request, ms, ascending. */
  answerMs: number[];
}

export interface ResendReport {
  resent: number;
  /** Answered with the decision the invoice got the first time. */
  same: number;
  /** Still with the clerk: 202 again. */
  stillWithClerk: number;
  /** Answered with another decision than the first time (a broken service; never expected). */
  different: number;
  /** Answers the service marked as replays of an earlier request. */
  replayed: number;
}

export interface ClerkReport {
  decided: number;
  /** How long the invoices waited for the clerk, from the service's 202 to the decision, ms. */
  waitedMs: { min: number; max: number };
}

interface Reply {
  status: number;
  replayed: boolean;
  body: {
    decision?: string;
    status?: string;
    message?: string;
    decidedBy?: string;
    mode?: string;
    suggestion?: string;
  };
}

/** The service's answer for one decided invoice. */
export interface Answered {
  decision: string;
  decidedBy: 'human' | 'ai';
  mode: string;
  suggestion?: string;
}

function answered(body: Reply['body']): Answered {
  return {
    decision: String(body.decision),
    decidedBy: body.decidedBy === 'ai' ? 'ai' : 'human',
    mode: String(body.mode),
    ...(body.suggestion === undefined ? {} : { suggestion: body.suggestion }),
  };
}

/** Connection failures after which a request is sent again: the service answers a resend once (by requestId). */
const DROPPED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const RESENDS = 3;

/**
 * POSTs once, or again when the connection dropped before an answer: on a busy machine a kept-alive
 * socket the service has just closed is reused by fetch ("other side closed"), a request that never
 * reached it. The service is idempotent per requestId, so a resend is answered as the first was.
 */
async function send(url: string, body: unknown): Promise<globalThis.Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      if (attempt < RESENDS && cause?.code && DROPPED.has(cause.code)) continue;
      const why = cause
        ? ` (${cause.code ?? ''}${cause.code && cause.message ? ': ' : ''}${cause.message ?? ''})`
        : '';
      throw new Error(`POST ${new URL(url).pathname}: ${(error as Error).message}${why}`);
    }
  }
}

async function post(url: string, body: unknown): Promise<Reply> {
  const response = await send(url, body);
  const text = await response.text();
  const parsed = text === '' ? {} : (JSON.parse(text) as Reply['body']);
  if (response.status !== 200 && response.status !== 202) {
    throw new Error(`POST ${new URL(url).pathname} → ${response.status}: ${parsed.message ?? text}`);
  }
  return { status: response.status, replayed: response.headers.has('idempotent-replayed'), body: parsed };
}

/** Runs `work` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

export async function sendInvoices(
  plan: WorkflowPlan,
  onProgress: (p: SendProgress) => void = () => {},
): Promise<SendReport> {
  const report: SendReport = {
    sent: 0,
    setAside: 0,
    decided: 0,
    setAsideAt: new Map(),
    answers: new Map(),
    decidedHow: new Map(),
    answerMs: [],
  };
  await eachLimited(range(plan.decisions, plan.first), plan.concurrency, async (i) => {
    const started = performance.now();
    const reply = await post(`${plan.serviceUrl}/invoices`, makeInvoice(i));
    report.answerMs.push(performance.now() - started);
    report.sent++;
    if (reply.status === 202) {
      report.setAside++;
      report.setAsideAt.set(i, Date.now());
    } else {
      report.decided++;
      report.answers.set(i, String(reply.body.decision));
      report.decidedHow.set(i, answered(reply.body));
    }
    onProgress({ sent: report.sent, setAside: report.setAside });
  });
  report.answerMs.sort((a, b) => a - b);
  return report;
}

/** Sends invoices 0..count-1 again, as a client that timed out and retried would. */
export async function resendInvoices(
  plan: WorkflowPlan,
  count: number,
  answers: ReadonlyMap<number, string>,
): Promise<ResendReport> {
  const report: ResendReport = { resent: 0, same: 0, stillWithClerk: 0, different: 0, replayed: 0 };
  await eachLimited(range(Math.min(count, plan.decisions)), plan.concurrency, async (i) => {
    const reply = await post(`${plan.serviceUrl}/invoices`, makeInvoice(i));
    report.resent++;
    if (reply.replayed) report.replayed++;
    if (reply.status === 202) report.stillWithClerk++;
    else if (reply.body.decision === answers.get(i)) report.same++;
    else report.different++;
  });
  return report;
}

/**
 * The clerk decides each invoice set aside, by the same policy as the service's clerks, a few at a
 * time; `decidedHow`, when given, gets the service's answer for each.
 */
export async function clerkDecidesLater(
  plan: WorkflowPlan,
  setAsideAt: ReadonlyMap<number, number>,
  answers: Map<number, string>,
  parallel = 8,
  decidedHow?: Map<number, Answered>,
): Promise<ClerkReport> {
  const report: ClerkReport = { decided: 0, waitedMs: { min: Infinity, max: 0 } };
  await eachLimited([...setAsideAt.keys()], parallel, async (i) => {
    const invoice = makeInvoice(i);
    const decision = referenceLabel(invoice.input, plan.labels);
    const reply = await post(
      `${plan.serviceUrl}/invoices/${encodeURIComponent(invoice.requestId)}/decision`,
      {
        decision,
      },
    );
    const waited = Date.now() - setAsideAt.get(i)!;
    report.waitedMs.min = Math.min(report.waitedMs.min, waited);
    report.waitedMs.max = Math.max(report.waitedMs.max, waited);
    report.decided++;
    answers.set(i, String(reply.body.decision));
    decidedHow?.set(i, answered(reply.body));
  });
  if (report.decided === 0) report.waitedMs.min = 0;
  return report;
}

/** The value at quantile q (0..1) of ascending values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? sorted[0]!;
}
