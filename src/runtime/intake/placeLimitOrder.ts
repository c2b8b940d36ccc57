import { and, asc, eq } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import { parsePositiveAmount } from '../../core/money/decimal.js'
import { assertMultiple } from '../../core/money/increments.js'
import { deriveClientOrderId } from '../../core/requests/deriveClientOrderId.js'
import type { Db } from '../../store/Database.js'
import { type IntentRow, type OrderRow, intents, orders, outbox, wallets } from '../../store/schema/index.js'
import { type MarketRules, marketRule } from './marketRules.js'

export type PlaceLimitOrderInput = {
  walletId: string
  market: string
  side: 'buy' | 'sell'
  /** Decimal strings. */
  price: string
  size: string
  timeInForce?: 'GTC' | 'IOC' | 'POST_ONLY'
  goodTill?: Date
  /** The caller's reference; placing twice with one reference answers the first order. */
  clientRef?: string
}

const tifCodes = { GTC: 0, IOC: 1, POST_ONLY: 2 } as const

/**
 * Intake of a user's limit order: validates everything first, then writes the
 * intent, its order (cloid derived from the intent) and the outbox row in one
 * transaction, so nothing is stored half-way and nothing is lost.
 */
export async function placeLimitOrder(db: Db, rules: MarketRules, input: PlaceLimitOrderInput, now: Date): Promise<{ intent: IntentRow; order: OrderRow; created: boolean }> {
  const rule = marketRule(rules, input.market)
  if (input.side !== 'buy' && input.side !== 'sell') throw new ValidationError('side', 'must be "buy" or "sell"')
  const price = parsePositiveAmount('price', input.price)
  const size = parsePositiveAmount('size', input.size)
  assertMultiple('price', price, rule.tickSize, 'tickSize')
  assertMultiple('size', size, rule.lotSize, 'lotSize')
  const tif = input.timeInForce ?? 'GTC'
  if (!(tif in tifCodes)) throw new ValidationError('timeInForce', 'must be GTC, IOC or POST_ONLY')
  if (input.goodTill && input.goodTill.getTime() <= now.getTime()) throw new ValidationError('goodTill', 'must be in the future')
  if (input.clientRef !== undefined && (input.clientRef.length === 0 || input.clientRef.length > 128)) throw new ValidationError('clientRef', 'must be 1 to 128 characters')

  return db.transaction(async (tx) => {
    const [wallet] = await tx.select().from(wallets).where(eq(wallets.id, input.walletId)).for('share')
    if (!wallet) throw new ValidationError('walletId', 'must name a known wallet')
    if (wallet.status === 'halted') throw new ValidationError('walletId', `the wallet is halted (${wallet.haltedReason ?? 'kill switch'}); resume it before placing orders`)
    const side = input.side === 'buy' ? 0 : 1
    // A concurrent placement under the same reference makes this insert wait for it and then do
    // nothing (rather than fail on the unique key): both callers answer the one order.
    const [intent] = await tx.insert(intents).values({
      walletId: wallet.id, kind: 'limit', clientRef: input.clientRef ?? null, market: rule.market, side,
      price: input.price, size: input.size, timeInForce: tifCodes[tif], goodTill: input.goodTill ?? null,
    }).onConflictDoNothing({ target: [intents.walletId, intents.clientRef] }).returning()
    if (!intent) {
      const [existing] = await tx.select().from(intents).where(and(eq(intents.walletId, wallet.id), eq(intents.clientRef, input.clientRef!)))
      const [order] = await tx.select().from(orders).where(eq(orders.intentId, existing!.id)).orderBy(asc(orders.createdAt)).limit(1)
      return { intent: existing!, order: order!, created: false }
    }
    const [order] = await tx.insert(orders).values({
      walletId: wallet.id, intentId: intent!.id, clientOrderId: deriveClientOrderId(intent!.id, 0), market: rule.market, side,
      price: input.price, size: input.size, timeInForce: tifCodes[tif], state: 'pending',
    }).returning()
    await tx.insert(outbox).values({ walletId: wallet.id, kind: 'Order', orderId: order!.id, payload: {} })
    if (input.goodTill) {
      // The good-till cancel is durable work from the start: a delayed job due at goodTill.
      await tx.insert(outbox).values({ walletId: wallet.id, kind: 'CancelOrder', orderId: order!.id, payload: { reason: 'goodTill' }, availableAt: input.goodTill })
    }
    return { intent: intent!, order: order!, created: true }
  })
}
