/**
 * A halt and a resume of the same wallet at the same moment: the resume takes the wallet row's lock
 * before it checks that no halt's CancelAll is still to go out, so a halt committing meanwhile is
 * seen, and not undone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { outbox } from '../../src/store/schema/index.js'
import { eq } from 'drizzle-orm'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { bareWallet, eventually, rows } from './support/lifecycle.js'
import { withBlocker } from '../support/lockWaiters.js'

let h: Harness
let r: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
})
afterAll(async () => {
  await h?.close()
})

it('a halt that commits while a resume is deciding is not undone by the resume', async () => {
  const w = await bareWallet(h)
  // An earlier halt whose CancelAll has reached the operator: the wallet may be resumed.
  const first = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'first' })
  await h.db.update(outbox).set({ status: 'done' }).where(eq(outbox.id, first.outboxId))

  // Someone else's transaction holds the wallet row a moment (any writer of it).
  await withBlocker(h.databaseUrl, async ({ blocker, waiters }) => {
    await blocker.query('begin')
    await blocker.query('select 1 from wallets where id = $1 for update', [w.wallet.id])
    // A risk system trips the kill switch again; at the same moment the user resumes.
    const halt = haltWallet(h.db, { walletId: w.wallet.id, reason: 'risk limit' })
    await eventually(async () => (await waiters()) >= 1)
    const resume = resumeWallet(h.db, { walletId: w.wallet.id }).then((v) => v, (e: unknown) => e)
    await eventually(async () => (await waiters()) >= 2)
    await blocker.query('commit')
    const second = await halt
    const resumed = await resume

    // The halt waited first and went first; the resume then saw its CancelAll still to go out.
    expect(second.outboxId).toEqual(expect.any(String))
    expect(resumed).toBeInstanceOf(Error)
    expect((resumed as Error).message).toMatch(/still on its way/)
    expect((await r.wallet(w.wallet.id)).status).toBe('halted')
  })
})
