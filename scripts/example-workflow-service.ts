import type { AddressInfo } from 'node:net';
import { Shadowgate } from '../src/sdk/index.js';
import { createInvoiceService } from './example-workflow/invoice-service.js';

/**
 * An example workflow service (invoice triage) deciding through the Shadowgate SDK.
 *
 *   SHADOWGATE_API_KEY=<ingest key> tsx scripts/example-workflow-service.ts
 *   curl -XPOST localhost:8090/invoices -H 'content-type: application/json' \
 *     -d '{"requestId":"inv-1","input":{"amount":120,"vendorVerified":true,"poNumber":"PO-1"},"context":{"riskTier":"low","region":"EU"}}'
 *
 * Environment: SHADOWGATE_URL (default http://127.0.0.1:8080), SHADOWGATE_API_KEY (an
 * ingest key, required), USE_CASE (default invoice-triage), PORT (default 8090),
 * CLERK_DELAY_MS (default 50), SUGGESTION_DEADLINE_MS (default 1500); UNLEASH_URL
 * (the Unleash server, as the controller is given it) with UNLEASH_CLIENT_TOKEN to
 * read flags from Unleash instead of the controller.
 */
function main(): void {
  const env = process.env;
  const apiKey = env.SHADOWGATE_API_KEY;
  if (!apiKey) {
    console.error(
      'example-workflow-service: set SHADOWGATE_API_KEY to a Shadowgate key with the ingest role',
    );
    process.exit(2);
  }
  const unleashUrl = env.UNLEASH_URL;
  const unleashToken = env.UNLEASH_CLIENT_TOKEN;
  if (unleashUrl && !unleashToken) {
    console.error('example-workflow-service: UNLEASH_URL needs UNLEASH_CLIENT_TOKEN (a client token)');
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
