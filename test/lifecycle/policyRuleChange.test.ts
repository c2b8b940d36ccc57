/**
 * A policy change against the checks of placements under way, between connections: a change and a
 * check of the same wallet are ordered whatever the rules, not only when the rules read first hold a
 * counting limit. Before, a check under rules with none (a price band, a maximum notional) took no
 * lock and left no trace: a check begun while a change adding `maxOpenOrders` was under way decided
 * under the old rules, and the order it let through was not counted by the new limit until signed,
 * so the next placement went out past it. Another session's rules with no counting limit did the same
 * to a session's counting limit.
 */
import { eq, sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPolicyCheck } from '../../src/runtime/policy/createPolicyCheck.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { orders } from '../../src/store/schema/index.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import type { VenueClient } from '../../src/venue/createVenueClient.js'
import { withBlocker } from '../support/lockWaiters.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, bareWallet, eventually, grant } from './support/lifecycle.js'

let h: Harness
let venue: VenueClient

beforeAll(async () => {
  h = await createHarness()
  venue = createVenueClient({ baseUrl: h.sandbox.url })
})
afterAll(async () => { await h?.close() })

const E18 = 10n ** 18n
/** A promise and the function that resolves it. */
const signal = (): [Promise<void>, () => void] => {
  let resolve!: () => void
  return [new Promise<void>((r) => { resolve = r }), () => resolve()]
}

/** An order of the wallet in `state` (a claimed one is `submitting`: on its way, not signed), 0.1 at `price`. */
async function order(walletId: string, state: 'submitting' | 'open', price = '1900'): Promise<string> {
  const [row] = await h.db.insert(orders).values({ walletId, clientOrderId: `0x${crypto.randomUUID().replaceAll('-', '')}`, market: 'ETH-USD', side: 0, price, size: '0.1', state }).returning({ id: orders.id })
  return row!.id
}

/** The check of placing `orderId` (0.1 at `price`) under the session's and the wallet's rules. */
function placement(walletId: string, sessionId: string, orderId: string, price = 1900n) {
  return { walletId, sessionId, orderId, family: 'Order', market: 'ETH-USD', side: 0 as const, price: price * E18, size: E18 / 10n }
}

