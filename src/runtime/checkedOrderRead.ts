import type { Hex } from 'viem'
import { orderReadProblem } from '../core/orders/readProblem.js'
import { orderIfKnown } from '../venue/orderIfKnown.js'
import type { ReadAuth, VenueOrder } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'
import { alertUnappliableRead } from './unappliableRead.js'

/**
 * The operator's read of one order by cloid, checked before anything applies it or decides on it:
 * 'unknown' when the operator does not know the cloid, 'unappliable' when a field that would be
 * parsed or stored is malformed (`orderReadProblem`: a `filled` that is not a decimal, a price of
 * zero, a status the protocol does not name, a revision too large to store), else the read. An
 * unappliable read is alerted READ_UNAPPLIABLE, naming the order and the problem (`instead`: what
 * the caller does without it), and nothing of it is to be stored: applied, it would fail on every
 * retry, or store nonsense on the order. The sweep and every read-back of a submission read through here.
 */
export async function checkedOrderRead(
  deps: Pick<WorkerDeps, 'venue' | 'alert'>,
  auth: ReadAuth,
  read: { walletId: string; clientOrderId: Hex; instead?: string },
): Promise<VenueOrder | 'unknown' | 'unappliable'> {
  const order = await orderIfKnown(deps.venue, auth, read.clientOrderId)
  if (!order) return 'unknown'
  const problem = orderReadProblem(order)
  if (!problem) return order
  alertUnappliableRead(deps, read.walletId, { clientOrderId: read.clientOrderId.toLowerCase(), problem }, read.instead)
  return 'unappliable'
}
