import { and, asc, eq, inArray } from 'drizzle-orm'
import { formatAmount, parseAmount } from '../../src/core/money/decimal.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import type { SandboxEvent } from '../../src/sandbox/engine/types.js'
import type { Db } from '../../src/store/Database.js'
import { type OrderRow, type OutboxRow, events, fills, intents, orders, outbox, requests } from '../../src/store/schema/index.js'

const venueState = { open: 'open', partiallyFilled: 'partially_filled', filled: 'filled', cancelled: 'cancelled' } as const
const IOC = 1

/** What the workload asked for one intent, by the outbox ids intake answered (so each ask can be found in Postgres). */
export type AskedIntent = {
  clientRef: string
  price: string
  size: string
  modifies: { outboxId: string; price: string; size: string }[]
  cancels: string[]
}

export type Outcome = {
  intents: number
  operatorOrders: number
  /** Orders the operator created beyond one per cloid, orders no intent accounts for, and an intent's second live or filled order that no session rotation explains. */
  duplicates: number
  /** Placed intents missing from Postgres, intents with no order at the operator that no asked cancel explains. */
  lost: number
  /** Orders (every one, Postgres's and the operator's) whose state, filled size, price or size differ. */
  mismatched: number
  /** Asked cancels that did not end the order (or came after a fill the cancel should have beaten), and orders cancelled at the operator that nobody asked to cancel. */
  cancelsWrong: number
  /** Orders whose final price or size at the operator is not the last one the user asked (placement or modify), modifies applied that nobody asked, and asked modifies dropped while the order was live. */
  modifiesWrong: number
  /** Orders whose average price or fees differ, and fills missing on one side or differing by fill id. */
  fillsDiffering: number
  /** Outbox rows that failed for good (a business refusal the operator's state proves is not counted). */
  failedOutbox: number
  cancelledBeforePlacement: number
  /** What reached the operator, to show what a run exercised. */
  exercised: { userCancels: number; userCancelsOfPartlyFilled: number; modifiesApplied: number; modifiedThenFilled: number; partiallyFilled: number; iocRemaindersCancelled: number }
  /** Final states in Postgres, for the report. */
  states: Record<string, number>
  /** The first few problems, for diagnosis. */
  examples: string[]
  /** For the first few problem orders: what the operator and Postgres each recorded of them. */
  histories: string[]
}

type VenueOrder = { status: string; price: bigint; size: bigint; filled: bigint; revision: number; updatedAt: number; wallet: string }
type VenueFill = { fillId: string; clientOrderId: string; price: bigint; size: bigint; fee: bigint }

/**
 * Compares Postgres with the operator's own state (the in-process sandbox) and with what the
 * workload asked (`asked`, by clientRef; without it the asks are read from the outbox alone).
 * Every counter must be zero.
 */
