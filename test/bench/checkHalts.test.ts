/**
 * The drill's kill-switch checks (bench/drill/outcome/halts.ts, through checkOutcome): what a halt
 * explains is not counted lost or unasked, an order that outlives a halt and one placed while halted
 * are each counted. The operator is a stand-in holding only what the checks read of the in-process
 * sandbox (orders with their receipts, events, the CancelAll receipts).
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AskedIntent, checkOutcome, problemRows } from '../../bench/drill/checkOutcome.js'
import type { HaltRecord } from '../../bench/drill/killSwitches.js'
import { parseAmount } from '../../src/core/money/decimal.js'
import { deriveClientOrderId } from '../../src/core/requests/deriveClientOrderId.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import type { Db } from '../../src/store/Database.js'
import { intents, orders, outbox, requests, sessions, wallets } from '../../src/store/schema/index.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'

let testDb: TestDatabase
let db: Db
beforeAll(async () => { testDb = await createTestDatabase(); db = testDb.database.db as unknown as Db })
afterAll(async () => { await testDb?.drop() })

const amt = (s: string) => parseAmount('x', s)
const T = Date.now() - 60_000
/** The halt every test makes: asked at T+1000, its CancelAll accepted at T+2000, resumed at T+5000. */
const halt = (walletId: string, address: string): HaltRecord => ({
  walletId, walletKey: address.toLowerCase(), haltAskedAt: T + 1000, haltedAt: T + 1010, cancelAllOutboxId: '00000000-0000-0000-0000-000000000000',
  resumeAskedAt: T + 5000, resumedAt: T + 5010, resumeRefusals: 2,
})

type AtOperator = { cloid: string; acceptedAt: number; status: string; updatedAt: number; requestId: string }

function fakeSandbox(address: string, atOperator: AtOperator[], cancelled: string[], events: { type: string; at: number; clientOrderId: string; data: Record<string, unknown> }[] = []): Sandbox {
  const key = address.toLowerCase()
  const wallet = {
    key,
    orders: new Map(atOperator.map((o) => [o.cloid.toLowerCase(), { status: o.status, price: amt('1950'), size: amt('0.05'), filled: 0n, revision: 0, updatedAt: o.updatedAt }])),
    receiptsByCloid: new Map(atOperator.map((o) => [o.cloid, { requestId: o.requestId, acceptedAt: o.acceptedAt }])),
    events: { since: () => events.map((e, i) => ({ seq: String(i + 1), ...e })), head: 0 },
    fills: [],
  }
  const cancelAll = { family: 'CancelAll', wallet: address, acceptedAt: T + 2000, cancelled }
  return { state: { wallets: new Map([[key, wallet]]), counters: { order: atOperator.length, fill: 0 }, replays: new Map([['x', cancelAll]]) } } as unknown as Sandbox
}

async function newWallet() {
  const address = `0x${randomBytes(20).toString('hex')}`
  const [w] = await db.insert(wallets).values({ address, status: 'active' }).returning()
  const expiryUnix = Math.floor(T / 1000) + 86_400
  const [s] = await db.insert(sessions).values({
    walletId: w!.id, status: 'pending', publicKey: `0x02${randomBytes(32).toString('hex')}`, sealedPrivateKey: 'x', masterKeyId: 'k', aclScope: ['Order'],
    expiry: new Date(expiryUnix * 1000), expiryUnix, delegationNonce: '1', walletSigner: 'local',
  }).returning()
  return { ...w!, sessionId: s!.id }
}

let nonce = 1n
/** An intent and its order, created at `createdAt`; `signedAt`: its placement's request, signed then (requestId `0x<cloid>`). */
async function newOrder(w: { id: string; sessionId: string }, clientRef: string, createdAt: number, fields: Partial<typeof orders.$inferInsert> = {}, signedAt?: number) {
  const [i] = await db.insert(intents).values({ walletId: w.id, kind: 'limit', market: 'ETH-USD', side: 0, price: '1950', size: '0.05', timeInForce: 0, status: 'active', clientRef }).returning()
  const [o] = await db.insert(orders).values({
    walletId: w.id, intentId: i!.id, clientOrderId: deriveClientOrderId(i!.id, 0), market: 'ETH-USD', side: 0,
    price: '1950', size: '0.05', timeInForce: 0, state: 'open', venueOrderId: '1', createdAt: new Date(createdAt), ...fields,
  }).returning()
  if (signedAt !== undefined) {
    await db.insert(requests).values({
      walletId: w.id, sessionId: w.sessionId, orderId: o!.id, family: 'Order', nonce: nonce++, deadline: signedAt + 30_000, body: JSON.stringify({ message: {} }),
      status: 'accepted', receipt: { requestId: `0x${o!.clientOrderId.slice(2)}` }, createdAt: new Date(signedAt),
    })
  }
  return o!
}
const ask = (clientRef: string, cancels: string[] = []): AskedIntent => ({ clientRef, price: '1950', size: '0.05', modifies: [], cancels })
const rowsOf = (outcome: Awaited<ReturnType<typeof checkOutcome>>) => problemRows(outcome, { crashes: 0, failedSubmitJobs: 0, uncleanStops: 0 }).filter(([, n]) => n !== 0)

