import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { type ApiKeyRow, apiKeys } from '../../store/schema/index.js'

/**
 * API keys look like `dpk_<key id, 32 hex>_<secret, 43 base64url chars>`: the id
 * finds the row, the secret (32 random bytes) is checked against the stored
 * SHA-256 in constant time. The key is shown once; only its hash is stored.
 */
const KEY_FORMAT = /^dpk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

function idOfHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** A new key for `tenantId`; the returned `key` is the only copy of the secret. */
export async function createApiKey(db: Db, input: { tenantId: string; label?: string }): Promise<{ row: ApiKeyRow; key: string }> {
  const id = randomUUID()
  const key = `dpk_${id.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`
  const [row] = await db.insert(apiKeys).values({ id, tenantId: input.tenantId, secretHash: hashApiKey(key), label: input.label ?? null }).returning()
  return { row: row!, key }
}

/** Revokes a key at once; requests presenting it are refused from now on. */
export async function revokeApiKey(db: Db, keyId: string, now: Date): Promise<ApiKeyRow | undefined> {
  const [row] = await db.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).returning()
  return row
}

// Compared against when the key id is unknown, so both paths do the same work.
const DUMMY_HASH = Buffer.alloc(32)

/** The unrevoked key row a presented key belongs to, or undefined. */
export async function verifyApiKey(db: Db, presented: string): Promise<ApiKeyRow | undefined> {
  const match = KEY_FORMAT.exec(presented)
  if (!match) return undefined
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, idOfHex(match[1]!)))
  const expected = row ? Buffer.from(row.secretHash, 'hex') : DUMMY_HASH
  const equal = timingSafeEqual(Buffer.from(hashApiKey(presented), 'hex'), expected)
  return row && equal && !row.revokedAt ? row : undefined
}

/** Constant-time check of the admin token (both sides hashed, so lengths never differ). */
export function adminTokenMatches(expected: string | undefined, presented: string | undefined): boolean {
  if (!expected || presented === undefined) return false
  const a = createHash('sha256').update(expected, 'utf8').digest()
  const b = createHash('sha256').update(presented, 'utf8').digest()
  return timingSafeEqual(a, b)
}
