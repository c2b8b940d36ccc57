import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { rotateSession } from '../../src/runtime/sessions/rotateSession.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { signAndPersist } from '../../src/runtime/submission/signAndPersist.js'
import { orders, outbox, requests } from '../../src/store/schema/index.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { postToOperator } from './support/operator.js'

let h: Harness

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

describe('a worker whose clock differs from the operator\'s', () => {
  it('signs deadlines on the operator\'s clock: 40 s behind it, orders still go through first time', async () => {
    const { wallet } = await h.wallet()
    // The operator's clock runs 40 s ahead of ours: a deadline of our now + 30 s would already be past.
    h.sandbox.advanceClock(40_000)
    const worker = await h.startWorker()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
    await worker.relay()
    const open = await eventually(async () => { const [o] = await h.db.select().from(orders).where(eq(orders.id, order.id)); return o?.state === 'open' && o })
    expect(open.state).toBe('open')
    const sent = await answeredRequests(() => h.db.select().from(requests).where(eq(requests.orderId, order.id)))
    // Accepted on the first signature: no DeadlineExpired, no re-signing.
    expect(sent.map((r) => r.status)).toEqual(['accepted'])
    expect(sent[0]!.deadline).toBeGreaterThan(h.sandbox.now())
    // Its repair sweeps would otherwise take up the next test's hand-made outbox row.
    await worker.close()
  })

  it('does not place again an unknown order whose request the operator can still accept: 60 s ahead of it', async () => {
    const { wallet } = await h.wallet()
    // A worker that only reconciles, with its clock a minute ahead of the operator's.
    const worker = await h.startWorker({ streams: false, now: () => h.sandbox.now() + 60_000 })
    await worker.close()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.4' }, new Date())
    const [row] = await h.db.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id)).returning()
    const claim = await h.db.transaction((tx) => submitOrderSpec.claim(tx, { deps: worker.deps, row: row!, order }))
    if (claim.kind !== 'proceed') throw new Error(`claim: ${claim.kind}`)
    // Signed (deadline: the operator's now + 30 s) and sent, its answer lost: unknown.
    const sent = await signAndPersist(worker.deps, (await worker.deps.sessions.active(wallet.id))!, 'Order', claim.fields, { walletId: wallet.id, orderId: order.id, outboxId: row!.id })
    await h.db.update(requests).set({ status: 'unknown', errorCode: 'Transport' }).where(eq(requests.id, sent.id))
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))

    // By the worker's clock the deadline passed 30 s ago; by the operator's it is 30 s away.
    await reconcile(worker.deps, { orphans: 'adopt', settleMs: 0 })
    expect((await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]!.state).toBe('unknown')
    expect((await h.db.select().from(requests).where(eq(requests.id, sent.id)))[0]!.status).toBe('unknown')
    // Rightly: the bytes on the wire are still accepted.
    expect((await postToOperator(h.sandbox.url, '/v1/requests', sent.body)).status).toBe(200)
  })

  it('counts a new session\'s lifetime on the operator\'s clock, which enforces it: an hour behind it', async () => {
    const { wallet, signer } = await h.wallet()
    const worker = await h.startWorker({ streams: false, now: () => h.sandbox.now() - 3_600_000 })
    const { session } = await rotateSession({ deps: worker.deps, keyring: h.keyring, walletSigner: signer, walletId: wallet.id, reason: 'onDemand', lifetimeSeconds: 7200 })
    // Two hours at the operator, not one (our clock's now + 2 h is the operator's now + 1 h).
    const operatorSeconds = Math.floor(h.sandbox.now() / 1000)
    expect(session.expiryUnix).toBeGreaterThanOrEqual(operatorSeconds + 7200 - 5)
    expect(session.expiryUnix).toBeLessThanOrEqual(operatorSeconds + 7200)
    // The row's own timestamps are this worker's clock.
    expect(Math.abs(session.activatedAt!.getTime() - (h.sandbox.now() - 3_600_000))).toBeLessThan(10_000)
  })

  it('sends work queued just now at once when its clock runs a minute behind Postgres\'s, which dated the work', async () => {
    const { wallet } = await h.wallet()
    const worker = await h.startWorker({ streams: false })
    // No worker runs the jobs: the run below is the only one, on a clock a minute behind.
    await worker.close()
    const behind = { ...worker.deps, now: () => Date.now() - 60_000 }
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
    const [placement] = await h.db.select().from(outbox).where(eq(outbox.orderId, order.id))
    // Its available_at is Postgres's now(): due already, not in a minute.
    const result = await runSubmission(behind, placement!.id, submitOrderSpec, { delay: async (ms): Promise<never> => { throw new Error(`delayed ${ms} ms`) } })
    expect(result).toMatchObject({ result: 'accepted' })
    expect((await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]!.state).toBe('open')
  })

  it("takes its event streams' leases on Postgres' clock: an hour ahead, its leases still lapse within the lease period", async () => {
    const worker = await h.startWorker({ now: () => Date.now() + 3_600_000 })
    try {
      const { wallet } = await h.wallet()
      await eventually(async () => worker.streams?.wallets().includes(wallet.id))
      // Had it written its own clock, another process could take this wallet only an hour after this one died.
      const { rows: [lease] } = await h.db.execute<{ seconds: number }>(sql`select extract(epoch from lease_until - now())::float as seconds from stream_cursors where wallet_id = ${wallet.id}`)
      expect(lease!.seconds).toBeGreaterThan(0)
      expect(lease!.seconds).toBeLessThanOrEqual(10)
    } finally {
      await worker.close()
    }
  })
})