describe('checkOutcome: the kill switch', () => {
  it('what a halt did is accounted for, not lost or unasked: an order its CancelAll cancelled, one sent before it that landed after and got its own cancel, one dropped unsent, a placement refused', async () => {
    const w = await newWallet()
    const cancelledByIt = await newOrder(w, 'h1', T, { state: 'cancelled', cancelReason: 'cancelAll' }, T + 10)
    const late = await newOrder(w, 'h2', T + 400, { state: 'cancelled', cancelReason: 'user' }, T + 500)
    const lateCancel = await db.insert(outbox).values({ walletId: w.id, kind: 'CancelOrder', orderId: late.id, payload: { reason: 'halted' }, status: 'done' }).returning()
    await newOrder(w, 'h3', T + 600, { state: 'cancelled', cancelReason: 'halted', venueOrderId: null })
    const sandbox = fakeSandbox(w.address, [
      { cloid: cancelledByIt.clientOrderId, acceptedAt: T + 100, status: 'cancelled', updatedAt: T + 2000, requestId: `0x${cancelledByIt.clientOrderId.slice(2)}` },
      { cloid: late.clientOrderId, acceptedAt: T + 3000, status: 'cancelled', updatedAt: T + 4000, requestId: `0x${late.clientOrderId.slice(2)}` },
    ], [cancelledByIt.clientOrderId], [
      { type: 'OrderCancelled', at: T + 2000, clientOrderId: cancelledByIt.clientOrderId, data: { reason: 'cancelAll' } },
      { type: 'OrderCancelled', at: T + 4000, clientOrderId: late.clientOrderId, data: { reason: 'user' } },
    ])
    const outcome = await checkOutcome(db, sandbox, [w.id], [ask('h1'), ask('h2'), ask('h3')], { halts: [halt(w.id, w.address)], refusedByHalt: ['h4'] })
    expect(outcome.examples).toEqual([])
    expect(rowsOf(outcome)).toEqual([])
    expect(outcome.killSwitch).toMatchObject({
      halts: 1, survivors: 0, placedWhileHalted: 0, unresolved: 0, landedLate: 1, cancelledByCancelAll: 1, resumeRefusals: 2,
      refusedPlacements: 1, cancelledBeforePlacement: 1, cancelledAtOperator: 1, lateCancels: 1,
    })
    expect(lateCancel).toHaveLength(1)
  })

  it('counts an order live before the CancelAll that it left live, one sent before the halt still live after the resume, one signed after the halt and accepted while halted, a halt never resumed', async () => {
    const w = await newWallet()
    const leftLive = await newOrder(w, 'b1', T, {}, T + 10)
    const outlived = await newOrder(w, 'b2', T + 400, {}, T + 500)
    const whileHalted = await newOrder(w, 'b3', T + 400, {}, T + 3000)
    const sandbox = fakeSandbox(w.address, [
      { cloid: leftLive.clientOrderId, acceptedAt: T + 100, status: 'open', updatedAt: T + 100, requestId: `0x${leftLive.clientOrderId.slice(2)}` },
      { cloid: outlived.clientOrderId, acceptedAt: T + 3000, status: 'open', updatedAt: T + 3000, requestId: `0x${outlived.clientOrderId.slice(2)}` },
      { cloid: whileHalted.clientOrderId, acceptedAt: T + 3500, status: 'cancelled', updatedAt: T + 4000, requestId: `0x${whileHalted.clientOrderId.slice(2)}` },
    ], [])
    const outcome = await checkOutcome(db, sandbox, [w.id], undefined, { halts: [halt(w.id, w.address)], refusedByHalt: [] })
    expect(outcome.killSwitch).toMatchObject({ survivors: 2, placedWhileHalted: 1, unresolved: 0 })
    expect(rowsOf(outcome)).toContainEqual(['orders surviving a halt', 2])
    expect(rowsOf(outcome)).toContainEqual(['orders placed while halted', 1])

    const neverResumed = { ...halt(w.id, w.address), resumeAskedAt: undefined, resumedAt: undefined }
    const stuck = await checkOutcome(db, sandbox, [w.id], undefined, { halts: [neverResumed], refusedByHalt: [] })
    expect(stuck.killSwitch.unresolved).toBe(1)
  })
})
