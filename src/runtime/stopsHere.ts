import type { WorkerDeps } from './deps.js'

/**
 * Whether a run going item by item (wallets, sessions) starts no further item because its worker
 * is stopping (`deps.stopping`): then its report says so (`stopped`), and the caller ends the loop.
 * The item on the wire may have finished; the next run covers what is left.
 */
export function stopsHere(deps: Pick<WorkerDeps, 'stopping'>, report: { stopped?: true }): boolean {
  if (!deps.stopping?.aborted) return false
  report.stopped = true
  return true
}
