import { NodePgSession } from 'drizzle-orm/node-postgres'

/**
 * Whether drizzle's node-postgres transactions carry `patches/drizzle-orm+0.45.4.patch`,
 * which `npm install` applies (`postinstall`): without it a transaction whose BEGIN
 * fails keeps its pool client for good (drizzle-orm#6241). An install run with
 * `--ignore-scripts` lacks it; the worker and the API then warn at start-up.
 */
export function drizzleTransactionPatched(): boolean {
  const source = NodePgSession.prototype.transaction.toString()
  return source.includes('let began = false') && source.includes('isReadTimeout(error)')
}

export const UNPATCHED_DRIZZLE_WARNING =
  'drizzle-orm is not patched (was npm install run with --ignore-scripts?): a connection cut at BEGIN will keep a pool client for good, and a transaction whose statement timed out waits a second timeout for its rollback; run `npx patch-package`'
