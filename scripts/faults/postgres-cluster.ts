import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, runCommandNow } from './processes.js';
import { freePort } from './waiting.js';

/**
 * A PostgreSQL cluster of the suite's own (initdb into a temporary directory, a free port,
 * its socket in that directory), so the PostgreSQL case can stop and restart a server
 * without disturbing anything else on the machine. initdb refuses to run as root, so as
 * root every command runs as the `postgres` user.
 */
export interface OwnPostgres {
  /** The superuser's URL on the cluster's `postgres` database. */
  adminUrl: string;
  port: number;
  /** `pg_ctl stop -m immediate`: the server dies without a shutdown checkpoint, as in a crash. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
}

const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of cleanups) cleanup();
});

/** The directory of initdb and pg_ctl: FAULTS_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(): string {
  const configured = process.env.FAULTS_PG_BIN;
  if (configured) return configured;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'initdb not found under /usr/lib/postgresql/*/bin (set FAULTS_PG_BIN to the directory of initdb and pg_ctl)',
    );
  }
  return join(base, versions[0]!, 'bin');
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sg-faults-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    asRoot
      ? runCommand('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : runCommand(join(bin, tool), args);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100`;
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), ...args]);

  const stopNow = () => {
    const stop = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
    if (asRoot) runCommandNow('runuser', ['-u', 'postgres', '--', ...stop]);
    else runCommandNow(stop[0]!, stop.slice(1));
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(stopNow);
  try {
    await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
    await pgCtl('-w', '-t', '60', '-o', options, 'start');
  } catch (error) {
    stopNow();
    cleanups.delete(stopNow);
    throw error;
  }
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: async () => {
      await pgCtl('-m', 'immediate', '-w', 'stop');
    },
    start: async () => {
      await pgCtl('-w', '-t', '60', '-o', options, 'start');
    },
    destroy: async () => {
      cleanups.delete(stopNow);
      stopNow();
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const out = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gidOut = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const uid = Number(out.stdout.trim());
  const gid = Number(gidOut.stdout.trim());
  if (out.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error('running as root, but there is no postgres user to run initdb as');
  }
  return { uid, gid };
}
