import type { FastifyInstance, FastifyRequest } from 'fastify'
import { SandboxError, invalid } from '../SandboxError.js'
import { isOpen } from '../engine/orderBook.js'
import { balancesView, fillView, orderView } from '../engine/views.js'
import type { SandboxState } from '../state.js'
import { authenticateRead } from '../verify/authenticateRead.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { assertOwnWallet, maybeUnavailable, sinceParameter } from './routeContext.js'

type Query = { status?: string; since?: string; wallet?: string }

/** Authenticated reads (PROTOCOL.md §6); each answers for the delegation's own wallet only. */
export function registerReadRoutes(app: FastifyInstance, state: SandboxState): void {
  const authenticate = (request: FastifyRequest<{ Querystring: Query }>): KnownDelegation => {
    maybeUnavailable(state)
    const delegation = authenticateRead(state, request.headers)
    assertOwnWallet(delegation, request.query.wallet)
    return delegation
  }

  app.get<{ Querystring: Query }>('/v1/orders', async (request) => {
    const delegation = authenticate(request)
    const status = request.query.status ?? 'open'
    if (status !== 'open' && status !== 'all') throw invalid('status: must be "open" or "all"')
    const orders = [...(state.wallets.get(delegation.walletKey)?.orders.values() ?? [])]
    return { orders: (status === 'open' ? orders.filter(isOpen) : orders).map((order) => overridden(state, order.clientOrderId, orderView(order))) }
  })

  app.get<{ Querystring: Query; Params: { cloid: string } }>('/v1/orders/:cloid', async (request) => {
    const delegation = authenticate(request)
    const cloid = request.params.cloid
    if (!/^0x[0-9a-fA-F]{32}$/.test(cloid)) throw invalid('clientOrderId: must be 16 bytes of 0x-hex')
    const order = state.wallets.get(delegation.walletKey)?.orders.get(cloid.toLowerCase())
    if (!order) throw new SandboxError('UnknownOrder', `no order ${cloid}`)
    return overridden(state, order.clientOrderId, orderView(order))
  })

  app.get<{ Querystring: Query }>('/v1/fills', async (request) => {
    const delegation = authenticate(request)
    const since = sinceParameter('since', request.query.since)
    const fills = state.wallets.get(delegation.walletKey)?.fills ?? []
    return { fills: fills.filter((fill) => Number(fill.seq) > since).map((fill) => overridden(state, fill.fillId, fillView(fill))) }
  })

  app.get<{ Querystring: Query }>('/v1/balances', async (request) => {
    const delegation = authenticate(request)
    return { balances: balancesView(state, state.wallets.get(delegation.walletKey)) }
  })
}

/** A read's fields as the `readOverrides` fault answers them (a malformed read), else as they are. */
function overridden<T extends object>(state: SandboxState, key: string, view: T): T {
  const fields = state.faults.readOverrides[key.toLowerCase()]
  return fields ? { ...view, ...fields } : view
}
