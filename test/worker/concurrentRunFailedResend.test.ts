/**
 * Two runs of the same work at once (a stalled job re-run beside the original, the cancel lane beside
 * a cancel's job): the first run's request is accepted and stored; the second, which read that
 * request as open and resent its bytes, then hears a failure that leaves the outcome open (its answer
 * lost, or a 503). An accepted request stays accepted: recorded as unknown or signed again, a modify
 * would no longer count among the order's accepted ones, and the next modify's receipt would be
 * applied at a revision already stored, leaving Postgres with the old price while the operator has
 * the new one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { VenueError, VenueTransportError } from '../../src/core/errors/venue.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { noDelay, openOrderWithoutWorker } from './support/concurrentRuns.js'

let h: Harness
let db: ReturnType<typeof rows>
beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
})
afterAll(async () => { await h?.close() })


const failures = {
  'its answer lost': () => new VenueTransportError('answer lost'),
  'a 503': () => new VenueError('Unavailable', 'busy', { status: 503 }),
}

for (const [name, failure] of Object.entries(failures)) {
  it(`a modify accepted by one run stays accepted when a second run's resend of the same bytes hears ${name}`, async () => {
    const { wallet, order, worker, deps } = await openOrderWithoutWorker(h)
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1985', size: '0.6' })

    // Run A signs and sends; the operator's answer is held back until run B has read the open request.
    let answer!: () => void
    const answered = new Promise<void>((resolve) => { answer = resolve })
    const runA = runSubmission({ ...deps, venue: { ...deps.venue, submit: async (body: string) => { await answered; return deps.venue.submit(body) } } }, outboxId, submitModifyOrderSpec, noDelay)
    await eventually(async () => (await db.requestsOf(order.id)).some((r) => r.family === 'ModifyOrder'))
    // Run B resends the same bytes; A's answer arrives and is stored before B's send fails.
    const depsB = { ...deps, venue: { ...deps.venue, submit: async () => { answer(); await runA; throw failure() } } }
    await expect(runSubmission(depsB, outboxId, submitModifyOrderSpec, noDelay)).rejects.toThrow(failure().message)
    expect(await runA).toMatchObject({ result: 'accepted' })

    expect((await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder').map((r) => r.status)).toEqual(['accepted'])
    expect((await db.outboxOfWallet(wallet.id)).find((r) => r.id === outboxId)?.status).toBe('done')

    // The next modify's receipt is applied (no stream here: the receipt is all Postgres hears).
    const next = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1980', size: '0.7' })
    expect(await runSubmission(deps, next.outboxId, submitModifyOrderSpec, noDelay)).toMatchObject({ result: 'accepted' })
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toMatchObject({ revision: 2 })
    expect(await db.order(order.id)).toMatchObject({ price: '1980.000000000000000000', size: '0.700000000000000000', venueRevision: 2 })
  })
}
