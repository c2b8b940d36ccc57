/**
 * Two runs of the same work at once (the cancel lane beside a cancel's job, a stalled job re-run
 * beside the original, a job the sweep added again after Redis lost it while the first still ran),
 * while the session that signed the first run's request ends. The first run's request is accepted
 * and its work settled; the second, which found that request still open, must not undo either.
 * And one run whose answer was lost, run again after the session that signed it ended.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { WorkerDeps } from '../../src/runtime/deps.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { VenueTransportError } from '../../src/core/errors/venue.js'
import { sessions } from '../../src/store/schema/index.js'
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


it('a modify accepted by one run stays accepted and done when a second run finds its session ended: not held, not sent again', async () => {
  const { wallet, session, order, worker, deps } = await openOrderWithoutWorker(h)
  const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1985', size: '0.6' })

  // Run A signs and sends; the operator's answer is held back until run B has read the open request.
  let answer!: () => void
  const answered = new Promise<void>((resolve) => { answer = resolve })
  const runA = runSubmission({ ...deps, venue: { ...deps.venue, submit: async (body: string) => { await answered; return deps.venue.submit(body) } } }, outboxId, submitModifyOrderSpec, noDelay)
  await eventually(async () => (await db.requestsOf(order.id)).some((r) => r.family === 'ModifyOrder'))
  // The session ends (revoked here) while A's request is on its way.
  await h.db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.id, session.id))
  // Run B has read A's request as open; A's answer arrives and is stored before B goes on.
  const depsB: WorkerDeps = { ...deps, sessions: { ...deps.sessions, active: async () => { answer(); await runA; return undefined } } }
  await runSubmission(depsB, outboxId, submitModifyOrderSpec, noDelay)
  expect(await runA).toMatchObject({ result: 'accepted' })

  const modifies = (await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')
  expect(modifies.map((r) => r.status)).toEqual(['accepted'])
  expect((await db.outboxOfWallet(wallet.id)).find((r) => r.id === outboxId)?.status).toBe('done')
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.revision).toBe(1)
})

it('a modify the operator applied whose answer was lost, and whose session then ended, is read back as accepted: not signed again under the next session', async () => {
  const { wallet, signer, order, worker, deps } = await openOrderWithoutWorker(h)
  const rotate = () => grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId: wallet.id, families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'], lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now() })
  // The order's session is rotated out (it stays live there); the modify is signed under the next one.
  const { session: signing } = await rotate()
  const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1985', size: '0.6' })
  const lost = { ...deps, venue: { ...deps.venue, submit: async (body: string) => { await deps.venue.submit(body); throw new VenueTransportError('answer lost') } } }
  await expect(runSubmission(lost, outboxId, submitModifyOrderSpec, noDelay)).rejects.toThrow(/answer lost/)
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.revision).toBe(1)
  // That session is rotated out too and revoked at the operator before the job runs again.
  await rotate()
  await revokeAtOperator(deps, h.keyring, (await h.db.select().from(sessions).where(eq(sessions.id, signing.id)))[0]!, 'rotated out')

  expect(await runSubmission(deps, outboxId, submitModifyOrderSpec, noDelay)).toMatchObject({ result: 'accepted' })
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
  expect((await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder').map((r) => r.status)).toEqual(['accepted'])
  expect(await db.order(order.id)).toMatchObject({ price: '1985.000000000000000000', size: '0.600000000000000000', venueRevision: 1 })
  expect((await db.outboxOfWallet(wallet.id)).find((r) => r.id === outboxId)?.status).toBe('done')
})
