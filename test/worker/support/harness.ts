import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { generatePrivateKey } from 'viem/accounts'
import type { RequestFamily } from '../../../src/core/acl/actions.js'
import { createKeyring } from '../../../src/keys/Keyring.js'
import { deleteQueueKeys } from '../../../src/queue/deleteQueueKeys.js'
import { generateMasterKey } from '../../../src/keys/generateMasterKey.js'
import { type MarketRules, toMarketRules } from '../../../src/runtime/intake/marketRules.js'
import { grantSession } from '../../../src/runtime/sessions/grantSession.js'
import { ensureWallet } from '../../../src/runtime/wallets.js'
import { type Sandbox, startSandbox } from '../../../src/sandbox/startSandbox.js'
import type { SandboxOptions } from '../../../src/sandbox/startSandbox.js'
import { LocalWalletSigner } from '../../../src/signers/LocalWalletSigner.js'
import type { Db } from '../../../src/store/Database.js'
import { type RunningWorker, type StartWorkerOptions, startWorker } from '../../../src/worker.js'
import { createVenueClient } from '../../../src/venue/createVenueClient.js'
import { createTestDatabase, type TestDatabase } from '../../support/database.js'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A real sandbox operator over HTTP, a fresh Postgres database and a unique
 * BullMQ prefix on the real Redis: one per test file, torn down in `afterAll`.
 */
export async function createHarness(options: { sandbox?: SandboxOptions } = {}) {
  const sandbox: Sandbox = await startSandbox({ port: 0, quiet: true, ...options.sandbox } as SandboxOptions)
  const testDb: TestDatabase = await createTestDatabase({ max: 20 })
  const db: Db = testDb.database.db
  const masterKey = generateMasterKey('test')
  const keyring = createKeyring(masterKey)
  const queuePrefix = `deputy-test-${randomUUID().slice(0, 8)}`
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const workers: RunningWorker[] = []

  const harness = {
    sandbox, db, keyring, queuePrefix, log,
    /** The store `db` belongs to (for `startWorker({ database })`). */
    database: testDb.database,
    /** For a worker run as a child process (`DATABASE_URL`, `DEPUTY_MASTER_KEY`). */
    databaseUrl: testDb.url, masterKey,
    async startWorker(overrides: Partial<StartWorkerOptions> = {}): Promise<RunningWorker> {
      const worker = await startWorker({
        db, redisUrl: REDIS_URL, queuePrefix, operatorUrl: sandbox.url, keyring, log,
        reconcileIntervalMs: 60_000, relayIntervalMs: 20, sweepIntervalMs: 500, ...overrides,
      })
      workers.push(worker)
      return worker
    },
    /** The sandbox's markets as intake checks them. */
    async markets(): Promise<MarketRules> {
      return toMarketRules(await createVenueClient({ baseUrl: sandbox.url }).markets())
    },
    /** A funded development wallet with an active session covering `families`. */
    async wallet(families: RequestFamily[] = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'], funds: Record<string, string> = { USD: '1000000', ETH: '100', BTC: '10' }) {
      const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
      const wallet = await ensureWallet(db, signer.address)
      for (const [asset, amount] of Object.entries(funds)) sandbox.fund(signer.address, asset, amount)
      const { session } = await grantSession({
        db, keyring, domain: sandbox.domain, walletSigner: signer, walletId: wallet.id, families,
        lifetimeSeconds: 3600 * 24, nowMs: sandbox.now(),
      })
      return { signer, wallet, session }
    },
    async close(): Promise<void> {
      for (const worker of workers) await step('worker.close', worker.close(5_000).catch(() => undefined))
      await step('deleteQueueKeys', deleteQueueKeys(REDIS_URL, queuePrefix))
      await step('sandbox.close', sandbox.close())
      await step('testDb.drop', testDb.drop())
    },
  }
  return harness
}
export type Harness = Awaited<ReturnType<typeof createHarness>>

/** Awaits one step of `close`, saying which one when it takes long (a hung close fails the file's afterAll without naming it). */
async function step<T>(name: string, work: Promise<T>): Promise<T> {
  const warn = setTimeout(() => console.warn(`harness close: ${name} still running after 15 s`), 15_000)
  try {
    return await work
  } finally {
    clearTimeout(warn)
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, stepMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

/**
 * The requests `read` answers, once none is still in flight (`signed`): the stream's
 * event (an order opened, cancelled) can land before the request's receipt is stored.
 */
export async function answeredRequests<R extends { status: string }>(read: () => Promise<R[]>, timeoutMs = 10_000): Promise<R[]> {
  return eventually(async () => {
    const rows = await read()
    return rows.every((row) => row.status !== 'signed') && rows
  }, timeoutMs)
}
