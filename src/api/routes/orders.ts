import { type SQL, and, asc, desc, eq, inArray, sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { groupedPlaceLimitOrder } from '../../runtime/intake/groupedPlaceLimitOrder.js'
import { requestCancel, requestCancelAll, requestModify } from '../../runtime/intake/requestOrderChange.js'
import { fills, intents, orderStates, orders, outbox, wallets } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { ApiError } from '../errors.js'
import { loadWork } from '../loadWork.js'
import { ownedOrder, ownedWallet } from '../ownership.js'
import { presentFill, presentOrder } from '../present.js'
import { LIST_LIMIT_DEFAULT, decimal, errorResponses, idempotencyHeader, listLimit, orderParams, uuid, walletParams } from '../schemas/common.js'
import { Order, OrderWithFills, Queued } from '../schemas/resources.js'
import { type RouteOptions, relayNow, tenantSecurity } from './context.js'

/** Not finished: may still trade or be cancelled. */
export const workingOrderStates = ['pending', 'submitting', 'unknown', 'open', 'partially_filled'] as const

const PlaceOrder = z.strictObject({
  market: z.string().min(1, 'must name a market, e.g. "ETH-USD"'),
  side: z.enum(['buy', 'sell']),
  price: decimal.describe('limit price; a multiple of the market tickSize'),
  size: decimal.describe('base amount; a multiple of the market lotSize'),
  timeInForce: z.enum(['GTC', 'IOC', 'POST_ONLY']).optional().describe('default GTC'),
  goodTill: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2030-01-01T00:00:00Z' }).optional()
    .describe('cancel the order at this time if it still rests; in the future and before 10000-01-01T00:00:00Z'),
  clientRef: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional()
    .describe('your reference; placing the same order again with it answers the first order (200), another order with it is refused (422, field clientRef)'),
})

const ListOrders = z.strictObject({
  walletId: uuid.optional(),
  state: z.enum(['working', 'all', ...orderStates]).optional().describe('default working (not filled, cancelled or rejected)'),
  limit: listLimit,
  before: uuid.optional().describe('only orders placed before this one (the last of the previous page)'),
})

export const orderRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const tags = ['orders']
  // Concurrent placements share their intake transaction.
  const placeLimitOrder = groupedPlaceLimitOrder(db, () => deps.markets)
  const intentOf = async (intentId: string | null) => {
    if (!intentId) return null
    const [intent] = await db.select({ clientRef: intents.clientRef, scheduleId: intents.scheduleId }).from(intents).where(eq(intents.id, intentId))
    return intent ?? null
  }

  app.post('/wallets/:walletId/orders', {
    schema: {
      summary: 'Place a limit order (queued for submission; 200 when clientRef names an order already placed)', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams, body: PlaceOrder, response: { 200: Order, 201: Order, ...errorResponses },
    },
  }, async (request, reply) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { goodTill, ...rest } = request.body
    // Under an Idempotency-Key, every attempt places under the key's action id: one whose outcome was
    // lost (its answer not stored, its process dead) is answered by the next, not placed again.
    // The tenant is checked again in the placement's transaction: the wallet may have been retired since (a takeover by proof of ownership).
    const input = { walletId: wallet.id, tenantId: tenantOf(request), ...rest, goodTill: goodTill ? new Date(goodTill) : undefined }
    const { order, intent, created } = await placeLimitOrder(input, new Date(deps.runtime.now()), request.idempotencyClaim?.actionId)
    if (created) await relayNow(deps)
    return reply.code(created ? 201 : 200).send(presentOrder(order, intent))
  })

  app.get('/orders', {
    schema: {
      summary: "The tenant's orders, newest first (`limit` at a time; `before`, the last one read, for the next page)", tags, security: tenantSecurity, querystring: ListOrders,
      response: { 200: z.object({ orders: z.array(Order) }), ...errorResponses },
    },
  }, async (request) => {
    const { walletId, state = 'working', limit = LIST_LIMIT_DEFAULT, before } = request.query
    const conditions: SQL[] = [eq(wallets.tenantId, tenantOf(request))]
    if (walletId) conditions.push(eq(orders.walletId, (await ownedWallet(db, tenantOf(request), walletId)).id))
    // Newest first, so the next page is the orders before the last one read (in the same order).
    if (before) {
      const { order: mark } = await ownedOrder(db, tenantOf(request), before, 'before')
      conditions.push(sql`(${orders.createdAt}, ${orders.id}) < (select created_at, id from orders where id = ${mark.id})`)
    }
    if (state === 'working') conditions.push(inArray(orders.state, [...workingOrderStates]))
    else if (state !== 'all') conditions.push(eq(orders.state, state))
    const rows = await db.select({ order: orders, clientRef: intents.clientRef, scheduleId: intents.scheduleId }).from(orders)
      .innerJoin(wallets, eq(wallets.id, orders.walletId)).leftJoin(intents, eq(intents.id, orders.intentId))
      .where(and(...conditions)).orderBy(desc(orders.createdAt), desc(orders.id)).limit(limit)
    return { orders: rows.map((row) => presentOrder(row.order, row)) }
  })

  app.get('/orders/:orderId', {
    schema: {
      summary: 'One order with its fills, average fill price, and the work queued for it (accepted, or why not)', tags, security: tenantSecurity, params: orderParams,
      response: { 200: OrderWithFills, ...errorResponses },
    },
  }, async (request) => {
    const { order } = await ownedOrder(db, tenantOf(request), request.params.orderId)
    // Independent reads (none is in a transaction with another either way): side by side.
    const [rows, work, intent] = await Promise.all([
      db.select().from(fills).where(eq(fills.orderId, order.id)).orderBy(asc(fills.seq)),
      db.select().from(outbox).where(eq(outbox.orderId, order.id)).orderBy(asc(outbox.seq)).then((queued) => loadWork(db, queued)),
      intentOf(order.intentId),
    ])
    return { ...presentOrder(order, intent), fills: rows.map(presentFill), work }
  })

  app.post('/orders/:orderId/modify', {
    schema: {
      summary: 'Change the price and size of a working order (queued behind whatever is in flight for it; one of its modifies not yet sent is superseded by this one, the last asked wins); size is the new total, which must exceed what already filled; the price and size the order already has are refused (422), unless a modify of it is still on its way', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: orderParams, body: z.strictObject({ price: decimal, size: decimal }), response: { 202: Queued, ...errorResponses },
    },
  }, async (request, reply) => {
    const { order } = await ownedOrder(db, tenantOf(request), request.params.orderId)
    // Under an Idempotency-Key, the work is queued under the key's action id, as a placement is: an
    // attempt whose outcome was lost is answered by the next, not queued again.
    const { outboxId } = await requestModify(db, deps.markets, { orderId: order.id, ...request.body, outboxId: request.idempotencyClaim?.actionId })
    await relayNow(deps)
    return reply.code(202).send({ outboxId, status: 'queued' as const })
  })

  app.post('/orders/:orderId/cancel', {
    schema: {
      summary: 'Cancel a working order (queued behind its placement only: a modify queued before the cancel is not waited for, and is then not applied)', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: orderParams, body: z.strictObject({}).optional(), response: { 202: Queued, ...errorResponses },
    },
  }, async (request, reply) => {
    const { order } = await ownedOrder(db, tenantOf(request), request.params.orderId)
    const { outboxId } = await requestCancel(db, { orderId: order.id, reason: 'user', outboxId: request.idempotencyClaim?.actionId })
    await relayNow(deps)
    return reply.code(202).send({ outboxId, status: 'queued' as const })
  })

  app.post('/wallets/:walletId/cancel-all', {
    schema: {
      summary: "CancelAll: cancel the wallet's open orders in one market, or in every market", tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams,
      body: z.strictObject({ market: z.string().optional().describe('left out: every market; an empty string is refused (422)') }).optional(), response: { 202: Queued, ...errorResponses },
    },
  }, async (request, reply) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const named = request.body?.market
    // "" is how the CancelAll's payload says every market, but sent by a client it is a bug (an unset
    // variable, say), not a wish to cancel everywhere: that is `market` left out.
    if (named === '') {
      throw new ApiError(422, 'CORE.VALIDATION', 'market: must not be empty', { field: 'market', rule: 'must not be empty: omit market to cancel in every market' })
    }
    if (named !== undefined && !deps.markets.has(named)) {
      throw new ApiError(422, 'CORE.VALIDATION', `market: must be one of the operator's markets`, { field: 'market', rule: `must be one of the operator's markets (${[...deps.markets.keys()].join(', ')}) or omitted for all` })
    }
    const market = named ?? ''
    // The tenant is checked again in the CancelAll's transaction: the wallet may have been retired since (a takeover by proof of ownership).
    const { outboxId } = await requestCancelAll(db, { walletId: wallet.id, tenantId: tenantOf(request), market, outboxId: request.idempotencyClaim?.actionId })
    await relayNow(deps)
    return reply.code(202).send({ outboxId, status: 'queued' as const })
  })
}