export async function checkOutcome(db: Db, sandbox: Sandbox, walletIds: string[], asked?: AskedIntent[]): Promise<Outcome> {
  const examples: string[] = []
  const note = (text: string) => { if (examples.length < 30) examples.push(text) }
  const historyOf: { order: OrderRow; wallet: string }[] = []
  const explain = (order: OrderRow | undefined, wallet: string | undefined) => {
    if (order && wallet && historyOf.length < 3 && !historyOf.some((h) => h.order.id === order.id)) historyOf.push({ order, wallet })
  }
  const allIntents = await db.select().from(intents).where(inArray(intents.walletId, walletIds))
  const allOrders = await db.select().from(orders).where(inArray(orders.walletId, walletIds)).orderBy(asc(orders.createdAt))
  const allOutbox = await db.select().from(outbox).where(inArray(outbox.walletId, walletIds)).orderBy(asc(outbox.seq))
  const allFills = await db.select().from(fills).where(inArray(fills.walletId, walletIds))
  const fillRowById = new Map(allFills.map((f) => [f.fillId, f]))
  const orderById = new Map(allOrders.map((o) => [o.id, o]))
  const ordersByIntent = new Map<string, OrderRow[]>()
  for (const o of allOrders) if (o.intentId) ordersByIntent.set(o.intentId, [...(ordersByIntent.get(o.intentId) ?? []), o])
  const orderByCloid = new Map(allOrders.map((o) => [o.clientOrderId.toLowerCase(), o]))
  const rowsByIntent = new Map<string, OutboxRow[]>()
  for (const row of allOutbox) {
    const intentId = row.orderId ? orderById.get(row.orderId)?.intentId : undefined
    if (intentId) rowsByIntent.set(intentId, [...(rowsByIntent.get(intentId) ?? []), row])
  }

  // The operator's truth: every order it holds by cloid, its events and its fills.
  const venueOrders = new Map<string, VenueOrder>()
  const venueEvents = new Map<string, SandboxEvent[]>()
  const venueFills = new Map<string, VenueFill[]>()
  const venueFillById = new Map<string, VenueFill>()
  let mapped = 0
  for (const wallet of sandbox.state.wallets.values()) {
    for (const [cloid, order] of wallet.orders) {
      mapped++
      venueOrders.set(cloid.toLowerCase(), { status: order.status, price: order.price, size: order.size, filled: order.filled, revision: order.revision, updatedAt: order.updatedAt, wallet: wallet.key })
    }
    for (const event of wallet.events.since(0)) {
      const cloid = event.clientOrderId?.toLowerCase()
      if (cloid) venueEvents.set(cloid, [...(venueEvents.get(cloid) ?? []), event])
    }
    for (const fill of wallet.fills) {
      const record = { fillId: `${wallet.key}:${fill.fillId}`, clientOrderId: fill.clientOrderId.toLowerCase(), price: fill.price, size: fill.size, fee: fill.fee }
      venueFills.set(record.clientOrderId, [...(venueFills.get(record.clientOrderId) ?? []), record])
      venueFillById.set(record.fillId, record)
    }
  }
  const venueOf = (o: OrderRow | undefined) => (o ? venueOrders.get(o.clientOrderId.toLowerCase()) : undefined)
  const walletKeyOf = (o: OrderRow) => venueOf(o)?.wallet ?? [...sandbox.state.wallets.values()].find((w) => w.orders.has(o.clientOrderId.toLowerCase()))?.key

  // --- Duplicates: operator orders beyond one per cloid, with no intent, or a second per intent.
  const created = sandbox.state.counters.order
  let duplicates = created - mapped
  if (duplicates > 0) note(`the operator created ${created} orders but holds ${mapped} cloids`)
  for (const cloid of venueOrders.keys()) {
    const local = orderByCloid.get(cloid)
    if (!local?.intentId) { duplicates++; note(`operator order ${cloid} belongs to no intent`) }
  }
  /** An intent's orders as chains: a root (named by no replaced_by) and the orders that replaced it in turn. */
  const chainsOf = (intentOrders: OrderRow[]): OrderRow[][] => {
    const named = new Set(intentOrders.map((o) => o.replacedBy).filter((id): id is string => !!id))
    return intentOrders.filter((o) => !named.has(o.id)).map((root) => {
      const chain = [root]
      for (let next = root.replacedBy; next && orderById.get(next) && !chain.some((o) => o.id === next);) {
        chain.push(orderById.get(next)!)
        next = orderById.get(next)!.replacedBy
      }
      return chain
    })
  }

  let lost = 0
  let mismatched = 0
  let cancelsWrong = 0
  let modifiesWrong = 0
  let fillsDiffering = 0
  let cancelledBeforePlacement = 0
  const states: Record<string, number> = {}

  // --- Every placed clientRef must have its intent.
  const refs = new Set(allIntents.map((i) => i.clientRef))
  const askedByRef = new Map((asked ?? []).map((a) => [a.clientRef, a]))
  for (const a of asked ?? []) {
    if (!refs.has(a.clientRef)) { lost++; note(`placed ${a.clientRef} has no intent in Postgres`) }
  }

  for (const intent of allIntents) {
    const intentOrders = ordersByIntent.get(intent.id) ?? []
    const rows = rowsByIntent.get(intent.id) ?? []
    const cancelRows = rows.filter((r) => r.kind === 'CancelOrder')
    const modifyRows = rows.filter((r) => r.kind === 'ModifyOrder')
    const ask = intent.clientRef ? askedByRef.get(intent.clientRef) : undefined
    for (const o of intentOrders) states[o.state] = (states[o.state] ?? 0) + 1

    // What the workload asked must be what intake recorded.
    if (ask) {
      if (parseAmount('price', intent.price) !== parseAmount('price', ask.price) || parseAmount('size', intent.size) !== parseAmount('size', ask.size)) {
        modifiesWrong++
        note(`intent ${intent.id} (${ask.clientRef}) records ${intent.price} x ${intent.size}; the user asked ${ask.price} x ${ask.size}`)
      }
      for (const m of ask.modifies) {
        const row = modifyRows.find((r) => r.id === m.outboxId)
        if (!row) { modifiesWrong++; note(`intent ${intent.id}: the modify ${m.outboxId} the user asked (${m.price} x ${m.size}) has no outbox row`); continue }
        if (row.payload.follows === undefined && (parseAmount('price', String(row.payload.price)) !== parseAmount('price', m.price) || parseAmount('size', String(row.payload.size)) !== parseAmount('size', m.size))) {
          modifiesWrong++
          note(`intent ${intent.id}: modify row ${row.id} carries ${String(row.payload.price)} x ${String(row.payload.size)}; the user asked ${m.price} x ${m.size}`)
        }
      }
      for (const c of ask.cancels) {
        if (!cancelRows.some((r) => r.id === c)) { cancelsWrong++; note(`intent ${intent.id}: the cancel ${c} the user asked has no outbox row`) }
      }
      // A cancel by the user that the workload did not ask.
      const stray = asked ? cancelRows.filter((r) => r.payload.reason === 'user' && !ask.cancels.includes(r.id)) : []
      for (const r of stray) { cancelsWrong++; note(`intent ${intent.id}: cancel row ${r.id} (reason user) that the user never asked`) }
    }
    const cancelAsked = cancelRows.length > 0 || (ask?.cancels.length ?? 0) > 0

    if (!intentOrders.length) { lost++; note(`intent ${intent.id} has no order row`); continue }
    const chains = chainsOf(intentOrders)
    const atVenue = intentOrders.filter((o) => venueOf(o))

    // Duplicates: one chain, and in it an order follows only a predecessor the operator cancelled.
    let firstSeen = false
    for (const chain of chains) {
      chain.forEach((o, i) => {
        if (!venueOf(o)) return
        const legit = !firstSeen || (i > 0 && venueOf(chain[i - 1])?.status === 'cancelled')
        firstSeen = true
        if (!legit) {
          duplicates++
          note(`intent ${intent.id}: operator order ${o.clientOrderId} (${venueOf(o)!.status}) is a second order for it (the intent has ${atVenue.length} at the operator${i > 0 ? `, its predecessor is ${venueOf(chain[i - 1])?.status ?? 'not at the operator'}` : ', no replaced_by names it'})`)
          explain(o, walletKeyOf(o))
        }
      })
    }

    // Orders never at the operator: cancelled before placement on an asked cancel, or rejected by the operator.
    for (const o of intentOrders) {
      if (venueOf(o)) continue
      const rejectedAtVenue = (venueEvents.get(o.clientOrderId.toLowerCase()) ?? []).some((e) => e.type === 'OrderRejected')
      if (o.state === 'cancelled' && o.venueOrderId === null && cancelAsked) { cancelledBeforePlacement++; continue }
      if (o.state === 'rejected' && rejectedAtVenue) continue
      if (atVenue.length === 0) { lost++; note(`intent ${intent.id} (order ${o.id} ${o.state}${o.state === 'cancelled' && !cancelAsked ? ', no cancel asked' : ''}) has no order at the operator`) }
      else { mismatched++; note(`order ${o.id} ${o.clientOrderId} is ${o.state} in Postgres and not at the operator`) }
    }

    // Every order at the operator against its Postgres row.
    for (const o of atVenue) {
      const venue = venueOf(o)!
      const differences: string[] = []
      if (venueState[venue.status as keyof typeof venueState] !== o.state) differences.push(`state ${o.state} vs ${venue.status}`)
      if (parseAmount('filled', o.filled) !== venue.filled) differences.push(`filled ${o.filled} vs ${formatAmount(venue.filled)}`)
      if (parseAmount('price', o.price) !== venue.price) differences.push(`price ${o.price} vs ${formatAmount(venue.price)}`)
      if (parseAmount('size', o.size) !== venue.size) differences.push(`size ${o.size} vs ${formatAmount(venue.size)}`)
      if (differences.length) {
        mismatched++
        note(`order ${o.id} ${o.clientOrderId}: ${differences.join(', ')} (revision ${o.venueRevision} vs ${venue.revision})`)
        explain(o, venue.wallet)
      }
      // Fills: average price, fees, and the fill rows by fill id.
      const opFills = venueFills.get(o.clientOrderId.toLowerCase()) ?? []
      const fillDiffs: string[] = []
      const opFilled = opFills.reduce((s, f) => s + f.size, 0n)
      const opNotional = opFills.reduce((s, f) => s + f.price * f.size, 0n)
      const opFees = opFills.reduce((s, f) => s + f.fee, 0n)
      const opAverage = opFilled === 0n ? null : opNotional / opFilled
      const pgAverage = o.averagePrice === null ? null : parseAmount('averagePrice', o.averagePrice)
      if (opAverage !== pgAverage) fillDiffs.push(`average price ${o.averagePrice ?? '-'} vs ${opAverage === null ? '-' : formatAmount(opAverage)}`)
      if (BigInt(o.filledNotional) !== opNotional) fillDiffs.push(`filled notional ${o.filledNotional} vs ${opNotional}`)
      if (parseAmount('fees', o.fees) !== opFees) fillDiffs.push(`fees ${o.fees} vs ${formatAmount(opFees)}`)
      for (const f of opFills) {
        const row = fillRowById.get(f.fillId.slice(venue.wallet.length + 1))
        if (!row) fillDiffs.push(`fill ${f.fillId} missing in Postgres`)
        else if (row.orderId !== o.id || parseAmount('price', row.price) !== f.price || parseAmount('size', row.size) !== f.size || parseAmount('fee', row.fee) !== f.fee) {
          fillDiffs.push(`fill ${f.fillId}: ${row.price} x ${row.size} fee ${row.fee} (order ${row.orderId}) vs ${formatAmount(f.price)} x ${formatAmount(f.size)} fee ${formatAmount(f.fee)}`)
        }
      }
      if (fillDiffs.length) {
        fillsDiffering++
        note(`order ${o.id} ${o.clientOrderId} fills: ${fillDiffs.join(', ')}`)
        explain(o, venue.wallet)
      }
    }

    const final = chains.flat().filter((o) => venueOf(o)).at(-1)
    const finalVenue = venueOf(final)

    // Cancels: an asked cancel ends the order, unless it filled before the cancel was settled.
    if (cancelAsked && final && finalVenue) {
      const lastCancelDone = Math.max(...cancelRows.map((r) => r.updatedAt.getTime()))
      if (finalVenue.status === 'open' || finalVenue.status === 'partiallyFilled') {
        cancelsWrong++
        note(`order ${final.id} ${final.clientOrderId}: a cancel was asked, the operator still has it ${finalVenue.status}`)
        explain(final, finalVenue.wallet)
      } else if (finalVenue.status === 'filled' && !(finalVenue.updatedAt <= lastCancelDone)) {
        cancelsWrong++
        note(`order ${final.id} ${final.clientOrderId}: a cancel was asked and settled at ${new Date(lastCancelDone).toISOString()}, the order filled later (${new Date(finalVenue.updatedAt).toISOString()})`)
        explain(final, finalVenue.wallet)
      }
    }
    if (!cancelAsked) {
      for (const o of atVenue) {
        const venue = venueOf(o)!
        if (venue.status === 'cancelled' && o.timeInForce !== IOC && !o.replacedBy) {
          cancelsWrong++
          note(`order ${o.id} ${o.clientOrderId} is cancelled at the operator though nobody asked to cancel it`)
          explain(o, venue.wallet)
        }
      }
    }

    // Modifies: the operator's modifications are the asked ones, in order; one not applied was
    // refused (its size does not exceed what filled) or came after the order ended; the final
    // price and size are the last applied ask (or the placement).
    if (final && finalVenue) {
      const chain = chains.find((c) => c.includes(final)) ?? [final]
      let price = parseAmount('price', intent.price)
      let size = parseAmount('size', intent.size)
      let next = 0
      const applied = new Set<string>()
      for (const [k, o] of chain.entries()) {
        if (k > 0) size -= venueOf(chain[k - 1])?.filled ?? 0n
        for (const e of (venueEvents.get(o.clientOrderId.toLowerCase()) ?? []).filter((x) => x.type === 'OrderModified')) {
          const eventPrice = parseAmount('price', String(e.data.price))
          const eventSize = parseAmount('size', String(e.data.size))
          const at = modifyRows.findIndex((r, i) => i >= next && r.orderId === o.id && parseAmount('price', String(r.payload.price)) === eventPrice && parseAmount('size', String(r.payload.size)) === eventSize)
          if (at < 0) {
            modifiesWrong++
            note(`order ${o.id} ${o.clientOrderId}: the operator applied ${String(e.data.price)} x ${String(e.data.size)} (seq ${e.seq}), which no pending modify asked`)
            explain(o, walletKeyOf(o))
            continue
          }
          applied.add(modifyRows[at]!.id)
          next = at + 1
          price = eventPrice
          size = eventSize
        }
      }
      for (const row of modifyRows) {
        if (applied.has(row.id)) continue
        const target = row.orderId ? orderById.get(row.orderId) : undefined
        const venue = venueOf(target)
        const rowSize = parseAmount('size', String(row.payload.size))
        const ended = venue && (venue.status === 'filled' || venue.status === 'cancelled') && venue.updatedAt <= row.updatedAt.getTime() && (row.status === 'done' || row.status === 'failed')
        const refused = venue && rowSize <= venue.filled
        const neverPlaced = target && !venue && target.state === 'cancelled' && target.venueOrderId === null
        if (!ended && !refused && !neverPlaced) {
          modifiesWrong++
          note(`order ${target?.id ?? row.orderId} ${target?.clientOrderId ?? ''}: modify ${row.id} (${String(row.payload.price)} x ${String(row.payload.size)}, outbox ${row.status}${row.lastError ? `: ${row.lastError}` : ''}, settled ${row.updatedAt.toISOString()}) was not applied though the order was ${venue ? `${venue.status} (last change ${new Date(venue.updatedAt).toISOString()})` : 'not at the operator'}`)
          explain(target, target && walletKeyOf(target))
        }
      }
      if (finalVenue.price !== price || finalVenue.size !== size) {
        modifiesWrong++
        note(`order ${final.id} ${final.clientOrderId}: the operator has ${formatAmount(finalVenue.price)} x ${formatAmount(finalVenue.size)}, the last applied ask was ${formatAmount(price)} x ${formatAmount(size)}`)
        explain(final, finalVenue.wallet)
      }
    }
  }

  // Postgres fill rows the operator never made.
  for (const row of allFills) {
    const walletKey = [...sandbox.state.wallets.values()].find((w) => w.orders.has(row.clientOrderId.toLowerCase()))?.key
    if (!venueFillById.has(`${walletKey}:${row.fillId}`)) { fillsDiffering++; note(`fill row ${row.fillId} (${row.clientOrderId}) is not a fill at the operator`) }
  }

  // Outbox rows that failed for good. A modify the operator refused because its size did not exceed
  // what had filled is the user's ask being impossible, proven by the operator's filled size.
  let failedOutbox = 0
  for (const row of allOutbox.filter((r) => r.status === 'failed')) {
    const venue = venueOf(row.orderId ? orderById.get(row.orderId) : undefined)
    if (row.kind === 'ModifyOrder' && row.lastError?.startsWith('InvalidRequest') && venue && parseAmount('size', String(row.payload.size)) <= venue.filled) continue
    failedOutbox++
    note(`outbox ${row.kind} ${row.id} (order ${row.orderId ?? '-'}) failed: ${row.lastError ?? ''}`)
  }

  // What reached the operator.
  const exercised = { userCancels: 0, userCancelsOfPartlyFilled: 0, modifiesApplied: 0, modifiedThenFilled: 0, partiallyFilled: 0, iocRemaindersCancelled: 0 }
  for (const [cloid, list] of venueEvents) {
    const venue = venueOrders.get(cloid)
    for (const e of list) {
      if (e.type === 'OrderCancelled' && e.data.reason === 'user') {
        exercised.userCancels++
        if (venue && venue.filled > 0n) exercised.userCancelsOfPartlyFilled++
      }
      if (e.type === 'OrderCancelled' && e.data.reason === 'ioc' && venue && venue.filled > 0n) exercised.iocRemaindersCancelled++
      if (e.type === 'OrderModified') exercised.modifiesApplied++
    }
    const firstModified = list.findIndex((e) => e.type === 'OrderModified')
    if (firstModified >= 0 && list.slice(firstModified).some((e) => e.type === 'OrderFilled')) exercised.modifiedThenFilled++
  }
  for (const [cloid, venue] of venueOrders) {
    if (venue.filled > 0n && (venue.filled < venue.size || (venueFills.get(cloid)?.length ?? 0) > 1)) exercised.partiallyFilled++
  }

  const histories: string[] = []
  for (const { order, wallet } of historyOf) histories.push(await history(db, sandbox, order, wallet))
  return {
    intents: allIntents.length, operatorOrders: venueOrders.size, duplicates, lost, mismatched, cancelsWrong, modifiesWrong, fillsDiffering, failedOutbox,
    cancelledBeforePlacement, exercised, states, examples, histories,
  }
}

