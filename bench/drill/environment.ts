import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { createKeyring } from '../../src/keys/Keyring.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { type MarketRules, toMarketRules } from '../../src/runtime/intake/marketRules.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import type { OperatorDomain } from '../../src/core/eip712/types.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { Db } from '../../src/store/Database.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import { createTestDatabase } from '../../test/support/database.js'

export const REDIS_URL = process.env.DRILL_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** `signer`: the wallet's own key, which signs its Delegations (a grant, a rotation). */
export type DrillWallet = { walletId: string; address: Address; signer: WalletSigner }

/** The operator the environment talks to: in this process or a child process. */
export type OperatorHandle = {
  url: string
  domain: OperatorDomain
  fund(wallet: string, asset: string, amount: string): Promise<void>
}

/**
 * Everything a worker process needs, unique to one run: a fresh Postgres
 * database (migrated), a master key, a BullMQ prefix, funded wallets with an
 * active session each, and a scratch directory for logs.
 */
export async function createEnvironment(options: { name: string; operator: OperatorHandle; wallets: number; funds: Record<string, string>; poolSize?: number; dir?: string }) {
  const database = await createTestDatabase({ max: options.poolSize ?? 10 })
  const db = database.database.db as unknown as Db
  const masterKey = generateMasterKey(options.name.replace(/[^A-Za-z0-9_-]/g, '') || 'bench')
  const keyring = createKeyring(masterKey)
  const id = randomUUID().slice(0, 8)
  const queuePrefix = `deputy-${options.name}-${id}`
  const dir = options.dir ?? join(tmpdir(), `deputy-${options.name}-${id}`)
  await mkdir(dir, { recursive: true })
  const markets: MarketRules = toMarketRules(await createVenueClient({ baseUrl: options.operator.url }).markets())

  const wallets: DrillWallet[] = []
  for (let i = 0; i < options.wallets; i++) {
    const signer = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
    const wallet = await ensureWallet(db, signer.address)
    for (const [asset, amount] of Object.entries(options.funds)) await options.operator.fund(signer.address, asset, amount)
    await grantSession({
      db, keyring, domain: options.operator.domain, walletSigner: signer, walletId: wallet.id,
      families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'], lifetimeSeconds: 24 * 3600, nowMs: Date.now(),
    })
    wallets.push({ walletId: wallet.id, address: signer.address, signer })
  }

  return {
    db,
    databaseUrl: database.url,
    masterKey,
    keyring,
    queuePrefix,
    dir,
    markets,
    wallets,
    /** The worker process's environment (`src/config.ts`). */
    workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
      return {
        DATABASE_URL: database.url,
        REDIS_URL,
        QUEUE_PREFIX: queuePrefix,
        OPERATOR_URL: options.operator.url,
        DEPUTY_MASTER_KEY: masterKey,
        LOG_LEVEL: 'warn',
        ...overrides,
      }
    },
    /** Drops the database and this run's BullMQ keys (by prefix, never a flush), and the scratch directory unless told to keep it. */
    async close(options: { keepFiles?: boolean } = {}): Promise<void> {
      await database.drop()
      await deleteQueueKeys(REDIS_URL, queuePrefix)
      if (!options.keepFiles) await rm(dir, { recursive: true, force: true })
    },
  }
}
export type Environment = Awaited<ReturnType<typeof createEnvironment>>
