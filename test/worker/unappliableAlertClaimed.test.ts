/**
 * An operator event that can never be applied is passed over in its place, and its EVENT_UNAPPLIABLE
 * alert is claimed in the transaction that passes it over (`onPassedOver`): a process dying right
 * after that commit leaves the claim for the undelivered-alert sweep, and a transaction that does not
 * commit leaves neither the event, nor its audit, nor the alert.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { createAlertSink } from '../../src/runtime/createAlertSink.js'
import { auditLog, events, streamCursors } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, type Harness } from './support/harness.js'
import { transactionStartOf } from '../support/transactionStartOf.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

/** An event whose clientOrderId is not a string: `eventProblem` refuses it every time. */
const unappliable = (wallet: `0x${string}`, seq: number): VenueEvent =>
  ({ seq: String(seq), type: 'OrderCancelled', wallet, at: Date.now(), clientOrderId: 12345 as never, data: { reason: 'user' } })

/** The wallet's audit entries past its session's grant (the event's and the alert's), each with the transaction that wrote it. */
const trail = async (walletId: string) => Promise.all((await h.db.select().from(auditLog).where(eq(auditLog.walletId, walletId)).orderBy(auditLog.id))
  .filter((row) => /^(event|alert)\./.test(row.action)).map(async (row) => ({ action: row.action, transaction: await transactionStartOf(h.db, row.id) })))

describe('an event passed over', () => {
  it('has its alert claimed in the same transaction, and raised after the commit', async () => {
    const { wallet, signer } = await h.wallet()
    const { log, entries } = capturedLog('warn')
    const sink = createAlertSink({ log, db: h.db })
    const raised: string[] = []
    const applied = await applyEvents(h.db, wallet.id, [unappliable(signer.address, 1)], {
      onPassedOver: async (tx, walletId, event) => {
        const afterCommit = await sink.claimWithin(tx, { walletId, code: 'EVENT_UNAPPLIABLE', message: `event ${event.seq}: ${event.passedOver}`, details: { seq: event.seq } })
        // Not committed yet: the log line waits for the commit.
        expect(entries().filter((entry) => entry.msg.startsWith('ALERT'))).toEqual([])
        return () => { raised.push(event.seq); afterCommit() }
      },
    })
    expect(applied.map((event) => [event.seq, event.passedOver])).toEqual([['1', 'clientOrderId: must be a string']])
    expect(raised).toEqual(['1'])
    expect(entries().filter((entry) => entry.msg.startsWith('ALERT')).map((entry) => entry.msg)).toEqual(['ALERT EVENT_UNAPPLIABLE: event 1: clientOrderId: must be a string'])
    // Both entries written by one transaction.
    const [unappliableEntry, alertEntry, ...rest] = await trail(wallet.id)
    expect([unappliableEntry?.action, alertEntry?.action, rest]).toEqual(['event.unappliable', 'alert.EVENT_UNAPPLIABLE', []])
    expect(alertEntry!.transaction).toBe(unappliableEntry!.transaction)
    await sink.close()
  })

  it('leaves nothing when its transaction does not commit: no event, no audit, no alert, the cursor where it was', async () => {
    const { wallet, signer } = await h.wallet()
    const sink = createAlertSink({ log: capturedLog('warn').log, db: h.db })
    await expect(applyEvents(h.db, wallet.id, [unappliable(signer.address, 1)], {
      onPassedOver: async (tx, walletId, event) => {
        await sink.claimWithin(tx, { walletId, code: 'EVENT_UNAPPLIABLE', message: `event ${event.seq}`, details: { seq: event.seq } })
        throw new Error('the connection dropped before the commit')
      },
    })).rejects.toThrow('the connection dropped before the commit')
    expect(await trail(wallet.id)).toEqual([])
    expect(await h.db.select().from(events).where(eq(events.walletId, wallet.id))).toEqual([])
    expect((await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, wallet.id)))[0]?.lastSeq ?? 0).toBe(0)
    await sink.close()
  })
})