describe('a policy change and the checks of placements under way', () => {
  it('a check under rules with no counting limit, begun while a change is under way, waits for it and applies it', async () => {
    const w = await activeWallet(h)
    const check = createPolicyCheck({ db: h.db, venue, now: () => Date.now() })
    await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOrderNotional: '1000' } })
    await order(w.wallet.id, 'open')
    const placing = await order(w.wallet.id, 'submitting')
    await withBlocker(h.databaseUrl, async ({ waiters }) => {
      const [mayCommit, commit] = signal()
      const [isChanged, changed] = signal()
      const change = h.db.transaction(async (tx) => {
        await setPolicy(tx, { walletId: w.wallet.id, rules: { maxOrderNotional: '1000', maxOpenOrders: 1 } })
        changed()
        await mayCommit
      })
      await isChanged
      let decided = false
      const checked = check(placement(w.wallet.id, w.session.id, placing)).finally(() => { decided = true })
      // Decided at once under the rules before the change, or waiting for it.
      await eventually(async () => decided || (await waiters()) >= 1)
      commit()
      await change
      expect(await checked).toBe('wallet policy maxOpenOrders: 1 open orders reach the limit of 1')
    })
  })

  it('a change waits for a check under way under rules with no counting limit: the order that check let through counts under the new limit', async () => {
    const w = await activeWallet(h)
    const check = createPolicyCheck({ db: h.db, venue, now: () => Date.now() })
    await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOrderNotional: '1000' } })
    const first = await order(w.wallet.id, 'submitting')
    const second = await order(w.wallet.id, 'submitting')
    await withBlocker(h.databaseUrl, async ({ blocker, waiters }) => {
      // The first order's row held: its check, once it decided, cannot finish recording it.
      await blocker.query('begin')
      await blocker.query('select 1 from orders where id = $1 for update', [first])
      let firstDecided = false
      const firstChecked = check(placement(w.wallet.id, w.session.id, first)).finally(() => { firstDecided = true })
      // Decided and waiting to record it (or, not recording it, done) before the change starts.
      await eventually(async () => firstDecided || (await waiters()) >= 1)
      // The change, and the second order's check once the change is answered (under its rules).
      let answered = false
      const change = setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOrderNotional: '1000', maxOpenOrders: 1 } }).then(() => { answered = true })
      const secondChecked = change.then(() => check(placement(w.wallet.id, w.session.id, second)))
      // Both waiting (the check on the row, the change on the check), or the change answered while
      // the first check was under way.
      await eventually(async () => answered || (await waiters()) >= 2)
      await blocker.query('rollback')
      expect(await firstChecked).toBeNull()
      expect(await secondChecked).toBe('wallet policy maxOpenOrders: 1 open orders reach the limit of 1')
    })
  })

  it("another session's placement let through under rules with no counting limit counts towards a session's counting limit", async () => {
    const bare = await bareWallet(h)
    const { session: other } = await grant(h, bare)
    const { session: counting } = await grant(h, bare)
    const check = createPolicyCheck({ db: h.db, venue, now: () => Date.now() })
    await setPolicy(h.db, { walletId: bare.wallet.id, sessionId: other.id, rules: { maxOrderNotional: '1000' } })
    await setPolicy(h.db, { walletId: bare.wallet.id, sessionId: counting.id, rules: { maxOpenOrders: 1 } })
    const first = await order(bare.wallet.id, 'submitting')
    const second = await order(bare.wallet.id, 'submitting')
    expect(await check(placement(bare.wallet.id, other.id, first))).toBeNull()
    expect(await check(placement(bare.wallet.id, counting.id, second))).toBe('session policy maxOpenOrders: 1 open orders reach the limit of 1')
  })

  it('a price band added while a check waits is applied, with the mark read while the check holds no lock', async () => {
    const w = await activeWallet(h)
    // Whether another connection can take the wallet's row and policy locks, asked whenever the mark is read.
    const probe = new pg.Client({ connectionString: h.databaseUrl })
    await probe.connect()
    const lockedAtMark: boolean[] = []
    const probing: VenueClient = {
      ...venue,
      async ticker(market) {
        await probe.query('begin')
        try {
          const row = await probe.query('select 1 from wallets where id = $1 for no key update skip locked', [w.wallet.id])
          const { rows } = await probe.query(`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
            where d.datname = current_database() and l.locktype = 'advisory' and l.granted and l.pid <> pg_backend_pid()`)
          lockedAtMark.push(row.rowCount === 0 || rows[0].n > 0)
        } finally {
          await probe.query('rollback')
        }
        return venue.ticker(market)
      },
    }
    try {
      const check = createPolicyCheck({ db: h.db, venue: probing, now: () => Date.now() })
      await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOpenOrders: 5 } })
      const placing = await order(w.wallet.id, 'submitting', '1000')
      await withBlocker(h.databaseUrl, async ({ waiters }) => {
        const [mayCommit, commit] = signal()
        const [isChanged, changed] = signal()
        const change = h.db.transaction(async (tx) => {
          await setPolicy(tx, { walletId: w.wallet.id, rules: { maxOpenOrders: 5, priceBandBps: 100 } })
          changed()
          await mayCommit
        })
        await isChanged
        let decided = false
        const checked = check(placement(w.wallet.id, w.session.id, placing, 1000n)).finally(() => { decided = true })
        await eventually(async () => decided || (await waiters()) >= 1)
        commit()
        await change
        // 1000 against the sandbox's mark (about 2000): far outside a band of 1%.
        expect(await checked).toMatch(/^wallet policy priceBandBps: price 1000 is more than 100 bps from the mark/)
      })
      expect(lockedAtMark).toEqual([false])
    } finally {
      await probe.end()
    }
  })

  it('an order let through under rules with no counting limit records when (policy_passed_at)', async () => {
    const w = await activeWallet(h)
    const check = createPolicyCheck({ db: h.db, venue, now: () => Date.now() })
    await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOrderNotional: '1000' } })
    const passing = await order(w.wallet.id, 'submitting')
    const refused = await order(w.wallet.id, 'submitting', '20000')
    expect(await check(placement(w.wallet.id, w.session.id, passing))).toBeNull()
    expect(await check(placement(w.wallet.id, w.session.id, refused, 20000n))).toMatch(/^wallet policy maxOrderNotional/)
    const passed = await h.db.select({ id: orders.id, passed: sql<boolean>`${orders.policyPassedAt} is not null` }).from(orders).where(eq(orders.walletId, w.wallet.id))
    expect(Object.fromEntries(passed.map((row) => [row.id, row.passed]))).toEqual({ [passing]: true, [refused]: false })
  })
})
