import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { databaseUrl, PG_ADMIN_URL, PG_HINT } from './services.js';

export interface TestUnleash {
  /** Base URL of the server, e.g. http://127.0.0.1:41234 (the client API is `${url}/api`). */
  url: string;
  adminToken: string;
  /** A client token for the `development` environment. */
  clientToken: string;
  environment: string;
  /** Kills the server: its port refuses connections until `restart()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and database. */
  restart(): Promise<void>;
  /** Stops the server and drops its database. */
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./unleash-process.mjs', import.meta.url));
const ENVIRONMENT = 'development';
const TOKENS = {
  adminToken: '*:*.shadowgate-test-admin-secret',
  clientToken: `*:${ENVIRONMENT}.shadowgate-test-client-secret`,
};
const READY = /^UNLEASH_READY (\d+)$/m;
const START_TIMEOUT_MS = 60_000;

/**
 * A real unleash-server 7.5.1 in a child process, on its own PostgreSQL database
 * (`sg_unleash_<random>`) and a free port. A child process makes `stop()` real: the
 * port is closed, as it is when Unleash is down in production.
 */
export async function startUnleashServer(): Promise<TestUnleash> {
  const template = await migratedTemplate();
  const database = `sg_unleash_${randomBytes(6).toString('hex')}`;
  await withAdmin((sql) => sql.unsafe(`create database "${database}" template "${template}"`));
  const port = await freePort();
  const environment = ENVIRONMENT;
  const settings = { databaseUrl: databaseUrl(database), port, environment, ...TOKENS };

  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    const running = child;
    child = undefined;
    if (running) await terminate(running);
  };
  const launch = async () => {
    child = await spawnUnleash(JSON.stringify(settings));
  };

  try {
    await launch();
  } catch (error) {
    process.off('exit', killOnExit);
    await dropDatabase(database);
    throw error;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    adminToken: settings.adminToken,
    clientToken: settings.clientToken,
    environment,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async close() {
      await stop();
      process.off('exit', killOnExit);
      await dropDatabase(database);
    },
  };
}

/**
 * A database Unleash has migrated (374 migrations, ~4 s) with our tokens in it, built
 * once per unleash-server version and token set; each test server clones it in
 * milliseconds. Built under a temporary name and renamed, so concurrent test files
 * never clone a half-built one.
 */
async function migratedTemplate(): Promise<string> {
  const pkg = fileURLToPath(new URL('../../node_modules/unleash-server/package.json', import.meta.url));
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  const key = createHash('sha256')
    .update(JSON.stringify([version, TOKENS, ENVIRONMENT]))
    .digest('hex');
  const template = `sg_unleash_template_${key.slice(0, 12)}`;
  const exists = await withAdmin((sql) => sql`select 1 from pg_database where datname = ${template}`);
  if (exists.length > 0) return template;

  const building = `${template}_build_${process.pid}`;
  await dropDatabase(building);
  await withAdmin((sql) => sql.unsafe(`create database "${building}"`));
  try {
    const port = await freePort();
    const settings = { databaseUrl: databaseUrl(building), port, environment: ENVIRONMENT, ...TOKENS };
    await terminate(await spawnUnleash(JSON.stringify(settings)));
    await withAdmin(async (sql) => {
      // The killed server's sessions may linger for a moment; a rename needs none.
      for (let attempt = 1; ; attempt++) {
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${building}`;
        try {
          await sql.unsafe(`alter database "${building}" rename to "${template}"`);
          return;
        } catch (error) {
          if (attempt >= 20 || !String(error).includes('being accessed')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
  } catch (error) {
    await dropDatabase(building);
    // Another test file built it first: use theirs.
    if (String(error).includes('already exists')) return template;
    throw error;
  }
  return template;
}

function spawnUnleash(settings: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [ENTRY, settings], {
    // Unleash reads DATABASE_URL and LOG_LEVEL from the environment; keep them out.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`unleash-server did not start within ${START_TIMEOUT_MS} ms:\n${tail(output)}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (READY.test(output)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`unleash-server exited (code ${code}) before it was ready:\n${tail(output)}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

async function withAdmin<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await sql`select 1`.catch((error: Error) => {
      throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (${error.message}); ${PG_HINT}`);
    });
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function dropDatabase(name: string): Promise<unknown> {
  return withAdmin((sql) => sql.unsafe(`drop database if exists "${name}" with (force)`));
}

function tail(text: string): string {
  return text.split('\n').slice(-20).join('\n');
}
