import { sql } from 'drizzle-orm'
import { check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { amount, createdAt, oneOf, timestamptz, updatedAt } from './columns.js'
import { wallets } from './wallets.js'

export const scheduleStatuses = ['active', 'paused', 'deleted'] as const
export type ScheduleStatus = (typeof scheduleStatuses)[number]

/**
 * A recurring rebalancing schedule: the spec exactly as `parseScheduleSpec`
 * accepted it (decimals as normalised strings), so a run re-parses it with the
 * same rules. Each active row has one BullMQ job scheduler whose id is the row id.
 */
export const schedules = pgTable(
  'schedules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    /** asset → target weight as a decimal string; the weights sum to 1. */
    targets: jsonb('targets').$type<Record<string, string>>().notNull(),
    cron: text('cron').notNull(),
    timeZone: text('time_zone').notNull(),
    toleranceBand: amount('tolerance_band').notNull(),
    minTradeNotional: amount('min_trade_notional').notNull(),
    limitOffsetBps: integer('limit_offset_bps').notNull(),
    maxNotionalPerRun: amount('max_notional_per_run'),
    status: text('status', { enum: scheduleStatuses }).notNull().default('active'),
    /**
     * Bumped by every edit, pause, resume and delete. A run records the version it
     * computed with and writes its orders only if the version is still current.
     */
    version: integer('version').notNull().default(1),
    /**
     * Since when slots count as due: creation, or the last resume. Slots that fell
     * while paused were skipped on purpose, so they are never coalesced into a run.
     */
    activeSince: timestamptz('active_since').notNull().defaultNow(),
    /**
     * The version the row's job scheduler was last written at (null: not yet). Behind `version`
     * when a change's write to Redis failed or never happened: the repair sweep writes it then.
     */
    schedulerVersion: integer('scheduler_version'),
    deletedAt: timestamptz('deleted_at'),
    /**
     * Since when (Postgres's clock) a pause or delete owes the cancels of the schedule's working
     * orders: set in the transaction of the change, cleared once they are queued. Still set a minute
     * on, its process died between the two, and the worker's repair sweep queues them
     * (`finishStoppedSchedules`). A resume clears it. Null: nothing owed.
     */
    cancelOrdersOwedSince: timestamptz('cancel_orders_owed_since'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('schedules_wallet_status_idx').on(t.walletId, t.status),
    // Start-up sync reads every active schedule.
    index('schedules_status_idx').on(t.status),
    // The repair sweep reads the schedules whose job scheduler is behind their row.
    index('schedules_scheduler_behind_idx').on(t.id).where(sql`${t.schedulerVersion} is distinct from ${t.version}`),
    // The repair sweep reads the stops whose cancels are still to be queued.
    index('schedules_cancel_orders_owed_idx').on(t.cancelOrdersOwedSince).where(sql`${t.cancelOrdersOwedSince} is not null`),
    check('schedules_status_check', oneOf(t.status, scheduleStatuses)),
    check('schedules_version_positive', sql`${t.version} >= 1`),
    check('schedules_limit_offset_bps_range', sql`${t.limitOffsetBps} between 0 and 1000`),
    check('schedules_deleted_at', sql`(${t.status} = 'deleted') = (${t.deletedAt} is not null)`),
  ],
)

export type ScheduleRow = typeof schedules.$inferSelect
export type NewScheduleRow = typeof schedules.$inferInsert
