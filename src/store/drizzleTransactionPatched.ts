import { NodePgSession } from 'drizzle-orm/node-postgres'

/**
 * Whether drizzle's node-postgres transactions carry `patches/drizzle-orm+0.45.4.patch`,
 * which `npm install` applies (`postinstall`): without it a transaction whose BEGIN
 * fails keeps its pool client for good (drizzle-orm#6241). An install run with
 * `--ignore-scripts` lacks it; the worker and the API then warn at start-up.
 */
export function drizzleTransactionPatched(): boolean {
  return NodePgSession.prototype.transaction.toString().includes('let began = false')
}

export const UNPATCHED_DRIZZLE_WARNING =
  'drizzle-orm is not patched (was npm install run with --ignore-scripts?): a connection cut at BEGIN will keep a pool client for good; run `npx patch-package`'
