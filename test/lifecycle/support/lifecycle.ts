/**
 * Helpers for the lifecycle tests: wallets with chosen sessions, reads of the
 * worker's tables, and the sandbox operator's own records to compare with them.
 * Built on the worker harness (sandbox + fresh database + unique queue prefix).
 */
import { and, asc, eq } from 'drizzle-orm'
import { generatePrivateKey } from 'viem/accounts'
import type { RequestFamily } from '../../../src/core/acl/actions.js'
import type { WorkerDeps } from '../../../src/runtime/deps.js'
import { type PlaceLimitOrderInput, placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import { grantSession } from '../../../src/runtime/sessions/grantSession.js'
import { ensureWallet } from '../../../src/runtime/wallets.js'
import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import { LocalWalletSigner } from '../../../src/signers/LocalWalletSigner.js'
import type { Db } from '../../../src/store/Database.js'
import { auditLog, fills, intents, orders, outbox, requests, sessions, wallets } from '../../../src/store/schema/index.js'
import type { RunningWorker } from '../../../src/worker.js'
import { type Harness, answeredRequests, eventually } from '../../worker/support/harness.js'
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

/** Reads of the worker's tables. */
export function rows(db: Db) {
  const requestsOf = (orderId: string) => db.select().from(requests).where(eq(requests.orderId, orderId)).orderBy(asc(requests.createdAt))
  const requestsOfWallet = (walletId: string) => db.select().from(requests).where(eq(requests.walletId, walletId)).orderBy(asc(requests.createdAt))
  return {
    order: async (id: string) => (await db.select().from(orders).where(eq(orders.id, id)))[0]!,
    ordersOf: (walletId: string) => db.select().from(orders).where(eq(orders.walletId, walletId)).orderBy(asc(orders.createdAt)),
    ordersOfIntent: (intentId: string) => db.select().from(orders).where(eq(orders.intentId, intentId)).orderBy(asc(orders.createdAt)),
    intentsOf: (walletId: string) => db.select().from(intents).where(eq(intents.walletId, walletId)),
    requestsOf,
    requestsOfWallet,
    // The same once none is still in flight: the stream's event for a cancel (say) can land before its receipt is stored.
    answeredRequestsOf: (orderId: string) => answeredRequests(() => requestsOf(orderId)),
    answeredRequestsOfWallet: (walletId: string) => answeredRequests(() => requestsOfWallet(walletId)),
    outboxOf: (orderId: string) => db.select().from(outbox).where(eq(outbox.orderId, orderId)).orderBy(asc(outbox.seq)),
    outboxOfWallet: (walletId: string) => db.select().from(outbox).where(eq(outbox.walletId, walletId)).orderBy(asc(outbox.seq)),
    fillsOf: (orderId: string) => db.select().from(fills).where(eq(fills.orderId, orderId)).orderBy(asc(fills.seq)),
    session: async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!,
    sessionsOf: (walletId: string) => db.select().from(sessions).where(eq(sessions.walletId, walletId)).orderBy(asc(sessions.createdAt)),
    wallet: async (id: string) => (await db.select().from(wallets).where(eq(wallets.id, id)))[0]!,
    audit: (walletId: string, action?: string) => db.select().from(auditLog)
      .where(action ? and(eq(auditLog.walletId, walletId), eq(auditLog.action, action)) : eq(auditLog.walletId, walletId)).orderBy(asc(auditLog.id)),
  }
}

/** Waits until the order reaches one of `states`, and answers it. */
export function settled(db: Db, orderId: string, ...states: string[]) {
  return eventually(async () => {
    const [order] = await db.select().from(orders).where(eq(orders.id, orderId))
    return order && states.includes(order.state) && order
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
