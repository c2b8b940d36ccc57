import { and, eq, inArray } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { requestFamilies } from '../../core/acl/actions.js'
import { familiesFor } from '../../core/acl/familiesFor.js'
import type { Db } from '../../store/Database.js'
import { outbox, schedules, unfinishedOutboxStatuses } from '../../store/schema/index.js'

/**
 * The narrowest scope a wallet's first session asks for when nobody named one: what every wallet
 * needs (place and cancel limit orders, the kill switch), its schedules' (placing and cancelling
 * legs, the same families), and whatever work is already queued for it (a modification queued
 * while it waited for a session adds ModifyOrder; one on the wire needs its family too). The API's
 * default, and the worker's for a wallet that never had a session. With `base` (the families the
 * user chose), those instead of what every wallet needs: what session maintenance's rotations
 * narrow to (`routineScope`).
 */
export async function defaultSessionFamilies(db: Db, walletId: string, base?: readonly RequestFamily[]): Promise<RequestFamily[]> {
  const [schedule] = await db.select({ id: schedules.id }).from(schedules)
    .where(and(eq(schedules.walletId, walletId), inArray(schedules.status, ['active', 'paused']))).limit(1)
  const queued = await db.selectDistinct({ kind: outbox.kind }).from(outbox)
    .where(and(eq(outbox.walletId, walletId), inArray(outbox.status, [...unfinishedOutboxStatuses])))
  const wanted = new Set<string>([...(base ?? familiesFor({ limitOrders: true, killSwitch: true })), ...familiesFor({ schedules: schedule !== undefined }), ...queued.map((row) => row.kind)])
  return requestFamilies.filter((family) => wanted.has(family))
}
