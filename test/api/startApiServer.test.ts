/**
 * `deputy api` as its own process runs it: `startApiServer` opens its own
 * database pool, Redis connections (named after QUEUE_PREFIX) and operator
 * client from the config, waits for an operator that does not answer yet, and
 * `close()` releases every connection it opened.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/startApiServer.js'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/startSandbox.js'
import type { SandboxOptions } from '../../src/sandbox/config.js'
import { capturedLog } from '../support/capturedLog.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

let sandbox: Sandbox
let testDb: TestDatabase
let operator: Awaited<ReturnType<typeof lateRelay>> | undefined
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, quiet: true } as SandboxOptions)
  testDb = await createTestDatabase()
})
afterAll(async () => {
  await operator?.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await sandbox?.close()
  await testDb?.drop()
})

/** The client names of the Redis connections open now. */
async function redisClientNames(): Promise<string[]> {
  const admin = new Redis(REDIS_URL)
  try {
    return String(await admin.client('LIST')).split('\n').map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
  } finally {
    admin.disconnect()
  }
}

it('starts once the operator answers, is ready, names its Redis connections, and closes every one of them', async () => {
  operator = await lateRelay(sandbox.url)
  const config = loadConfig({
    DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: prefix, OPERATOR_URL: operator.url,
    DEPUTY_MASTER_KEY: generateMasterKey('test'), API_PORT: '0', LOG_LEVEL: 'silent',
  })
  const { log, lines: warnings } = capturedLog()
  const starting = startApiServer(config, log)
  starting.catch(() => undefined)
  await eventually(async () => warnings.some((line) => line.includes('the operator did not answer at start-up')), 10_000)
  await operator.open()

  const server = await starting
  // The default signer is the development one, and the API says what it allows.
  expect(warnings.filter((line) => line.includes('WALLET_SIGNER=local (development)'))).toHaveLength(1)
  const ready = await fetch(`${server.url}/readyz`)
  expect(ready.status).toBe(200)
  expect(await ready.json()).toMatchObject({ status: 'ready' })
  // Its two queue connections, named once connected (ioredis connects in the background).
  await eventually(async () => (await redisClientNames()).filter((name) => name === `${prefix}:deputy-api`).length >= 2, 5_000)

  await server.close()
  await eventually(async () => !(await redisClientNames()).includes(`${prefix}:deputy-api`), 5_000)
}, 60_000)
