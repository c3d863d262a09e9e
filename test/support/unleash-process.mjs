// Child-process entry for test/support/unleash-server.ts: runs a real unleash-server
// on the database and port given as JSON in argv[2], prints `UNLEASH_READY <port>` on
// stdout once it listens, and exits when its parent goes away (IPC disconnect), so an
// aborted test run leaves no server behind.
import { start } from 'unleash-server';

const { databaseUrl, port, adminToken, clientToken, environment } = JSON.parse(process.argv[2] ?? '{}');

process.on('disconnect', () => process.exit(0));

try {
  await start({
    databaseUrl,
    db: { ssl: false, pool: { min: 0, max: 4 } },
    server: { port, host: '127.0.0.1', gracefulShutdownEnable: false },
    versionCheck: { enable: false },
    telemetry: false,
    logLevel: 'warn',
    authentication: {
      initApiTokens: [
        { environment: '*', projects: ['*'], secret: adminToken, type: 'admin', tokenName: 'admin' },
        { environment, projects: ['*'], secret: clientToken, type: 'client', tokenName: 'client' },
      ],
    },
  });
  process.stdout.write(`UNLEASH_READY ${port}\n`);
} catch (error) {
  process.stderr.write(`unleash-server failed to start: ${error?.stack ?? error}\n`);
  process.exit(1);
}
