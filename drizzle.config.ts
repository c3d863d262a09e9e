import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/db/schema.ts and applied by `shadowgate migrate`
// (or at start-up) to PostgreSQL and to PGlite alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/db/schema.ts', './src/db/rollup-schema.ts'],
  out: './migrations',
});
