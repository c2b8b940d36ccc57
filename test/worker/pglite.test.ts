/**
 * Without `DATABASE_URL` the worker runs on embedded PGlite: the happy path of
 * one order, start to fill, on an in-memory PGlite database. The relay polls once
 * an hour here: the order goes out because its commit notified the relay (LISTEN).
 */
import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { pino } from 'pino'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createKeyring } from '../../src/keys/Keyring.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/startSandbox.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import type { Database } from '../../src/store/Database.js'
import { migrate } from '../../src/store/migrate.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { MEMORY_DATA_DIR, openDatabase } from '../../src/store/openDatabase.js'
import { events, fills, orders, requests } from '../../src/store/schema/index.js'
import { type RunningWorker, startWorker } from '../../src/worker.js'
import { REDIS_URL, eventually } from './support/harness.js'

let sandbox: Sandbox
let database: Database
let worker: RunningWorker | undefined
const queuePrefix = `deputy-test-pglite-${randomUUID().slice(0, 8)}`

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, quiet: true })
  database = await openDatabase({ dataDir: MEMORY_DATA_DIR })
  await migrate(database)
}, 120_000)
afterAll(async () => {
  await worker?.close(5_000)
  await deleteQueueKeys(REDIS_URL, queuePrefix)
  await database?.close()
  await sandbox?.close()
})

it('places an order, sees it fill, and records the fill', async () => {
  expect(database.kind).toBe('pglite')
  const { db } = database
  const keyring = createKeyring(generateMasterKey('pglite'))
  worker = await startWorker({
    db, database, keyring, redisUrl: REDIS_URL, queuePrefix, operatorUrl: sandbox.url,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), relayIntervalMs: 3_600_000, reconcileIntervalMs: 60_000,
  })
  const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
  const wallet = await ensureWallet(db, signer.address)
  sandbox.fund(signer.address, 'USD', '100000')
  await grantSession({ db, keyring, domain: sandbox.domain, walletSigner: signer, walletId: wallet.id, families: ['Order', 'CancelOrder'], lifetimeSeconds: 24 * 3600, nowMs: Date.now() })

  const { order } = await placeLimitOrder(db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.25' }, new Date())
  const orderRow = async () => (await db.select().from(orders).where(eq(orders.id, order.id)))[0]!
  await eventually(async () => (await orderRow()).state === 'open')
  await eventually(async () => worker!.streams?.wallets().includes(wallet.id))
  try {
    sandbox.setMark('ETH-USD', '1985')
  } finally {
    sandbox.setMark('ETH-USD', '2000')
  }
  const filled = await eventually(async () => { const o = await orderRow(); return o.state === 'filled' && o })
  expect(Number(filled.filled)).toBe(0.25)
  expect(Number(filled.averagePrice)).toBe(1990)
  expect(await db.select().from(fills).where(eq(fills.orderId, order.id))).toHaveLength(1)
  await eventually(async () => (await db.select().from(requests).where(eq(requests.orderId, order.id)))[0]?.status === 'accepted')
  expect(await db.select().from(requests).where(eq(requests.orderId, order.id))).toHaveLength(1)
  expect((await db.select().from(events).where(eq(events.walletId, wallet.id))).map((e) => e.type)).toEqual(['OrderAccepted', 'OrderFilled'])
}, 60_000)
