import { OrderNotOpenError, requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { MarketRules } from '../../src/runtime/intake/marketRules.js'
import type { Db } from '../../src/store/Database.js'
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
}

export type WorkloadReport = { placed: number; modifies: number; cancels: number; changesRefused: number }

type Kind = 'cross' | 'ioc' | 'rest' | 'restModify' | 'restCancel' | 'restModifyCancel'

/**
 * Writes `orders` intents through intake at a steady pace: about half cross the
 * maker at once (GTC or IOC), the rest rest on the book, and some of those get
 * a modify and/or a cancel a little later (while, or after, the placement is in
 * flight). A change refused at intake because the order already finished is
 * counted, not an error.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadReport> {
  const { db, markets, random } = options
  const report: WorkloadReport = { placed: 0, modifies: 0, cancels: 0, changesRefused: 0 }
  const followUps: Promise<void>[] = []
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const ticks = (from: number, to: number) => from + Math.floor(random() * (to - from + 1))
  const price = (value: number) => (Math.round(value * 100) / 100).toFixed(2)
  const size = () => (ticks(1, 100) / 1000).toFixed(3)
  const kinds: [Kind, number][] = [['cross', 40], ['ioc', 10], ['rest', 20], ['restModify', 10], ['restCancel', 12], ['restModifyCancel', 8]]
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0)
  const kindOf = (): Kind => {
    let roll = random() * total
    for (const [kind, weight] of kinds) if ((roll -= weight) < 0) return kind
    return 'rest'
  }

  const change = async (work: () => Promise<unknown>, count: 'modifies' | 'cancels') => {
    try {
      await work()
      report[count]++
    } catch (error) {
      if (!(error instanceof OrderNotOpenError)) throw error
      report.changesRefused++
    }
  }

  const started = Date.now()
  for (let i = 0; i < options.orders; i++) {
    const due = started + (i * 1000) / options.ratePerSecond
    if (due > Date.now()) await sleep(due - Date.now())
    const wallet = pick(options.wallets)
    const kind = kindOf()
    const side = random() < 0.5 ? 'buy' : 'sell'
    const mark = options.mark()
    const crossing = kind === 'cross' || kind === 'ioc'
    // A crossing buy sits a little above the mark, a resting buy well below it (and the reverse for sells).
    const distance = crossing ? -ticks(0, 1000) / 100 : ticks(500, 10_000) / 100
    const limit = side === 'buy' ? mark - distance : mark + distance
    const { order } = await placeLimitOrder(db, markets, {
      walletId: wallet.walletId, market: 'ETH-USD', side, price: price(limit), size: size(),
      timeInForce: kind === 'ioc' ? 'IOC' : 'GTC', clientRef: `drill-${i}`,
    }, new Date())
    report.placed++
    if (kind === 'restModify' || kind === 'restModifyCancel' || kind === 'restCancel') {
      followUps.push((async () => {
        await sleep(ticks(0, 1500))
        if (kind !== 'restCancel') {
          const moved = side === 'buy' ? limit - ticks(0, 500) / 100 : limit + ticks(0, 500) / 100
          await change(() => requestModify(db, markets, { orderId: order.id, price: price(moved), size: size() }), 'modifies')
          await sleep(ticks(0, 1500))
        }
        if (kind !== 'restModify') await change(() => requestCancel(db, { orderId: order.id }), 'cancels')
      })())
    }
  }
  await Promise.all(followUps)
  return report
}
