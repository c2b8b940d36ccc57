import { and, asc, eq, inArray } from 'drizzle-orm'
import { formatAmount, parseAmount } from '../../src/core/money/decimal.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import type { Db } from '../../src/store/Database.js'
import { events, intents, orders, requests } from '../../src/store/schema/index.js'

const venueState = { open: 'open', partiallyFilled: 'partially_filled', filled: 'filled', cancelled: 'cancelled' } as const

export type Outcome = {
  intents: number
  operatorOrders: number
  /** Orders the operator created beyond one per cloid, plus orders no intent accounts for. */
  duplicates: number
  /** Intents with no order at the operator that were not cancelled before placement. */
  lost: number
  /** Orders whose state, filled size, price or size differ between Postgres and the operator. */
  mismatched: number
  cancelledBeforePlacement: number
  /** Final states in Postgres, for the report. */
  states: Record<string, number>
  /** The first few problems, for diagnosis. */
  examples: string[]
  /** For the first few differing orders: what the operator and Postgres each recorded of them. */
  histories: string[]
}

/**
 * Compares Postgres with the operator's own state (the in-process sandbox):
 * the three counters the drill must keep at zero.
 */
export async function checkOutcome(db: Db, sandbox: Sandbox, walletIds: string[]): Promise<Outcome> {
  const examples: string[] = []
  const note = (text: string) => { if (examples.length < 20) examples.push(text) }
  const allIntents = await db.select().from(intents).where(inArray(intents.walletId, walletIds))
  const allOrders = await db.select().from(orders).where(inArray(orders.walletId, walletIds))
  const orderByIntent = new Map(allOrders.filter((o) => o.intentId).map((o) => [o.intentId!, o]))
  const orderByCloid = new Map(allOrders.map((o) => [o.clientOrderId.toLowerCase(), o]))

  // Every order the operator holds, by cloid. Its map is keyed by cloid, so a
  // second order under one cloid shows as a created order the map lost.
  const venueOrders = new Map<string, { status: string; price: bigint; size: bigint; filled: bigint; revision: number; wallet: string }>()
  let mapped = 0
  for (const wallet of sandbox.state.wallets.values()) {
    for (const [cloid, order] of wallet.orders) {
      mapped++
      venueOrders.set(cloid.toLowerCase(), { status: order.status, price: order.price, size: order.size, filled: order.filled, revision: order.revision, wallet: wallet.key })
    }
  }
  const created = sandbox.state.counters.order
  let duplicates = created - mapped
  if (duplicates > 0) note(`the operator created ${created} orders but holds ${mapped} cloids`)
  for (const cloid of venueOrders.keys()) {
    const local = orderByCloid.get(cloid)
    if (!local?.intentId) { duplicates++; note(`operator order ${cloid} belongs to no intent`) }
  }
  if (venueOrders.size > allIntents.length) note(`operator holds ${venueOrders.size} orders for ${allIntents.length} intents`)

  let lost = 0
  let mismatched = 0
  let cancelledBeforePlacement = 0
  const states: Record<string, number> = {}
  const histories: string[] = []
  for (const intent of allIntents) {
    const order = orderByIntent.get(intent.id)
    if (!order) { lost++; note(`intent ${intent.id} has no order row`); continue }
    states[order.state] = (states[order.state] ?? 0) + 1
    const venue = venueOrders.get(order.clientOrderId.toLowerCase())
    if (!venue) {
      if (order.state === 'cancelled' && intent.status === 'cancelled' && order.venueOrderId === null) { cancelledBeforePlacement++; continue }
      lost++
      note(`intent ${intent.id} (order ${order.id} ${order.state}) has no order at the operator`)
      continue
    }
    const differences: string[] = []
    if (venueState[venue.status as keyof typeof venueState] !== order.state) differences.push(`state ${order.state} vs ${venue.status}`)
    const filled = parseAmount('filled', order.filled)
    if (filled !== venue.filled) differences.push(`filled ${order.filled} vs ${formatAmount(venue.filled)}`)
    if (parseAmount('price', order.price) !== venue.price) differences.push(`price ${order.price} vs ${formatAmount(venue.price)}`)
    if (parseAmount('size', order.size) !== venue.size) differences.push(`size ${order.size} vs ${formatAmount(venue.size)}`)
    if (differences.length) {
      mismatched++
      note(`order ${order.id} ${order.clientOrderId}: ${differences.join(', ')} (revision ${order.venueRevision} vs ${venue.revision})`)
      if (histories.length < 3) histories.push(await history(db, sandbox, order, venue.wallet))
    }
  }
  return { intents: allIntents.length, operatorOrders: venueOrders.size, duplicates, lost, mismatched, cancelledBeforePlacement, states, examples, histories }
}

/** One order as each side recorded it: the operator's events, Postgres's requests and stored events. */
async function history(db: Db, sandbox: Sandbox, order: typeof orders.$inferSelect, walletKey: string): Promise<string> {
  const cloid = order.clientOrderId.toLowerCase()
  const wallet = [...sandbox.state.wallets.values()].find((w) => w.key === walletKey)
  const operatorEvents = (wallet?.events.since(0) ?? []).filter((e) => e.clientOrderId?.toLowerCase() === cloid)
  const sent = await db.select().from(requests).where(eq(requests.orderId, order.id)).orderBy(asc(requests.createdAt))
  const stored = await db.select().from(events).where(and(eq(events.walletId, order.walletId), eq(events.clientOrderId, cloid))).orderBy(asc(events.seq))
  const fieldsOf = (data: Record<string, unknown> | undefined) => ['revision', 'price', 'size', 'reason'].filter((k) => data?.[k] !== undefined).map((k) => `${k} ${String(data![k])}`).join(' ')
  const lines = [
    `order ${order.id} ${cloid}: Postgres ${order.state} price ${order.price} size ${order.size} revision ${order.venueRevision}, updated ${order.updatedAt.toISOString()}`,
    ...operatorEvents.map((e) => `  operator seq ${e.seq} ${new Date(e.at).toISOString()} ${e.type} ${fieldsOf(e.data)}`),
    ...stored.map((e) => `  stored   seq ${e.seq} ${e.type} ${fieldsOf((e.payload as { data?: Record<string, unknown> }).data)}`),
    ...sent.map((r) => {
      const message = (JSON.parse(r.body) as { message: Record<string, string> }).message
      return `  request ${r.family} ${r.status}${r.duplicate ? ' (duplicate)' : ''} ${r.createdAt.toISOString()}→${r.completedAt?.toISOString() ?? '-'} price ${message.price ?? '-'} size ${message.size ?? '-'} nonce ${String(r.nonce)}${r.errorCode ? ` ${r.errorCode}` : ''}`
    }),
  ]
  return lines.join('\n')
}
