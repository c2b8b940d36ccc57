/**
 * Helpers for the lifecycle tests: wallets with chosen sessions, reads of the
 * worker's tables, and the sandbox operator's own records to compare with them.
 * Built on the worker harness (sandbox + fresh database + unique queue prefix).
 */
import { expect } from 'vitest'
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import type { RequestFamily } from '../../../src/core/acl/actions.js'
import { signRead } from '../../../src/keys/signRead.js'
import type { WorkerDeps } from '../../../src/runtime/deps.js'
import { type PlaceLimitOrderInput, placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import { grantSession } from '../../../src/runtime/sessions/grantSession.js'
import { unsealSessionKey } from '../../../src/runtime/sessions/sealedSessionKey.js'
import { ensureWallet } from '../../../src/runtime/wallets.js'
import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import { LocalWalletSigner } from '../../../src/signers/LocalWalletSigner.js'
import type { Db } from '../../../src/store/Database.js'
import { type SessionRow, orders } from '../../../src/store/schema/index.js'
import type { RunningWorker } from '../../../src/worker.js'
import { type Harness, eventually } from '../../worker/support/harness.js'
import { operatorOrder, operatorOrders, revokeBehindTheWorkersBack as revokeAtOperator } from '../../worker/support/operator.js'

export { operatorOrder, operatorOrders }

export { eventually }

export const allFamilies: RequestFamily[] = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll']
const funds: Record<string, string> = { USD: '10000000', ETH: '1000', BTC: '100' }

/** A funded wallet, registered but without any session yet. */
export async function bareWallet(h: Harness) {
  const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
  const wallet = await ensureWallet(h.db, signer.address)
  for (const [asset, value] of Object.entries(funds)) h.sandbox.fund(signer.address, asset, value)
  return { signer, wallet }
}

/** Grants (and activates) a session for the wallet; the clock is the sandbox's. */
export function grant(h: Harness, w: { signer: LocalWalletSigner; wallet: { id: string } }, options: { families?: RequestFamily[]; unrestricted?: boolean; lifetimeSeconds?: number } = {}) {
  return grantSession({
    db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id,
    families: options.families ?? allFamilies, unrestricted: options.unrestricted, lifetimeSeconds: options.lifetimeSeconds ?? 24 * 3600, nowMs: h.sandbox.now(),
  })
}

/** A funded wallet with an active session. */
export async function activeWallet(h: Harness, options: Parameters<typeof grant>[2] = {}) {
  const bare = await bareWallet(h)
  const { session } = await grant(h, bare, options)
  return { ...bare, session }
}

/** Places a limit order at intake (defaults: a resting ETH-USD buy) and relays it. */
export async function place(h: Harness, worker: RunningWorker, walletId: string, input: Partial<PlaceLimitOrderInput> = {}) {
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1', ...input }, new Date(h.sandbox.now()))
  await worker.relay()
  return order
}

/** Reads of the worker's tables (shared with the worker tests). */
export { rows } from '../../worker/support/rows.js'

/** Waits until the order reaches one of `states`, and answers it. */
export function settled(db: Db, orderId: string, ...states: string[]) {
  return eventually(async () => {
    const [order] = await db.select().from(orders).where(eq(orders.id, orderId))
    return order && states.includes(order.state) && order
  })
}

/**
 * Waits until the order is cancelled for `reason`, and answers it. The operator's OrderCancelled
 * says `user` for every CancelOrder and can be applied before the cancel's receipt, which records
 * why the worker sent it (`halted`, `goodTill`…): the order reads cancelled, `user`, a moment first.
 */
export async function cancelledFor(db: Db, orderId: string, reason: string) {
  const read = async () => (await db.select().from(orders).where(eq(orders.id, orderId)))[0]
  await eventually(async () => { const order = await read(); return order?.state === 'cancelled' && order.cancelReason === reason }).catch(() => undefined)
  const order = await read()
  expect({ state: order?.state, cancelReason: order?.cancelReason }).toEqual({ state: 'cancelled', cancelReason: reason })
  return order!
}

/**
 * Waits until the order is open with the session that placed it recorded, and answers it. The
 * session is stored with the receipt, which the stream's OrderAccepted can overtake (the order then
 * reads open, its session not yet named).
 */
export function openWithSession(db: Db, orderId: string) {
  return eventually(async () => {
    const [order] = await db.select().from(orders).where(eq(orders.id, orderId))
    return order?.state === 'open' && order.sessionId !== null && order
  })
}

/** The operator's open orders of a wallet. */
export function operatorOpenOrders(sandbox: Sandbox, address: string) {
  return operatorOrders(sandbox, address).filter((o) => o.status === 'open' || o.status === 'partiallyFilled')
}

/** Revokes the wallet's active delegation at the operator, without telling the worker; answers the HTTP status. */
export async function revokeBehindTheWorkersBack(deps: WorkerDeps, walletId: string): Promise<number> {
  return (await revokeAtOperator(deps, walletId)).status
}

/** The operator's record of a delegation (revoked, ended). */
export function operatorDelegation(sandbox: Sandbox, delegationHash: string | null) {
  return delegationHash ? sandbox.state.delegations.byDelegationHash(delegationHash) : undefined
}

/** Whether a sent request's wire message carries this wallet (to pick one wallet's traffic at a proxy). */
export function fromWallet(address: string) {
  return (request: { message: Record<string, unknown> }) => String(request.message.wallet).toLowerCase() === address.toLowerCase()
}

/** The HTTP status the operator answers an authenticated read made with this session's delegation and key. */
export async function readWith(h: Harness, session: SessionRow): Promise<number> {
  const deadline = BigInt(h.sandbox.now() + 20_000)
  const { signature } = signRead(unsealSessionKey(h.keyring, session), h.sandbox.domain, { delegation: session.delegationHash as Hex, deadline })
  const response = await fetch(`${h.sandbox.url}/v1/balances`, {
    headers: { 'x-delegation': session.delegatedPayload!, 'x-read-deadline': deadline.toString(), 'x-read-signature': signature },
  })
  await response.body?.cancel()
  return response.status
}
