/**
 * BullMQ keeps a failed job's error in Redis: its message (`failedReason`) and its stack
 * (`stacktrace`). A submission that fails on a database error must leave there the statement and the
 * database's reason, never the statement's bound values (drizzle puts them in its message: the
 * operator's receipt, signed bytes, sealed keys, user text), which Redis would keep beside the job.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
})
afterAll(async () => { await h?.close() })

it('a job failed on a database error keeps no bound value in its failedReason or stacktrace', async () => {
  const { wallet, session } = await h.wallet()
  // Storing the operator's answer on a signed request is refused by the database itself (a drizzle statement).
  await h.db.execute(sql.raw(`
    create function refuse_requests() returns trigger language plpgsql as $$ begin raise exception 'requests refused by the test'; end $$;
    create trigger refuse_requests before update on requests for each row execute function refuse_requests();`))
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  const [outboxRow] = await rows(h.db).outboxOf(order.id)
  const job = await eventually(async () => {
    const found = await worker.submitQueue.getJob(outboxRow!.id)
    return found?.failedReason ? found : undefined
  })
  const stored = [job.failedReason, ...job.stacktrace ?? []].join('\n')
  expect(job.stacktrace?.length).toBeGreaterThan(0)
  expect(job.failedReason).toMatch(/^Failed query: update "requests" set [^\n]*: requests refused by the test$/)
  // The answer's values (the receipt names the wallet) are not kept; the statement and the reason are.
  for (const value of [wallet.address, session.id, 'params:']) expect(stored.toLowerCase()).not.toContain(value.toLowerCase())
})
