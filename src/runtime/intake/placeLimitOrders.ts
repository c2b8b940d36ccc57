import { randomUUID } from 'node:crypto'
import { asc, inArray, sql } from 'drizzle-orm'
import { UnknownResourceError } from '../../core/errors/UnknownResourceError.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import { FIRST_UNSTORABLE_TIME_MS } from '../../core/text/storableTime.js'
import { Side, TimeInForce } from '../../core/eip712/types.js'
import { parseAmount, parsePositiveAmount } from '../../core/money/decimal.js'
import { assertMultiple } from '../../core/money/increments.js'
import { deriveClientOrderId } from '../../core/requests/deriveClientOrderId.js'
import type { Db } from '../../store/Database.js'
import { namedStatement } from '../../store/namedStatement.js'
import { type IntentRow, type OrderRow, intents, orders, wallets } from '../../store/schema/index.js'
import { tableRows } from '../../store/tableRows.js'
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
  /** The caller's reference; placing the same order twice with one reference answers the first order, another order with it is refused. */
  clientRef?: string
  /**
   * The tenant the wallet must belong to (the API's caller), checked under the wallet's share lock in
   * the placement's transaction; another tenant's wallet is refused as an unknown one (`UnknownResourceError`,
   * answered as the API's 404; without `tenantId`, an unknown wallet is a `ValidationError`). The API looks
   * the wallet up by tenant first, but a wallet may be retired (a takeover by proof of ownership, which
   * registers its address anew for another tenant) between that lookup and this transaction.
   */
  tenantId?: string
}

export type Placed = { intent: IntentRow; order: OrderRow; created: boolean }

/**
 * One placement: the order, and the time it is placed at (a `goodTill` must be after it).
 * `intentId`, when the caller chose it, makes a retry after an unknown outcome safe: an intent
 * already stored under it (the first attempt's COMMIT landed, its answer was lost) is answered, and
 * nothing is stored twice, with or without a `clientRef`.
 */
export type PlaceRequest = { input: PlaceLimitOrderInput; now: Date; intentId?: string }

/** One input's answer: its order, or why it was refused (nothing of it stored). */
export type PlaceOutcome = { ok: true; placed: Placed } | { ok: false; error: ValidationError | UnknownResourceError }

const intentRows = tableRows(intents)
const orderRows = tableRows(orders)
const walletRows = tableRows(wallets)

/**
 * Intake of users' limit orders, several at once: validates each first, then
 * writes every valid one's intent, its order (cloid derived from the intent)
 * and its outbox row in one transaction, so nothing is stored half-way and
 * nothing is lost. One statement per table for the whole batch, which is what
 * lets concurrent placements share a transaction (`groupCommit`). Each input
 * gets its own answer: a refused input (bad field, unknown or halted wallet)
 * stores nothing and does not stop the others. Placing the same order again under
 * a `clientRef` already used for the wallet answers the first order (`created:
 * false`); a different order under it is refused (field `clientRef`).
 */
