import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { isUniqueViolation } from '../../src/store/isUniqueViolation.js'
import { insertSignedRequests } from '../../src/store/repositories/insertSignedRequests.js'
import { orders as ordersTable, outbox, requests, sessions, streamCursors } from '../../src/store/schema/index.js'
import { drivers, hex, insertOrder, insertSession, insertWallet } from './fixtures.js'

describe.each(drivers)('values round-trip on $name', ({ create }) => {
  let db: Db
  let drop: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const test = await create()
    db = test.database.db
    drop = () => test.drop()
  })
  afterAll(() => drop?.())

  it('keeps decimal amounts exact, to 18 decimals and 60 integer digits', async () => {
    const wallet = await insertWallet(db)
    const huge = `${'9'.repeat(60)}.${'9'.repeat(18)}`
    const order = await insertOrder(db, wallet.id, { price: '2000.123456789012345678', size: huge, fees: '0.000000000000000001' })
    expect(order.price).toBe('2000.123456789012345678')
    expect(order.size).toBe(huge)
    expect(order.fees).toBe('0.000000000000000001')
    // Postgres pads to the column's scale; the value is unchanged.
    expect(order.filled).toBe('0.000000000000000000')
    const notional = (2n ** 300n).toString()
    const [updated] = await db.update(ordersTable).set({ filledNotional: notional }).where(eq(ordersTable.id, order.id)).returning()
    expect(updated!.filledNotional).toBe(notional)
  })

  it('keeps bigint nonces exact beyond 2^53, and uint64 strings exact', async () => {
    const wallet = await insertWallet(db)
    const session = await insertSession(db, wallet.id, { delegationNonce: '18446744073709551615' })
    expect(session.delegationNonce).toBe('18446744073709551615')
    const nonces = [1_763_000_000_000_123n, 2n ** 53n + 1n, 2n ** 63n - 1n]
    for (const nonce of nonces) {
      await db.insert(requests).values({
        walletId: wallet.id, sessionId: session.id, family: 'Order', nonce, deadline: 1_763_000_060_000,
        body: JSON.stringify({ family: 'Order', nonce: nonce.toString() }),
      })
    }
    const rows = await db.select().from(requests).where(eq(requests.sessionId, session.id)).orderBy(requests.nonce)
    expect(rows.map((row) => row.nonce)).toEqual(nonces)
    expect(rows[0]!.deadline).toBe(1_763_000_060_000)
    expect(rows[0]!.status).toBe('signed')
  })

  it('insertSignedRequests answers, in order, exactly the rows the table holds; a reused nonce is the unique violation', async () => {
    const wallet = await insertWallet(db)
    const session = await insertSession(db, wallet.id)
    const order = await insertOrder(db, wallet.id)
    const nonces = [2n ** 63n - 1n, 1_763_000_000_000_123n, 2n ** 53n + 1n]
    const answered = await insertSignedRequests(db, nonces.map((nonce, i) => ({
      walletId: wallet.id, sessionId: session.id, orderId: i === 0 ? order.id : null, outboxId: i === 1 ? order.id : null,
      family: 'Order' as const, nonce, deadline: 1_763_000_060_000 + i, body: `{"n":"${nonce}","é":"ü"}`,
    })))
    expect(answered.map((row) => row!.nonce)).toEqual(nonces)
    const stored = await db.select().from(requests).where(eq(requests.sessionId, session.id))
    expect(answered).toEqual(answered.map((row) => stored.find((s) => s.id === row!.id)))
    const again = insertSignedRequests(db, [{ walletId: wallet.id, sessionId: session.id, family: 'Order', nonce: nonces[1]!, deadline: 1, body: '{}' }])
    expect(isUniqueViolation(await again.catch((e: unknown) => e), 'requests_session_nonce_unique')).toBe(true)
    expect(await db.select().from(requests).where(eq(requests.sessionId, session.id))).toHaveLength(3)
  })

  it('reads back arrays, jsonb, timestamps and defaults', async () => {
    const wallet = await insertWallet(db)
    const session = await insertSession(db, wallet.id, { aclScope: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
    const [read] = await db.select().from(sessions).where(eq(sessions.id, session.id))
    expect(read!.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect(read!.expiry.toISOString()).toBe('2030-03-17T17:46:40.000Z')
    expect(read!.expiryUnix).toBe(1_900_000_000)

    const payload = { intentId: crypto.randomUUID(), size: '0.5', nested: { cloid: hex(16) } }
    const [row] = await db.insert(outbox).values({ walletId: wallet.id, kind: 'Order', payload }).returning()
    expect(row!.payload).toEqual(payload)
    expect(row!.status).toBe('pending')
    expect(row!.attempts).toBe(0)
    expect(row!.availableAt).toBeInstanceOf(Date)
  })

  it('refreshes updated_at on update', async () => {
    const wallet = await insertWallet(db)
    const [cursor] = await db.insert(streamCursors).values({ walletId: wallet.id, updatedAt: new Date('2020-01-01T00:00:00Z') }).returning()
    expect(cursor!.lastSeq).toBe(0)
    const [moved] = await db.update(streamCursors).set({ lastSeq: 42 }).where(eq(streamCursors.walletId, wallet.id)).returning()
    expect(moved!.lastSeq).toBe(42)
    expect(moved!.updatedAt.getTime()).toBeGreaterThan(cursor!.updatedAt.getTime())
  })
})
