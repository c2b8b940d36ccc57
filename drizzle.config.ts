import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` writes SQL migrations from the schema; the worker
// applies them at start-up (src/store/migrate.ts), never drizzle-kit.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema/index.ts',
  out: './migrations',
  strict: true,
  verbose: true,
})
