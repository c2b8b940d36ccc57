/**
 * The worker stopped while Postgres cannot be reached: the event streams cannot release their
 * leases. Releasing is best effort (a lease lapses on its own after `leaseMs`, and another
 * process takes the wallet then): the failure is logged and the rest of the shutdown goes on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let postgres: Awaited<ReturnType<typeof lateRelay>>
let database: Database

beforeAll(async () => {
  h = await createHarness()
  postgres = await lateRelay(h.databaseUrl)
  await postgres.open()
  database = await openDatabase({ url: postgres.url, max: 5 })
})
afterAll(async () => {
  await postgres?.open()
  await database?.close()
  await postgres?.close()
  await h?.close()
})

it('close() with Postgres unreachable logs the leases it could not release and finishes', async () => {
  const { wallet } = await h.wallet()
  const { log, entries } = capturedLog()
  const worker = await h.startWorker({ db: database.db, database, log })
  await eventually(async () => worker.streams!.wallets().includes(wallet.id))
  await postgres.close()
  await worker.close(1_000)
  expect(entries().map((line) => line.msg)).toContain('could not release the event streams\' leases; they lapse on their own')
}, 30_000)
