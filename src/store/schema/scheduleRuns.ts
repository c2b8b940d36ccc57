import { sql } from 'drizzle-orm'
import { check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { amount, createdAt, oneOf, timestamptz, updatedAtOnPostgresClock } from './columns.js'
import { schedules } from './schedules.js'
import { wallets } from './wallets.js'

/**
 * `running` until the run settles; then `completed` (legs written, possibly none),
 * `skipped` (paused, deleted, edited or halted before any leg was written, superseded
 * by a later slot when left by its job, lost or down, before it wrote any, or
 * earlier runs' orders still working when its wait for them ended),
 * `awaiting_delegation` (no active session: nothing traded) or `failed`.
 */
export const scheduleRunStatuses = ['running', 'completed', 'skipped', 'awaiting_delegation', 'failed'] as const
export type ScheduleRunStatus = (typeof scheduleRunStatuses)[number]

/** Where a running run is: waiting for earlier runs' orders to settle, or for its own sells to fund its buys. */
export const scheduleRunStages = ['settling', 'selling'] as const
export type ScheduleRunStage = (typeof scheduleRunStages)[number]

/** One holding of a before/after table; decimals as strings. */
export type RunHolding = { asset: string; balance: string; value: string; weight: string; target: string }

/** One leg as written (intent, order and cloid), decimals as strings. */
export type RunLeg = {
  leg: number
  asset: string
  market: string
  side: 'buy' | 'sell'
  size: string
  price: string
  notional: string
  mark: string
  idealSize: string
  limitedBy: string[]
  intentId: string
  orderId: string
  clientOrderId: string
}

/** A target the run did not trade, and why (core `SkippedTarget`, decimals as strings). */
export type RunSkip = { asset?: string; reason: string; detail: string }

export type RunAdjustment = { reason: string; requestedNotional: string; budget: string; resultingNotional: string }

/**
 * One run of a schedule, unique per (schedule, slot): the row is the run's claim,
 * so a redelivered or retried job for a slot that already has a row adds nothing.
 */
export const scheduleRuns = pgTable(
  'schedule_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    scheduleId: uuid('schedule_id').notNull().references(() => schedules.id),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    /** The cron slot this run stands for (the latest due one when slots were coalesced). */
    slotAt: timestamptz('slot_at').notNull(),
    /** The schedule version the run computed with. */
    scheduleVersion: integer('schedule_version').notNull(),
    /** The BullMQ job that owns the run while it is `running`. */
    jobId: text('job_id'),
    status: text('status', { enum: scheduleRunStatuses }).notNull().default('running'),
    stage: text('stage', { enum: scheduleRunStages }),
    /** `due`, `coalesced`, or why it did not trade (`paused`, `deleted`, `superseded`, `halted`, `earlierOrdersWorking`, `noSession`, `error`). */
    reason: text('reason').notNull(),
    detail: text('detail').notNull(),
    /** How many earlier due slots this run stood in for. */
    coalesced: integer('coalesced').notNull().default(0),
    coalescedSlots: jsonb('coalesced_slots').$type<string[]>().notNull().default([]),
    portfolioValue: amount('portfolio_value'),
    /** Holdings at the marks when the run read the portfolio. */
    before: jsonb('before').$type<RunHolding[]>(),
    /** The same holdings if every leg fills at its limit price (projected, not observed). */
    after: jsonb('after').$type<RunHolding[]>(),
    legs: jsonb('legs').$type<RunLeg[]>().notNull().default([]),
    skippedLegs: jsonb('skipped_legs').$type<RunSkip[]>().notNull().default([]),
    adjustments: jsonb('adjustments').$type<RunAdjustment[]>().notNull().default([]),
    /** Orders of earlier runs this run asked to cancel. */
    cancelledOrderIds: jsonb('cancelled_order_ids').$type<string[]>().notNull().default([]),
    /** Anything a reader of the run log should know (a wait that timed out, a stage cut short). */
    notes: jsonb('notes').$type<string[]>().notNull().default([]),
    error: text('error'),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    /**
     * When the run placed its sells ahead of its buys (stage `selling`), on the operator's clock as
     * `startedAt`: the wait for them counts from it, not from the run's start. Null for a run that
     * placed no sells first, and for one that placed them before this column existed (its wait counts from `startedAt`).
     */
    sellsPlacedAt: timestamptz('sells_placed_at'),
    finishedAt: timestamptz('finished_at'),
    createdAt: createdAt(),
    /** On Postgres's clock, inserts and updates alike: `claimRun` compares it with Postgres's now() to tell a lost run. */
    updatedAt: updatedAtOnPostgresClock(),
  },
  (t) => [
    uniqueIndex('schedule_runs_schedule_slot_unique').on(t.scheduleId, t.slotAt),
    // One run in flight per schedule: a second would cancel the first one's orders mid-run.
    uniqueIndex('schedule_runs_one_running').on(t.scheduleId).where(sql`${t.status} = 'running'`),
    index('schedule_runs_schedule_status_idx').on(t.scheduleId, t.status),
    // Retention (pruneHistory) finds the runs that traded nothing past its cutoff here: only those, so
    // kept runs (completed, with legs) are never read again by each of its statements.
    index('schedule_runs_prunable_idx').on(t.finishedAt)
      .where(sql`${t.status} in ('skipped', 'awaiting_delegation') and ${t.legs} = '[]'::jsonb and ${t.cancelledOrderIds} = '[]'::jsonb`),
    check('schedule_runs_status_check', oneOf(t.status, scheduleRunStatuses)),
    check('schedule_runs_stage_check', sql`${t.stage} is null or ${oneOf(t.stage, scheduleRunStages)}`),
    check('schedule_runs_stage_only_running', sql`${t.stage} is null or ${t.status} = 'running'`),
    check('schedule_runs_finished', sql`(${t.status} = 'running') = (${t.finishedAt} is null)`),
  ],
)

export type ScheduleRunRow = typeof scheduleRuns.$inferSelect
export type NewScheduleRunRow = typeof scheduleRuns.$inferInsert