export async function placeLimitOrders(db: Db, rules: MarketRules, requests: readonly PlaceRequest[]): Promise<PlaceOutcome[]> {
  const outcomes: (PlaceOutcome | undefined)[] = requests.map(({ input, now }) => {
    try {
      validate(rules, input, now)
      return undefined
    } catch (error) {
      if (error instanceof ValidationError) return { ok: false, error }
      throw error
    }
  })
  const valid = requests.flatMap(({ input }, i) => (outcomes[i] ? [] : [{ input, i }]))
  if (valid.length === 0) return outcomes as PlaceOutcome[]

  await db.transaction(async (tx) => {
    const { rows: walletsRaw } = await shareLockWallets(tx, { walletIds: [...new Set(valid.map(({ input }) => input.walletId))] })
    const walletById = new Map(walletsRaw.map((raw) => walletRows.read(raw)).map((w) => [w.id, w]))
    const walletOf = (input: PlaceLimitOrderInput) => {
      const wallet = walletById.get(input.walletId)
      // A retired wallet (its address passed to its owner's tenant) takes no more orders, from anyone.
      return wallet && wallet.retiredAt === null && (input.tenantId === undefined || wallet.tenantId === input.tenantId) ? wallet : undefined
    }
    const placing = valid.filter(({ input, i }) => {
      const wallet = walletOf(input)
      if (!wallet) outcomes[i] = { ok: false, error: input.tenantId === undefined ? new ValidationError('walletId', 'must name a known wallet') : new UnknownResourceError('wallet', 'walletId') }
      else if (wallet.status === 'halted') outcomes[i] = { ok: false, error: new ValidationError('walletId', `the wallet is halted (${wallet.haltedReason ?? 'kill switch'}); resume it before placing orders`) }
      return !outcomes[i]
    }).map(({ input, i }) => ({ input, i, intentId: requests[i]!.intentId ?? randomUUID(), market: marketRule(rules, input.market).market, side: Side[input.side], tif: TimeInForce[input.timeInForce ?? 'GTC'] }))
    // The halt refuses new orders; an order placed before it, asked again under its reference (a client
    // retrying an answer it lost), is not new: it is answered as any repeat is.
    const haltedRepeats = valid.filter(({ input }) => input.clientRef !== undefined && walletOf(input)?.status === 'halted')
    if (haltedRepeats.length) await answerRepeats(tx, rules, haltedRepeats, outcomes)
    if (placing.length === 0) return

    // A concurrent placement under the same reference makes this insert wait for it and then skip
    // the row (rather than fail on the unique key): both callers answer the one order.
    // Each table's rows travel as one JSON parameter of a named statement: drizzle's multi-row
    // insert checked and mapped every value: ~40% of the intake's CPU in a profile of a burst.
    const intentValues = placing.map((p) => ({
      id: p.intentId, walletId: p.input.walletId, clientRef: p.input.clientRef ?? null, market: p.market, side: p.side,
      price: p.input.price, size: p.input.size, timeInForce: p.tif, goodTill: p.input.goodTill ?? null,
    }))
    const { rows: insertedRaw } = await insertIntents(tx, { intents: JSON.stringify(intentValues) })
    const intentById = new Map(insertedRaw.map((raw) => intentRows.read(raw)).map((row) => [row.id, row]))
    const created = placing.filter((p) => intentById.has(p.intentId))
    const orderValues = created.map((p) => ({
      walletId: p.input.walletId, intentId: p.intentId, clientOrderId: deriveClientOrderId(p.intentId, 0), market: p.market, side: p.side,
      price: p.input.price, size: p.input.size, timeInForce: p.tif,
    }))
    const { rows: ordersRaw } = created.length === 0 ? { rows: [] } : await insertOrders(tx, { orders: JSON.stringify(orderValues) })
    const orderByIntent = new Map(ordersRaw.map((raw) => orderRows.read(raw)).map((row) => [row.intentId!, row]))
    // The good-till cancel is durable work from the start: a delayed job due at goodTill.
    const work = created.flatMap((p) => {
      const order = orderByIntent.get(p.intentId)!
      const place = { walletId: order.walletId, kind: 'Order', orderId: order.id, payload: {}, availableAt: null }
      return p.input.goodTill
        ? [place, { walletId: order.walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason: 'goodTill' }, availableAt: p.input.goodTill }]
        : [place]
    })
    if (work.length) {
      // In the given order (ordinality): an order's outbox rows take their seq, the order work runs in, as listed.
      await insertOutbox(tx, { work: JSON.stringify(work) })
    }
    for (const p of created) outcomes[p.i] = { ok: true, placed: { intent: intentById.get(p.intentId)!, order: orderByIntent.get(p.intentId)!, created: true } }

    const notInserted = placing.filter((p) => !intentById.has(p.intentId))
    const repeated = notInserted.length ? await answerStored(tx, notInserted, outcomes) : []
    if (repeated.length) await answerRepeats(tx, rules, repeated, outcomes)
  })
  return outcomes as PlaceOutcome[]
}

// In id order, as every statement locking several wallets takes them (`lockWallets`: session maintenance's expiry,
// `awaitDelegationWithoutSession`): in the order of the scan, two such statements could deadlock.
const shareLockWallets = namedStatement<Record<string, unknown>, { walletIds: string[] }>('deputy_intake_lock_wallets', () => sql`
  select ${walletRows.list} from wallets where id = any(${sql.placeholder('walletIds')}::uuid[]) order by id for share`)

const insertIntents = namedStatement<Record<string, unknown>, { intents: string }>('deputy_intake_insert_intents', () => sql`
  insert into intents (id, wallet_id, kind, client_ref, market, side, price, size, time_in_force, good_till)
  select v.id, v."walletId", 'limit', v."clientRef", v.market, v.side, v.price, v.size, v."timeInForce", v."goodTill"
  from jsonb_to_recordset(${sql.placeholder('intents')}::jsonb) as v(
    id uuid, "walletId" uuid, "clientRef" text, market text, side smallint, price numeric, size numeric, "timeInForce" smallint, "goodTill" timestamptz)
  on conflict do nothing
  returning ${intentRows.list}`)

const insertOrders = namedStatement<Record<string, unknown>, { orders: string }>('deputy_intake_insert_orders', () => sql`
  insert into orders (wallet_id, intent_id, client_order_id, market, side, price, size, time_in_force, state)
  select v."walletId", v."intentId", v."clientOrderId", v.market, v.side, v.price, v.size, v."timeInForce", 'pending'
  from jsonb_to_recordset(${sql.placeholder('orders')}::jsonb) as v(
    "walletId" uuid, "intentId" uuid, "clientOrderId" text, market text, side smallint, price numeric, size numeric, "timeInForce" smallint)
  returning ${orderRows.list}`)

const insertOutbox = namedStatement<never, { work: string }>('deputy_intake_insert_outbox', () => sql`
  insert into outbox (wallet_id, kind, order_id, payload, available_at)
  select v."walletId", v.kind, v."orderId", v.payload, coalesce(v."availableAt", now())
  from rows from (jsonb_to_recordset(${sql.placeholder('work')}::jsonb) as ("walletId" uuid, kind text, "orderId" uuid, payload jsonb, "availableAt" timestamptz))
    with ordinality as v("walletId", kind, "orderId", payload, "availableAt", n)
  order by v.n`)

