import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';

/** `npm run migrate`: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SHADOWGATE_DATA_DIR });
  try {
    await database.migrate();
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(`shadowgate migrate: ${(error as Error).message}`);
  process.exit(1);
});
