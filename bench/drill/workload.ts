import { eq } from 'drizzle-orm'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { OrderNotOpenError, requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { MarketRules } from '../../src/runtime/intake/marketRules.js'
import type { Db } from '../../src/store/Database.js'
import { orders } from '../../src/store/schema/index.js'
import type { AskedIntent } from './checkOutcome.js'
import type { DrillWallet } from './environment.js'
import { sleep } from './workerProcess.js'

export type WorkloadOptions = {
  db: Db
  markets: MarketRules
  wallets: DrillWallet[]
  orders: number
  /** Intake pace (orders per second). */
  ratePerSecond: number
  /** The current ETH-USD mark, so "immediately filling" and "resting" are chosen relative to it. */
  mark: () => number
  random: () => number
  /** The operator's status of an order (`open`, `partiallyFilled`, …), undefined before it has it: some changes wait until it is live there. */
  operatorStatus: (address: string, clientOrderId: string) => string | undefined
}

export type WorkloadReport = {
  placed: number
  modifies: number
  cancels: number
  changesRefused: number
  /** Cancels asked once the order was live at the operator. */
  cancelsOfLive: number
  /** Every placed intent and the changes intake accepted for it, in the order asked. */
  asked: AskedIntent[]
  /** Placements intake refused because the wallet was halted (their clientRefs: none may have an intent), and modifies refused so. */
  refusedByHalt: string[]
  modifiesRefusedByHalt: number
}

/** Intake's refusal of a placement or a modify because the wallet is halted (the kill switch): the user's answer, not an error of the run. */
const haltedRefusal = (error: unknown) => error instanceof ValidationError && error.rule.startsWith('the wallet is halted')

type Kind = 'cross' | 'ioc' | 'rest' | 'restModify' | 'restModifyCross' | 'restCancel' | 'restModifyCancel' | 'openCancel' | 'crossOpenCancel' | 'openModifyTwiceCancel'

/**
 * Writes `orders` intents through intake at a steady pace: some cross the maker at
 * once (GTC or IOC; with a small maker size they fill partly and a GTC rests the
 * rest), the others rest on the book, and some get modifies and/or a cancel a little
 * later: while the placement is in flight, or once the order is live at the operator
 * (a cancel then reaches the operator; a modify may move the order through the mark,
 * so it fills). A modify's size always grows (it is the new total), so the operator
 * never refuses one for not exceeding what filled. A change refused at intake because
 * the order already finished is counted, not an error; one refused because a session's end
 * cancelled the order and placed it again is asked again of the replacement. A placement or a
 * modify intake refuses because the wallet is halted (the drill's kill switches) is counted
 * (`refusedByHalt`, `modifiesRefusedByHalt`), as a user is told no; cancels go through while halted.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadReport> {
  const { db, markets, random } = options
  const report: WorkloadReport = { placed: 0, modifies: 0, cancels: 0, changesRefused: 0, cancelsOfLive: 0, asked: [], refusedByHalt: [], modifiesRefusedByHalt: 0 }
  const followUps: Promise<void>[] = []
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const ticks = (from: number, to: number) => from + Math.floor(random() * (to - from + 1))
  const price = (value: number) => (Math.round(value * 100) / 100).toFixed(2)
  const size = () => (ticks(1, 100) / 1000).toFixed(3)
  const kinds: [Kind, number][] = [
    ['cross', 30], ['ioc', 10], ['rest', 14], ['restModify', 8], ['restModifyCross', 8], ['restCancel', 8], ['restModifyCancel', 6],
    ['openCancel', 8], ['crossOpenCancel', 5], ['openModifyTwiceCancel', 3],
  ]
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0)
  const kindOf = (): Kind => {
    let roll = random() * total
    for (const [kind, weight] of kinds) if ((roll -= weight) < 0) return kind
    return 'rest'
  }

  /**
   * A change of the intent's current order: one its session's end cancelled and placed again names
   * its replacement (`replaced_by`), which intake's refusal points to, and a user follows it.
   */
  const change = async (firstOrderId: string, work: (orderId: string) => Promise<{ outboxId: string }>, count: 'modifies' | 'cancels'): Promise<{ outboxId: string; orderId: string } | undefined> => {
    for (let orderId = firstOrderId; ;) {
      try {
        const { outboxId } = await work(orderId)
        report[count]++
        return { outboxId, orderId }
      } catch (error) {
        if (count === 'modifies' && haltedRefusal(error)) { report.modifiesRefusedByHalt++; return undefined }
        if (!(error instanceof OrderNotOpenError)) throw error
        const [row] = await db.select({ replacedBy: orders.replacedBy }).from(orders).where(eq(orders.id, orderId))
        if (row?.replacedBy) { orderId = row.replacedBy; continue }
        report.changesRefused++
        return undefined
      }
    }
  }
  /**
   * Waits (up to 60 s: placements wait out the worker's restarts) until the operator holds the order live; answers whether it does.
   * An order that ended in Postgres without reaching the operator (a halt cancelled it unsent) never will: checked every second.
   */
  const live = async (address: string, orderId: string, cloid: string) => {
    for (let waited = 0; waited < 60_000; waited += 100) {
      const status = options.operatorStatus(address, cloid)
      if (status === 'open' || status === 'partiallyFilled') return true
      if (status !== undefined) return false
      if (waited % 1_000 === 0 && waited > 0) {
        const [row] = await db.select({ state: orders.state, venueOrderId: orders.venueOrderId }).from(orders).where(eq(orders.id, orderId))
        if (row && (row.state === 'cancelled' || row.state === 'rejected') && row.venueOrderId === null) return false
      }
      await sleep(100)
    }
    return false
  }

  const started = Date.now()
  for (let i = 0; i < options.orders; i++) {
    const due = started + (i * 1000) / options.ratePerSecond
    if (due > Date.now()) await sleep(due - Date.now())
    const wallet = pick(options.wallets)
    const kind = kindOf()
    const side = random() < 0.5 ? 'buy' : 'sell'
    const mark = options.mark()
    const crossing = kind === 'cross' || kind === 'ioc' || kind === 'crossOpenCancel'
    // A crossing buy sits a little above the mark, a resting buy well below it (and the reverse for sells).
    const distance = crossing ? -ticks(0, 1000) / 100 : ticks(500, 10_000) / 100
    const limit = side === 'buy' ? mark - distance : mark + distance
    // Larger than the maker's size, so the order fills partly and rests the rest until cancelled.
    const asked: AskedIntent = { clientRef: `drill-${i}`, price: price(limit), size: kind === 'crossOpenCancel' ? (ticks(30, 100) / 1000).toFixed(3) : size(), modifies: [], cancels: [] }
    let order
    try {
      ({ order } = await placeLimitOrder(db, markets, {
        walletId: wallet.walletId, market: 'ETH-USD', side, price: asked.price, size: asked.size,
        timeInForce: kind === 'ioc' ? 'IOC' : 'GTC', clientRef: asked.clientRef,
      }, new Date()))
    } catch (error) {
      // The wallet's kill switch is on: intake refused it, and the user has no order to follow.
      if (!haltedRefusal(error)) throw error
      report.refusedByHalt.push(asked.clientRef)
      continue
    }
    report.placed++
    report.asked.push(asked)
    if (kind === 'cross' || kind === 'ioc' || kind === 'rest') continue
    let current = { price: limit, size: Number(asked.size) }
    const modify = async (through: boolean) => {
      // Away from the mark, or through it (a buy above the mark fills at once, partly when larger than the maker's size).
      const now = options.mark()
      const moved = through
        ? (side === 'buy' ? now + ticks(0, 500) / 100 : now - ticks(0, 500) / 100)
        : (side === 'buy' ? current.price - ticks(0, 500) / 100 : current.price + ticks(0, 500) / 100)
      const next = { price: moved, size: current.size + ticks(1, 30) / 1000 }
      const ask = { price: price(next.price), size: next.size.toFixed(3) }
      const done = await change(order.id, (orderId) => requestModify(db, markets, { orderId, ...ask }), 'modifies')
      if (done) { asked.modifies.push({ ...done, ...ask }); current = next }
    }
    const cancel = async () => {
      const done = await change(order.id, (orderId) => requestCancel(db, { orderId }), 'cancels')
      if (done) asked.cancels.push(done.outboxId)
      return done
    }
    followUps.push((async () => {
      switch (kind) {
        case 'restModify':
        case 'restCancel':
        case 'restModifyCancel':
          await sleep(ticks(0, 1500))
          if (kind !== 'restCancel') {
            await modify(false)
            await sleep(ticks(0, 1500))
          }
          if (kind !== 'restModify') await cancel()
          return
        case 'restModifyCross':
          await live(wallet.address, order.id, order.clientOrderId)
          await modify(true)
          return
        case 'openCancel':
        case 'crossOpenCancel':
        case 'openModifyTwiceCancel': {
          const wasLive = await live(wallet.address, order.id, order.clientOrderId)
          if (kind !== 'crossOpenCancel') await sleep(ticks(0, 500))
          if (kind === 'openModifyTwiceCancel') {
            await modify(false)
            await modify(false)
            await sleep(ticks(0, 1000))
          }
          if ((await cancel()) && wasLive) report.cancelsOfLive++
        }
      }
    })())
  }
  await Promise.all(followUps)
  return report
}
