import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';

/**
 * The configuration and database of the operator's commands that run where the controller runs
 * (serve, migrate, partitions): read from the environment (README "Configuration"), not from
 * --url/--key. The controller's modules are loaded only here, so the other commands start in a
 * fraction of the time without them.
 */
export async function configFrom(overrides: Record<string, string>): Promise<Config> {
  const { loadConfig, readEnvironment } = await import('../config.js');
  try {
    return loadConfig({ ...readEnvironment(), ...overrides });
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.usage);
  }
}

/**
 * Opens the configured database (DATABASE_URL, else PGlite in SHADOWGATE_DATA_DIR), runs `work`
 * and closes it. A refusal with an HTTP status exits with that status's code; any other failure
 * exits as unavailable, its message prefixed by `failure`.
 */
export async function withConfiguredDatabase<T>(
  failure: string,
  work: (database: Database) => Promise<T>,
): Promise<T> {
  const config = await configFrom({});
  const { openDatabase } = await import('../db/database.js');
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SHADOWGATE_DATA_DIR,
  }).catch((error: Error) => {
    throw new CliError(`cannot open the database: ${error.message}`, EXIT.unavailable);
  });
  try {
    return await work(database);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number') throw new CliError((error as Error).message, exitCodeForStatus(status));
    throw new CliError(`${failure}: ${(error as Error).message}`, EXIT.unavailable);
  } finally {
    await database.close();
  }
}
