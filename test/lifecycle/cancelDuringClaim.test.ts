/**
 * A cancel asked for an order whose placement is being claimed at that very moment: the claim
 * waits for the cancel's lock on the order, and must then see the cancel the user was told was
 * taken (the intent `cancel_requested`), not a read of the intent made before it committed. An
 * order the user cancelled before anything was sent is never placed (a marketable one would fill).
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOrder, rows, settled } from './support/lifecycle.js'

let h: Harness
let r: ReturnType<typeof rows>
let worker: Promise<RunningWorker> | undefined

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
})
afterAll(async () => {
  await worker?.catch(() => undefined)
  await h?.close()
})

/** Statements of the worker waiting for a lock on an order (the claim, batched or one by one). */
async function claimWaiting(client: pg.Client): Promise<number> {
  const { rows: found } = await client.query(`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike '%orders%'`)
  return found[0].n as number
}

it('an order cancelled while its placement is being claimed is not placed', async () => {
  const w = await activeWallet(h)
  // At the mark: placed, it fills at once.
  const input = { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy' as const, price: '2000', size: '0.1' }
  const { order } = await placeLimitOrder(h.db, await h.markets(), input, new Date(h.sandbox.now()))

  const watcher = new pg.Client({ connectionString: h.databaseUrl })
  await watcher.connect()
  try {
    let cancelTaken!: () => void
    let commit!: () => void
    const taken = new Promise<void>((resolve) => { cancelTaken = resolve })
    const committing = new Promise<void>((resolve) => { commit = resolve })
    const cancel = h.db.transaction(async (tx) => {
      // The user's cancel, still committing (its lock on the order taken, the intent marked).
      await requestCancel(tx, { orderId: order.id })
      cancelTaken()
      await committing
    })
    await taken
    // The worker comes up and its Order job claims the order meanwhile.
    worker = h.startWorker()
    try {
      await eventually(async () => (await claimWaiting(watcher)) >= 1, 20_000)
    } finally {
      commit()
      await cancel
    }
    await worker

    const final = await settled(h.db, order.id, 'cancelled', 'filled', 'rejected')
    expect([final.state, final.cancelReason]).toEqual(['cancelled', 'user'])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
    expect(await r.requestsOf(order.id)).toEqual([])
    await eventually(async () => (await r.outboxOf(order.id)).every((o) => o.status === 'done'))
  } finally {
    await watcher.end().catch(() => undefined)
  }
})
