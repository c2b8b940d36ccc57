/**
 * The start-up check of DEPUTY_MASTER_KEY against the sessions it sealed (`checkMasterKeysAtStartup`,
 * run by the worker and the API right after their migrations) waits out a Postgres that drops its
 * connection, as the migrations do, instead of ending the process: in the drill, with Postgres ending
 * the workers' connections every 5 s, three workers starting together all exited 1 at this step
 * ("uncaught exception"). A key that does not open its sessions is still refused at once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ConfigError } from '../../src/core/errors/ConfigError.js'
import { createKeyring } from '../../src/keys/Keyring.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { checkMasterKeysAtStartup } from '../../src/runtime/sessions/checkMasterKeysAtStartup.js'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { capturedLog } from '../support/capturedLog.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { pgFaultProxy } from '../support/pgFaultProxy.js'
import { insertSealedSession } from '../store/fixtures.js'

const sealing = generateMasterKey('main')
let testDb: TestDatabase
let proxy: Awaited<ReturnType<typeof pgFaultProxy>>
let database: Database
beforeAll(async () => {
  testDb = await createTestDatabase()
  await insertSealedSession(testDb.database.db, createKeyring(sealing))
  proxy = await pgFaultProxy(testDb.url)
  database = await openDatabase({ url: proxy.url, max: 2, queryTimeoutMs: 30_000 })
})
afterAll(async () => {
  await database?.close()
  await proxy?.close()
  await testDb?.drop()
})

it('a connection cut during the check is waited out and the check run again to its end', async () => {
  const { log, entries } = capturedLog()
  // The check's last read: the sessions per key id (those sealed under a key the keyring does not hold).
  proxy.cutAt('count(*)')
  const before = proxy.faults
  await checkMasterKeysAtStartup(database.db, createKeyring(sealing), log)
  expect(proxy.faults).toBe(before + 1)
  expect(entries()).toEqual([expect.objectContaining({ msg: expect.stringContaining('the master key check could not reach Postgres at start-up'), retryInMs: 250 })])
})

it('a key that does not open the session sealed under its id is refused at once, with no retry', async () => {
  const { log, entries } = capturedLog()
  const check = checkMasterKeysAtStartup(database.db, createKeyring(generateMasterKey('main')), log)
  await expect(check).rejects.toBeInstanceOf(ConfigError)
  await expect(check).rejects.toThrow('DEPUTY_MASTER_KEY: entry 1 does not open session')
  expect(entries()).toEqual([])
})

it('told to stop while it waits, it makes no further try', async () => {
  const { log, entries } = capturedLog()
  const stop = new AbortController()
  proxy.cutAt('count(*)')
  const check = checkMasterKeysAtStartup(database.db, createKeyring(sealing), log, stop.signal)
  await expect.poll(() => entries().length, { timeout: 10_000 }).toBe(1)
  stop.abort(new Error('stopped while starting'))
  await expect(check).rejects.toThrow('stopped while starting')
  expect(entries()).toHaveLength(1)
})
