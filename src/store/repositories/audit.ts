import type { Db } from '../Database.js'
import { type AuditActor, auditLog } from '../schema/index.js'

/** Appends to the audit log. `details` must never carry key material. */
export async function audit(db: Db, entry: { walletId?: string | null; actor: AuditActor; action: string; details?: Record<string, unknown> }): Promise<void> {
  await db.insert(auditLog).values({ walletId: entry.walletId ?? null, actor: entry.actor, action: entry.action, details: entry.details ?? {} })
}
