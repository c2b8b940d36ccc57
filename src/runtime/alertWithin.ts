import type { Tx } from '../store/Database.js'
import type { AlertEvent, WorkerDeps } from './deps.js'

/**
 * Claims `event` inside `tx`, the transaction that writes what the alert reports, and answers what
 * to call once `tx` has committed (the log and the webhook POST; a process that dies first leaves
 * the claim to the undelivered-alert sweep). Deps without a sink to claim in (a test's) raise it
 * after the commit instead.
 */
export async function alertWithin(deps: Pick<WorkerDeps, 'alert' | 'alertWithin'>, tx: Tx, event: AlertEvent): Promise<() => void> {
  return deps.alertWithin ? deps.alertWithin(tx, event) : () => deps.alert(event)
}
