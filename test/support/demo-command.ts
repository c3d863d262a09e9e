/**
 * How the tests start `npm run demo`: one node process with tsx's loader, not under the tsx CLI.
 * The CLI relays a Ctrl-C to its child and, when the child has not answered within 30 ms (a loaded
 * machine), kills it and exits 130, so a kept demo stopped by SIGINT would seem to fail.
 */
export const DEMO_COMMAND = [process.execPath, '--import', 'tsx', 'scripts/demo.ts'] as const;
