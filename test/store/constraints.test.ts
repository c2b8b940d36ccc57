import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { events, fills, intents, orders, requests, sessions } from '../../src/store/schema/index.js'
import { drivers, expectViolation, hex, insertOrder, insertSession, insertWallet, orderValues } from './fixtures.js'

describe.each(drivers)('constraints on $name', ({ create }) => {
  let db: Db
  let drop: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const test = await create()
    db = test.database.db
    drop = () => test.drop()
  })
  afterAll(() => drop?.())

  it('keeps a client order id unique per wallet, not across wallets', async () => {
    const [a, b] = [await insertWallet(db), await insertWallet(db)]
    const clientOrderId = hex(16)
    await insertOrder(db, a.id, { clientOrderId })
    await expectViolation(insertOrder(db, a.id, { clientOrderId }), 'orders_wallet_client_order_id_unique')
    await insertOrder(db, b.id, { clientOrderId })
    // The conflict target repositories use to make placement idempotent.
    const again = await db.insert(orders).values(orderValues(a.id, { clientOrderId })).onConflictDoNothing({
      target: [orders.walletId, orders.clientOrderId],
    }).returning()
    expect(again).toEqual([])
  })

  it('keeps an event seq unique per wallet', async () => {
    const [a, b] = [await insertWallet(db), await insertWallet(db)]
    const event = { seq: 7, type: 'OrderAccepted', payload: { seq: '7' } }
    await db.insert(events).values({ walletId: a.id, ...event })
    await expectViolation(db.insert(events).values({ walletId: a.id, ...event }), 'events_wallet_seq_unique')
    await db.insert(events).values({ walletId: b.id, ...event })
    const duplicate = await db.insert(events).values({ walletId: a.id, ...event }).onConflictDoNothing().returning()
    expect(duplicate).toEqual([])
  })

  it('keeps a fill id unique per wallet', async () => {
    const [a, b] = [await insertWallet(db), await insertWallet(db)]
    const fill = {
      fillId: 'f-1', clientOrderId: hex(16), market: 'ETH-USD', side: 1 as const,
      price: '2000.5', size: '0.1', fee: '0.01', seq: 3, at: new Date(),
    }
    await db.insert(fills).values({ walletId: a.id, ...fill })
    await expectViolation(db.insert(fills).values({ walletId: a.id, ...fill }), 'fills_wallet_fill_id_unique')
    await db.insert(fills).values({ walletId: b.id, ...fill })
  })

  it('allows at most one active session per wallet', async () => {
    const wallet = await insertWallet(db)
    const active = await insertSession(db, wallet.id)
    await expectViolation(insertSession(db, wallet.id), 'sessions_one_active_per_wallet')
    // Other statuses do not count, so a rotation can prepare the next key.
    const next = await insertSession(db, wallet.id, { status: 'delegated' })
    await db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.id, active.id))
    await db.update(sessions).set({ status: 'active' }).where(eq(sessions.id, next.id))
    const other = await insertWallet(db)
    await insertSession(db, other.id)
  })

  it('refuses a signing session without its delegation', async () => {
    const wallet = await insertWallet(db)
    await expectViolation(insertSession(db, wallet.id, { delegationHash: null }), 'sessions_delegated_has_payload', '23514')
    await insertSession(db, wallet.id, { status: 'pending', delegationHash: null, delegatedPayload: null })
  })

  it('refuses statuses outside the set and malformed keys', async () => {
    const wallet = await insertWallet(db)
    await expectViolation(insertOrder(db, wallet.id, { state: 'bogus' as 'open' }), 'orders_state_check', '23514')
    await expectViolation(insertOrder(db, wallet.id, { clientOrderId: '0x1234' }), 'orders_client_order_id_format', '23514')
    await expectViolation(insertSession(db, wallet.id, { publicKey: hex(33).replace(/^0x../, '0x04') }), 'sessions_public_key_format', '23514')
    // Statuses nothing writes are out of the sets too: a request is signed until its outcome is
    // stored (sent_at tells when it went out), an intent's status is the user's wish.
    const session = await insertSession(db, wallet.id)
    const request = { walletId: wallet.id, sessionId: session.id, family: 'Order', nonce: 1n, deadline: 1, body: '{}' } as const
    await expectViolation(db.insert(requests).values({ ...request, status: 'sent' as 'signed' }), 'requests_status_check', '23514')
    await db.insert(requests).values({ ...request, status: 'unknown', sentAt: new Date() })
    const intent = { walletId: wallet.id, kind: 'limit', market: 'ETH-USD', side: 0, price: '1', size: '1', timeInForce: 0 } as const
    for (const status of ['done', 'rejected']) await expectViolation(db.insert(intents).values({ ...intent, status: status as 'active' }), 'intents_status_check', '23514')
    await db.insert(intents).values({ ...intent, status: 'cancel_requested' })
  })

  it('keeps a client ref unique per wallet and a schedule leg unique per slot', async () => {
    const wallet = await insertWallet(db)
    const intent = { walletId: wallet.id, market: 'ETH-USD', side: 0 as const, price: '1', size: '1', timeInForce: 0 as const }
    await db.insert(intents).values({ ...intent, kind: 'limit', clientRef: 'r-1' })
    await expectViolation(db.insert(intents).values({ ...intent, kind: 'limit', clientRef: 'r-1' }), 'intents_wallet_client_ref_unique')
    // Without a client ref intents never collide.
    await db.insert(intents).values([{ ...intent, kind: 'limit' }, { ...intent, kind: 'limit' }])

    const leg = { ...intent, kind: 'rebalance' as const, scheduleId: crypto.randomUUID(), slotAt: new Date('2025-01-01T00:00:00Z'), leg: 0 }
    await db.insert(intents).values(leg)
    await expectViolation(db.insert(intents).values(leg), 'intents_schedule_slot_leg_unique')
    await expectViolation(db.insert(intents).values({ ...leg, leg: null }), 'intents_schedule_complete', '23514')
  })
})
