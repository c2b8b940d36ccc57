import { and, eq, isNull } from 'drizzle-orm'
import { parsePolicyRules } from '../../core/policy/parsePolicyRules.js'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { type PolicyRow, policies } from '../../store/schema/index.js'
import { lockWalletPolicy } from '../../store/repositories/lockWallet.js'
import { lockTenantWallet } from '../intake/lockTenantWallet.js'

/**
 * Sets (replaces) the wallet's policy, or one session's when `sessionId` is given. Validated before
 * storing. `tenantId` (the API's caller): the wallet must be that tenant's, checked in the same
 * transaction (`lockTenantWallet`); another tenant's is refused as an unknown wallet.
 */
export async function setPolicy(db: Db, input: { walletId: string; sessionId?: string; rules: unknown; actor?: string; tenantId?: string }): Promise<PolicyRow> {
  parsePolicyRules(input.rules, 'rules')
  return db.transaction(async (tx) => {
    // Two changes of one wallet's policies take turns: both would otherwise delete the same (or no)
    // row and both insert, and the second would fail on the one-policy unique index.
    await lockTenantWallet(tx, input.walletId, input.tenantId)
    // The wallet's policy checks and this change take turns (`lockWalletPolicy`): this waits for the
    // checks under way, whose placements let through count from then; the checks after read these rules.
    await lockWalletPolicy(tx, input.walletId, 'exclusive')
    const target = input.sessionId
      ? and(eq(policies.walletId, input.walletId), eq(policies.sessionId, input.sessionId))
      : and(eq(policies.walletId, input.walletId), isNull(policies.sessionId))
    await tx.delete(policies).where(target)
    const [row] = await tx.insert(policies).values({ walletId: input.walletId, sessionId: input.sessionId ?? null, rules: input.rules as Record<string, unknown> }).returning()
    await audit(tx, { walletId: input.walletId, actor: input.actor ?? 'api', action: 'policy.set', details: { sessionId: input.sessionId ?? null, rules: input.rules } })
    return row!
  })
}
