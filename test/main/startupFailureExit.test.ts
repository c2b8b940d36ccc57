/**
 * A worker whose start-up fails for a reason no retry changes (here a migration Postgres refuses:
 * a table of the schema already there, made by hand) logs the failure fatal and exits 1 at once,
 * for its supervisor to see and start it again, its health server and Postgres pool closed. Left to
 * the CLI, they kept a process that did nothing alive: no exit, a probe answering 'starting' for good.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { freePort } from '../support/freePort.js'
import { runToExit } from '../support/runToExit.js'
import { REDIS_URL } from '../worker/support/harness.js'

let testDb: TestDatabase

beforeAll(async () => {
  testDb = await createTestDatabase({ migrate: false, max: 1 })
  await testDb.database.db.execute(sql`create table wallets (made_by_hand int)`)
})
afterAll(async () => { await testDb?.drop() })

it('a migration Postgres refuses: one fatal line naming it and exit code 1, its health server and Postgres pool open when it failed', async () => {
  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: 'deputy-test-startup-failure', OPERATOR_URL: 'http://127.0.0.1:9',
    DEPUTY_MASTER_KEY: generateMasterKey('test'), LOG_LEVEL: 'info', WORKER_HEALTH_PORT: String(await freePort()),
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete env[key]
  const { code, stdout, stderr } = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], env, 40_000)
  const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message?: string } })
  const fatal = lines.filter((line) => line.level === 60)
  expect({ code, stderr, fatal: fatal.map((line) => line.msg) }).toEqual({ code: 1, stderr: '', fatal: ['worker start-up failed'] })
  expect(fatal[0]!.err?.message).toMatch(/relation "wallets" already exists/)
  // Nothing was retried: a refusal is not a dependency's blip.
  expect(lines.map((line) => line.msg)).not.toContain('migrations could not reach Postgres at start-up; retrying before taking work')
}, 60_000)
