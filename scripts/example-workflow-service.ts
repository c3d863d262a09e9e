import type { AddressInfo } from 'node:net';
import { Shadowgate } from '@shadowgate/sdk';
import { createInvoiceService } from './example-workflow/invoice-service.js';

const USAGE = `An example workflow service (invoice triage) deciding through the Shadowgate SDK.

Usage: SHADOWGATE_API_KEY=<ingest key> npx tsx scripts/example-workflow-service.ts [--help]

  POST /invoices {requestId, input, context?}    decide an invoice: 200 the decision, 202 set aside
  POST /invoices/:requestId/decision {decision}  the clerk's decision on an invoice set aside
  GET  /invoices/:requestId                      the decision (200), or 202 while with the clerk
  GET  /stats                                    the SDK's counters (sent, retried, dropped, failed...)

  curl -XPOST localhost:8090/invoices -H 'content-type: application/json' \\
    -d '{"requestId":"inv-1","input":{"amount":120,"vendorVerified":true,"poNumber":"PO-1"},"context":{"riskTier":"low","region":"EU"}}'

Environment:
  SHADOWGATE_API_KEY      a Shadowgate API key with the ingest role (required)
  SHADOWGATE_URL          the controller (default http://127.0.0.1:8080); flags are read from its /api
  UNLEASH_URL             read the flags from this Unleash server instead, as the controller is given it,
  UNLEASH_CLIENT_TOKEN      with an Unleash client token
  USE_CASE                default invoice-triage
  HOST, PORT              where the service listens (default 127.0.0.1:8090)
  CLERK_DELAY_MS          the simulated clerk's time per invoice (default 50)
  SET_ASIDE_RATE          share of invoices the clerk sets aside for later, 0..1 (default 0)
  SUGGESTION_DEADLINE_MS  how long decide waits for an AI suggestion (default 1500)`;

/** Runs until SIGINT or SIGTERM, then closes the SDK (delivering what it buffered) and prints its counters. */
function main(): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  const apiKey = env.SHADOWGATE_API_KEY;
  if (!apiKey) {
    console.error(
      'example-workflow-service: set SHADOWGATE_API_KEY to a Shadowgate key with the ingest role (--help)',
    );
    process.exit(2);
  }
  const unleashUrl = env.UNLEASH_URL;
  const unleashToken = env.UNLEASH_CLIENT_TOKEN;
  if (unleashUrl && !unleashToken) {
    console.error('example-workflow-service: UNLEASH_URL needs UNLEASH_CLIENT_TOKEN (a client token)');
    process.exit(2);
  }
  const setAsideRate = Number(env.SET_ASIDE_RATE ?? 0);
  if (!(setAsideRate >= 0 && setAsideRate <= 1)) {
    console.error('example-workflow-service: SET_ASIDE_RATE must be a number from 0 to 1');
    process.exit(2);
  }
  const useCase = env.USE_CASE ?? 'invoice-triage';
  const sg = new Shadowgate({
    url: env.SHADOWGATE_URL ?? 'http://127.0.0.1:8080',
    apiKey,
    appName: 'example-invoice-service',
    ...(unleashUrl && unleashToken
      ? { unleash: { url: `${unleashUrl.replace(/\/+$/, '')}/api`, apiKey: unleashToken } }
      : {}),
    suggestionDeadlineMs: Number(env.SUGGESTION_DEADLINE_MS ?? 1500),
    onEvent: (event) => {
      const { type, ...rest } = event;
      console.log(
        `[shadowgate ${type}] ${JSON.stringify(rest, (k, v) => (k === 'requestIds' ? v.length : v))}`,
      );
    },
  });
  const app = createInvoiceService({
    sg,
    useCase,
    clerkDelayMs: Number(env.CLERK_DELAY_MS ?? 50),
    setAsideRate,
    log: (line) => console.log(line),
  });

  void sg.ready().then((fetched) => {
    console.log(
      fetched ? 'flags fetched' : 'flags not fetched yet: every use case is in shadow until they are',
    );
    const server = app.listen(Number(env.PORT ?? 8090), env.HOST ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      console.log(`example invoice service on http://127.0.0.1:${port} (use case ${useCase})`);
    });
    const stop = () => {
      server.close();
      void sg.close().then(() => {
        console.log(`stopped; ${JSON.stringify(sg.stats())}`);
        process.exit(0);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

main();