/** The problem counters of an outcome, labelled as the drill prints them. */
export function problemRows(outcome: Outcome): [string, number][] {
  return [
    ['duplicate orders at the operator', outcome.duplicates],
    ['intents lost', outcome.lost],
    ['orders differing (Postgres vs operator)', outcome.mismatched],
    ['cancels without effect or unasked', outcome.cancelsWrong],
    ['price/size not as asked (modifies)', outcome.modifiesWrong],
    ['fills differing (avg price, fees, rows)', outcome.fillsDiffering],
    ['outbox rows failed', outcome.failedOutbox],
  ]
}

/** One order as each side recorded it: the operator's events, Postgres's requests, stored events and outbox rows. */
async function history(db: Db, sandbox: Sandbox, order: OrderRow, walletKey: string): Promise<string> {
  const cloid = order.clientOrderId.toLowerCase()
  const wallet = [...sandbox.state.wallets.values()].find((w) => w.key === walletKey)
  const operatorEvents = (wallet?.events.since(0) ?? []).filter((e) => e.clientOrderId?.toLowerCase() === cloid)
  const sent = await db.select().from(requests).where(eq(requests.orderId, order.id)).orderBy(asc(requests.createdAt))
  const stored = await db.select().from(events).where(and(eq(events.walletId, order.walletId), eq(events.clientOrderId, cloid))).orderBy(asc(events.seq))
  const rows = await db.select().from(outbox).where(eq(outbox.orderId, order.id)).orderBy(asc(outbox.seq))
  const fieldsOf = (data: Record<string, unknown> | undefined) => ['revision', 'price', 'size', 'remaining', 'reason'].filter((k) => data?.[k] !== undefined).map((k) => `${k} ${String(data![k])}`).join(' ')
  const lines = [
    `order ${order.id} ${cloid}: Postgres ${order.state} price ${order.price} size ${order.size} filled ${order.filled} revision ${order.venueRevision}, updated ${order.updatedAt.toISOString()}`,
    ...operatorEvents.map((e) => `  operator seq ${e.seq} ${new Date(e.at).toISOString()} ${e.type} ${fieldsOf(e.data)}`),
    ...stored.map((e) => `  stored   seq ${e.seq} ${e.type} ${fieldsOf((e.payload as { data?: Record<string, unknown> }).data)}`),
    ...rows.map((r) => `  outbox ${r.kind} ${r.id} seq ${r.seq} ${r.status} ${JSON.stringify(r.payload)} created ${r.createdAt.toISOString()} updated ${r.updatedAt.toISOString()}${r.lastError ? ` ${r.lastError}` : ''}`),
    ...sent.map((r) => {
      const message = (JSON.parse(r.body) as { message: Record<string, string> }).message
      return `  request ${r.family} ${r.status}${r.duplicate ? ' (duplicate)' : ''} ${r.createdAt.toISOString()}→${r.completedAt?.toISOString() ?? '-'} price ${message.price ?? '-'} size ${message.size ?? '-'} nonce ${String(r.nonce)}${r.errorCode ? ` ${r.errorCode}` : ''}`
    }),
  ]
  return lines.join('\n')
}
