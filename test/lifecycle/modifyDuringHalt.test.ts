/**
 * A modify asked at the moment the kill switch trips: intake reads the wallet under a share lock, as
 * a placement does, so the modify is either queued before the halt (and then dropped by it) or sees
 * the wallet halted and is refused; never queued after the halt's CancelAll, where a resume would
 * let it out.
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { outbox } from '../../src/store/schema/index.js'
import { activeWallet, eventually, place, settled } from './support/lifecycle.js'
import { withBlocker } from '../support/lockWaiters.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

it('a modify asked while a halt commits is refused, not queued behind the halt\'s CancelAll', async () => {
  const w = await activeWallet(t.h)
  const order = await place(t.h, t.worker, w.wallet.id, { price: '1900' })
  await settled(t.h.db, order.id, 'open')

  await withBlocker(t.h.databaseUrl, async ({ blocker, waiters }) => {
    // The halt has halted the wallet and queued its CancelAll, and not committed yet: it waits to
    // write its audit entry.
    await blocker.query('begin')
    await blocker.query('lock table audit_log in share mode')
    const halt = haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'user pressed stop' })
    await eventually(async () => (await waiters()) >= 1)
    const modify = requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1950', size: '0.1' }).then((v) => v, (e: unknown) => e)
    // Either the modify went through without waiting for the halt, or it waits for it.
    await Promise.race([modify, eventually(async () => (await waiters()) >= 2)])
    await blocker.query('commit')
    await halt
    const modified = await modify

    expect(modified).toBeInstanceOf(ValidationError)
    expect((modified as ValidationError).message).toMatch(/halted/)
    const modifies = await t.h.db.select().from(outbox).where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'ModifyOrder')))
    expect(modifies).toEqual([])
  })
})
