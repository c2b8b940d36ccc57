/**
 * A modify asked at the moment the kill switch trips: intake reads the wallet under a share lock, as
 * a placement does, so the modify is either queued before the halt (and then dropped by it) or sees
 * the wallet halted and is refused; never queued after the halt's CancelAll, where a resume would
 * let it out.
 */
import { and, eq } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, place, settled } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => {
  await h?.close()
})

async function lockWaiters(client: pg.Client): Promise<number> {
  const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)
  return rows[0].n as number
}

it('a modify asked while a halt commits is refused, not queued behind the halt\'s CancelAll', async () => {
  const w = await activeWallet(h)
  const order = await place(h, worker, w.wallet.id, { price: '1900' })
  await settled(h.db, order.id, 'open')

  const blocker = new pg.Client({ connectionString: h.databaseUrl })
  const watcher = new pg.Client({ connectionString: h.databaseUrl })
  await blocker.connect()
  await watcher.connect()
  try {
    // The halt has halted the wallet and queued its CancelAll, and not committed yet: it waits to
    // write its audit entry.
    await blocker.query('begin')
    await blocker.query('lock table audit_log in share mode')
    const halt = haltWallet(h.db, { walletId: w.wallet.id, reason: 'user pressed stop' })
    await eventually(async () => (await lockWaiters(watcher)) >= 1)
    const modify = requestModify(h.db, worker.markets, { orderId: order.id, price: '1950', size: '0.1' }).then((v) => v, (e: unknown) => e)
    // Either the modify went through without waiting for the halt, or it waits for it.
    await Promise.race([modify, eventually(async () => (await lockWaiters(watcher)) >= 2)])
    await blocker.query('commit')
    await halt
    const modified = await modify

    expect(modified).toBeInstanceOf(ValidationError)
    expect((modified as ValidationError).message).toMatch(/halted/)
    const modifies = await h.db.select().from(outbox).where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'ModifyOrder')))
    expect(modifies).toEqual([])
  } finally {
    await blocker.query('rollback').catch(() => undefined)
    await blocker.end().catch(() => undefined)
    await watcher.end().catch(() => undefined)
  }
})
