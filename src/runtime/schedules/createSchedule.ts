import { and, eq } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { ScheduleSpecInput } from '../../core/rebalance/parseScheduleSpec.js'
import { parseRequestedSpec } from './parseRequestedSpec.js'
import { type ScheduleRow, schedules } from '../../store/schema/index.js'
import { lockTenantWallet } from '../intake/lockTenantWallet.js'
import { assertOnlyActiveSchedule } from './assertOnlyActiveSchedule.js'
import { assertSessionCoversSchedules } from './assertSessionCoversSchedules.js'
import { assertUuid } from './lockSchedule.js'
import { resyncAfterCommit } from './resyncAfterCommit.js'
import { scheduleSpecColumns } from './scheduleSpecColumns.js'
import { audit } from '../../store/repositories/audit.js'
import type { ScheduleContext } from './types.js'

export type CreateScheduleInput = ScheduleSpecInput & {
  walletId: string
  /**
   * The schedule's id: an Idempotency-Key's action id, the same for every attempt under the key. A
   * schedule already created under it (the first attempt committed, its answer lost) is answered
   * as it is, instead of being refused as the wallet's second active schedule.
   */
  id?: string
  /**
   * The tenant the wallet must belong to (the API's caller), checked under the wallet's lock in the
   * schedule's transaction; another tenant's wallet is refused as an unknown one. The API looks the
   * wallet up by tenant first, but a wallet may be retired (a takeover by proof of ownership, which
   * registers its address anew for another tenant) between that lookup and this transaction.
   */
  tenantId?: string
}

/** `ScheduleValidationError` (a `ValidationError`, code `CORE.VALIDATION`) naming every bad field. */
export type CreateScheduleErrorType = ValidationError

/**
 * Creates an active schedule and its job scheduler; the wallet must have no other
 * active schedule, and its active session (if any) must cover what a schedule
 * sends. The spec is validated in full before anything is written; the
 * row is committed before the scheduler is added, so a scheduler never fires for
 * a row that does not exist.
 */
export async function createSchedule(ctx: ScheduleContext, input: CreateScheduleInput): Promise<ScheduleRow> {
  if (typeof input !== 'object' || input === null) throw new ValidationError('schedule', 'must be an object')
  const { walletId, id, tenantId, ...specInput } = input
  assertUuid('walletId', walletId)
  const spec = await parseRequestedSpec(ctx, specInput)
  const now = new Date((ctx.now ?? Date.now)())
  const row = await ctx.db.transaction(async (tx) => {
    if (id) {
      const [done] = await tx.select().from(schedules).where(and(eq(schedules.id, id), eq(schedules.walletId, walletId)))
      if (done) return done
    }
    // Before the wallet's schedules are read: a refusal naming another tenant's schedule would leak it.
    await lockTenantWallet(tx, walletId, tenantId)
    await assertOnlyActiveSchedule(tx, { walletId, field: 'walletId' })
    await assertSessionCoversSchedules(tx, { walletId, field: 'walletId' })
    const [created] = await tx.insert(schedules).values({ ...(id ? { id } : {}), walletId, ...scheduleSpecColumns(spec), status: 'active', activeSince: now }).returning()
    await audit(tx, { walletId, actor: ctx.actor ?? 'api', action: 'schedule.created', details: { scheduleId: created!.id, ...scheduleSpecColumns(spec) } })
    return created!
  })
  await resyncAfterCommit(ctx, row.id)
  return row
}
