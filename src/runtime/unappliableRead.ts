import type { WorkerDeps } from './deps.js'

/** What the sweep does without a read it cannot apply. */
const SWEEP_GOES_ON = 'the rest of the wallet is reconciled, and it is read again on the next sweep'

/**
 * An operator read of one order or fill that cannot be applied (`orderReadProblem`,
 * `fillReadProblem`): passed over, so the rest of the wallet is reconciled (or the submission that
 * read it goes on as with no read: `instead` says how), and a person told which one (once an hour
 * for the same one: the alert sink's rule, as every sweep meets it again; the details are the same
 * whoever read it).
 */
export function alertUnappliableRead(
  deps: Pick<WorkerDeps, 'alert'>,
  walletId: string,
  read: { clientOrderId: string | null; fillId?: string | null; problem: string },
  instead = SWEEP_GOES_ON,
): void {
  const order = read.clientOrderId ?? '(no usable clientOrderId)'
  const what = read.fillId === undefined ? `order ${order}` : `fill ${read.fillId ?? '(no usable fillId)'} of order ${order}`
  deps.alert({
    walletId, code: 'READ_UNAPPLIABLE',
    message: `the operator's read of ${what} cannot be applied and was passed over: ${read.problem}; ${instead}`,
    details: { clientOrderId: read.clientOrderId, ...(read.fillId === undefined ? {} : { fillId: read.fillId }), problem: read.problem },
  })
}
