import { randomBytes, randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import type { Keyring } from '../../src/keys/Keyring.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { sealSessionKey } from '../../src/runtime/sessions/sealedSessionKey.js'
import type { Db } from '../../src/store/Database.js'
import {
  type NewOrderRow, type NewSessionRow, type SessionRow, type WalletRow, orders, sessions, wallets,
} from '../../src/store/schema/index.js'
import { createMemoryDatabase, createTestDatabase } from '../support/database.js'

/** Both drivers, so every store test proves the same behaviour on each. */
export const drivers = [
  { name: 'pg', create: () => createTestDatabase() },
  { name: 'pglite', create: () => createMemoryDatabase() },
] as const

export const hex = (bytes: number): `0x${string}` => `0x${randomBytes(bytes).toString('hex')}`

export async function insertWallet(db: Db): Promise<WalletRow> {
  const [wallet] = await db.insert(wallets).values({ address: hex(20), status: 'active' }).returning()
  return wallet!
}

/** A session (of a wallet of its own) whose key is sealed under the keyring's current key, as a grant seals it. */
export async function insertSealedSession(db: Db, keyring: Keyring, status: SessionRow['status'] = 'active') {
  const walletId = (await insertWallet(db)).id
  const key = SessionKey.generate()
  const id = randomUUID()
  await insertSession(db, walletId, { id, status, publicKey: key.publicKey, sealedPrivateKey: sealSessionKey(keyring, key, id), masterKeyId: keyring.currentKeyId })
  return { id, publicKey: key.publicKey }
}

/** A session row in `status`, with the delegation columns a signing status requires. */
export async function insertSession(db: Db, walletId: string, overrides: Partial<NewSessionRow> = {}): Promise<SessionRow> {
  const expiryUnix = 1_900_000_000
  const [session] = await db.insert(sessions).values({
    walletId,
    status: 'active',
    publicKey: `0x02${randomBytes(32).toString('hex')}`,
    sealedPrivateKey: 'sealed:v1:opaque',
    masterKeyId: 'test-master',
    aclScope: ['Order', 'CancelOrder'],
    expiry: new Date(expiryUnix * 1000),
    expiryUnix,
    delegationNonce: '1',
    delegationHash: hex(32),
    delegatedPayload: hex(96),
    walletSigner: 'local',
    ...overrides,
  }).returning()
  return session!
}

export function orderValues(walletId: string, overrides: Partial<NewOrderRow> = {}): NewOrderRow {
  return {
    walletId,
    clientOrderId: hex(16),
    market: 'ETH-USD',
    side: 0,
    price: '2000.5',
    size: '0.25',
    timeInForce: 0,
    ...overrides,
  }
}

export async function insertOrder(db: Db, walletId: string, overrides: Partial<NewOrderRow> = {}) {
  const [order] = await db.insert(orders).values(orderValues(walletId, overrides)).returning()
  return order!
}

/**
 * Expects a Postgres constraint violation naming `constraint`. drizzle wraps
 * driver errors, so the Postgres error is the `cause`.
 */
export async function expectViolation(work: Promise<unknown>, constraint: string, code = '23505'): Promise<void> {
  const error: unknown = await work.then(() => undefined, (reason: unknown) => reason)
  expect(error, `expected ${constraint} to be violated`).toBeInstanceOf(Error)
  const cause = (error as { cause?: { code?: string; constraint?: string } }).cause
  expect({ code: cause?.code, constraint: cause?.constraint }).toEqual({ code, constraint })
}
