/**
 * Postgres cannot be reached for a while (a restart, a failover) while the worker runs: its
 * loops (the outbox relay every 100 ms, the LISTEN connection, the stream supervisor every second,
 * the sweeps) fail on every run. The worker says so once per failure rather than on every run
 * (a 6 s outage logged 73 lines before, 60 of them the relay's), and takes work again once
 * Postgres is back. Only the worker reaches Postgres through the relay that goes away.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, type Harness } from './support/harness.js'
import { expectTakesWork } from './support/takesWork.js'

let h: Harness
let postgres: Awaited<ReturnType<typeof lateRelay>>
let database: Database
let worker: RunningWorker
const { log, lines, entries } = capturedLog()

beforeAll(async () => {
  h = await createHarness()
  await h.wallet()
  postgres = await lateRelay(h.databaseUrl)
  await postgres.open()
  database = await openDatabase({ url: postgres.url, max: 10 })
  worker = await h.startWorker({ db: database.db, database, log, relayIntervalMs: 100, sweepIntervalMs: 1_000 })
})
afterAll(async () => {
  await worker?.close(5_000)
  await database?.close()
  await postgres?.close()
  await h?.close()
})

it('logs each failing loop once per failure while Postgres is unreachable, and takes work once it is back', async () => {
  await sleep(1_000)
  expect(lines).toEqual([])
  await postgres.close()
  await sleep(5_000)
  const logged = entries()
  const loops = new Set(logged.map((line) => line.msg))
  // The relay, the sweeps and the stream supervisor all failed, and none was logged on every run.
  for (const msg of ['outbox relay failed', 'outbox sweep failed', 'job scheduler check failed', 'event stream supervisor tick failed']) expect(loops).toContain(msg)
  const perFailure = new Map<string, number>()
  for (const line of logged) perFailure.set(`${line.msg} / ${line.err?.message}`, (perFailure.get(`${line.msg} / ${line.err?.message}`) ?? 0) + 1)
  expect([...perFailure].filter(([, n]) => n > 1)).toEqual([])

  await postgres.open()
  await expectTakesWork(h, worker)
}, 60_000)
