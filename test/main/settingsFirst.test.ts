/**
 * A setting the process can check by itself (the master key, the custody signer's settings) is
 * checked before anything else: a malformed one stops the worker or the API with an error naming
 * it, before Postgres is migrated and before the operator is waited for (which has no end).
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startApiServer } from '../../src/api/startApiServer.js'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { createLogger } from '../../src/logger.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { runToExit } from '../support/runToExit.js'
import { REDIS_URL } from '../worker/support/harness.js'

let testDb: TestDatabase
let operator: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  testDb = await createTestDatabase({ migrate: false })
  // An operator address that refuses every connection: start-up would wait for it forever.
  operator = await lateRelay('http://127.0.0.1:9')
})
afterAll(async () => {
  await operator?.close()
  await testDb?.drop()
})

/** Tables in the test database: none until something migrates it. */
async function tableCount(): Promise<number> {
  const { rows } = await testDb.database.db.execute<{ n: number }>(sql`select count(*)::int as n from pg_tables where schemaname in ('public', 'drizzle')`)
  return rows[0]!.n
}

const settings = () => ({ DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: 'deputy-test-settings-first', OPERATOR_URL: operator.url, LOG_LEVEL: 'info' })
/** The custody settings come from the process environment (src/signers/createWalletSigner.ts), not the config. */
const CUSTODY_ENV = ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']
const malformed = [
  { name: 'DEPUTY_MASTER_KEY', env: { DEPUTY_MASTER_KEY: 'default:not-32-bytes' }, says: 'DEPUTY_MASTER_KEY: entry 1: not base64 of exactly 32 bytes (entries are keyId:base64key)' },
  { name: 'custody setting (WALLET_SIGNER=privy without PRIVY_APP_ID)', env: { DEPUTY_MASTER_KEY: generateMasterKey('test'), WALLET_SIGNER: 'privy' }, says: 'PRIVY_APP_ID: must be set with WALLET_SIGNER=privy' },
]

for (const { name, env, says } of malformed) {
  it(`the worker stops at once on a malformed ${name}, saying so, with the database untouched`, async () => {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...settings(), ...env }
    for (const key of CUSTODY_ENV) if (!(key in env)) delete childEnv[key]
    const { code, stderr } = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], childEnv)
    // A configuration error (test/main/configExit.test.ts): exit 2, one line naming the variable.
    expect(code).toBe(2)
    expect(stderr).toContain(`deputy: configuration: ${says}`)
    expect(await tableCount()).toBe(0)
  }, 30_000)

  it(`the API stops at once on a malformed ${name}, saying so, with the database untouched`, async () => {
    const config = loadConfig({ ...settings(), API_PORT: '0', LOG_LEVEL: 'silent', ...env })
    const saved = Object.fromEntries(CUSTODY_ENV.map((key) => [key, process.env[key]]))
    for (const key of CUSTODY_ENV) delete process.env[key]
    Object.assign(process.env, env)
    try {
      await expect(startApiServer(config, createLogger('silent'))).rejects.toThrow(says)
    } finally {
      for (const key of CUSTODY_ENV) if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key]
    }
    expect(await tableCount()).toBe(0)
  }, 30_000)
}