/** The fields of `input` that differ from what `intent` was first placed with (its price and size stay as asked). */
function differences(intent: IntentRow, input: PlaceLimitOrderInput, rules: MarketRules): string[] {
  const asked: [string, boolean][] = [
    ['market', intent.market === marketRule(rules, input.market).market],
    ['side', intent.side === Side[input.side]],
    ['price', parseAmount('price', intent.price) === parseAmount('price', input.price)],
    ['size', parseAmount('size', intent.size) === parseAmount('size', input.size)],
    ['timeInForce', intent.timeInForce === TimeInForce[input.timeInForce ?? 'GTC']],
    ['goodTill', (intent.goodTill?.getTime() ?? null) === (input.goodTill?.getTime() ?? null)],
  ]
  return asked.filter(([, same]) => !same).map(([field]) => field)
}

/**
 * Inputs whose intent id is already stored (a retry of a placement whose first attempt was
 * committed, its answer lost): answered with that intent and its first order, as placed by this
 * call. Answers the others, whose `clientRef` was already used.
 */
async function answerStored<P extends { input: PlaceLimitOrderInput; i: number; intentId: string }>(tx: Db, notInserted: readonly P[], outcomes: (PlaceOutcome | undefined)[]): Promise<P[]> {
  const stored = await tx.select().from(intents).where(inArray(intents.id, notInserted.map((p) => p.intentId)))
  if (stored.length === 0) return [...notInserted]
  const firstOrders = await tx.select().from(orders).where(inArray(orders.intentId, stored.map((row) => row.id))).orderBy(asc(orders.createdAt))
  return notInserted.filter((p) => {
    const intent = stored.find((row) => row.id === p.intentId && row.walletId === p.input.walletId)
    const order = intent && firstOrders.find((row) => row.intentId === intent.id)
    if (order) outcomes[p.i] = { ok: true, placed: { intent, order, created: true } }
    return !order
  })
}

/**
 * Inputs whose `clientRef` was already used for the wallet: the same order asked again answers that
 * intent's first order; a different one is refused, naming what differs (a reused reference would
 * otherwise read as placed while nothing of it was). An input whose reference is unused keeps its answer.
 */
async function answerRepeats(tx: Db, rules: MarketRules, repeated: readonly { input: PlaceLimitOrderInput; i: number }[], outcomes: (PlaceOutcome | undefined)[]): Promise<void> {
  const existing = await tx.select().from(intents)
    .where(sql`(${intents.walletId}, ${intents.clientRef}) in (select * from unnest(${sql.param(repeated.map((r) => r.input.walletId))}::uuid[], ${sql.param(repeated.map((r) => r.input.clientRef!))}::text[]))`)
  const firstOrders = existing.length === 0 ? [] : await tx.select().from(orders).where(inArray(orders.intentId, existing.map((row) => row.id))).orderBy(asc(orders.createdAt))
  for (const { input, i } of repeated) {
    const intent = existing.find((row) => row.walletId === input.walletId && row.clientRef === input.clientRef)
    // Not used yet (asked of a halted wallet): its answer stands.
    if (!intent) continue
    const differing = differences(intent, input, rules)
    outcomes[i] = differing.length > 0
      ? { ok: false, error: new ValidationError('clientRef', `was already used for another order of this wallet (its ${differing.join(', ')} ${differing.length === 1 ? 'differs' : 'differ'}); use a new clientRef, or repeat that order exactly to get it back`) }
      : { ok: true, placed: { intent, order: firstOrders.find((order) => order.intentId === intent.id)!, created: false } }
  }
}

function validate(rules: MarketRules, input: PlaceLimitOrderInput, now: Date): void {
  const rule = marketRule(rules, input.market)
  if (input.side !== 'buy' && input.side !== 'sell') throw new ValidationError('side', 'must be "buy" or "sell"')
  const price = parsePositiveAmount('price', input.price)
  const size = parsePositiveAmount('size', input.size)
  assertMultiple('price', price, rule.tickSize, 'tickSize')
  assertMultiple('size', size, rule.lotSize, 'lotSize')
  const tif = input.timeInForce ?? 'GTC'
  if (!Object.hasOwn(TimeInForce, tif)) throw new ValidationError('timeInForce', 'must be GTC, IOC or POST_ONLY')
  if (input.goodTill && input.goodTill.getTime() <= now.getTime()) throw new ValidationError('goodTill', 'must be in the future')
  // 9999 behind UTC is 10000 in UTC, which Postgres cannot read.
  if (input.goodTill && input.goodTill.getTime() >= FIRST_UNSTORABLE_TIME_MS) throw new ValidationError('goodTill', 'must be before 10000-01-01T00:00:00Z')
  // Characters (code points), as the API's schema counts them: an emoji is one, not its two UTF-16 units.
  const refLength = input.clientRef === undefined ? undefined : [...input.clientRef].length
  if (refLength !== undefined && (refLength === 0 || refLength > 128)) throw new ValidationError('clientRef', 'must be 1 to 128 characters')
}
