import { type SQL, and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS } from '../../core/rebalance/cronIntervalProblem.js'
import { createSchedule } from '../../runtime/schedules/createSchedule.js'
import { deleteSchedule } from '../../runtime/schedules/deleteSchedule.js'
import { listScheduleRuns } from '../../runtime/schedules/listScheduleRuns.js'
import { pauseSchedule } from '../../runtime/schedules/pauseSchedule.js'
import { resumeSchedule } from '../../runtime/schedules/resumeSchedule.js'
import type { ScheduleContext } from '../../runtime/schedules/types.js'
import { startTimingChecker } from '../../runtime/schedules/startTimingChecker.js'
import { updateSchedule } from '../../runtime/schedules/updateSchedule.js'
import { scheduleStatuses, schedules, wallets } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { tenantTimingChecks } from '../tenantTimingChecks.js'
import { ownedSchedule, ownedWallet } from '../ownership.js'
import { presentSchedule, presentScheduleRun } from '../present.js'
import { LIST_LIMIT_DEFAULT, decimal, errorResponses, idempotencyHeader, listLimit, scheduleParams, uuid, walletParams } from '../schemas/common.js'
import { Schedule, ScheduleRun } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'

/* The shapes here are checked first; the schedule runtime then checks every rule (weights sum to 1, cron, zone, markets). */
const spec = {
  targets: z.record(z.string(), decimal).describe('asset → target weight, e.g. {"ETH": "0.5", "USD": "0.5"}; weights sum to 1'),
  cron: z.string().min(1, 'must be a cron expression').describe('5 fields, or 6 with seconds first'),
  timeZone: z.string().min(1, 'must be an IANA time zone').describe('IANA zone, e.g. "Europe/Paris"'),
  toleranceBand: decimal.describe('weight drift tolerated before an asset trades, in [0, 1)'),
  minTradeNotional: decimal.describe('smallest leg worth placing, quote units'),
  limitOffsetBps: z.number().int('must be an integer').min(0, 'must be at least 0').max(1000, 'must be at most 1000'),
}
const CreateSchedule = z.strictObject({ ...spec, maxNotionalPerRun: decimal.optional() })
const UpdateSchedule = z.strictObject({
  ...Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof spec]: z.ZodOptional<(typeof spec)[K]> },
  maxNotionalPerRun: decimal.nullable().optional().describe('null removes the cap'),
  expectedVersion: z.number().int('must be an integer').min(1, 'must be at least 1').optional().describe('refuse the edit unless the schedule is still at this version'),
})

/** Pause and delete cancel the schedule's working orders unless told `cancelOpenOrders=false`. */
const cancelOpenOrdersQuery = z.strictObject({ cancelOpenOrders: z.enum(['true', 'false']).optional().describe('default true') })

export const scheduleRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  // A cron's timing is stepped through a year of slots (0.1–1 s the first time): on a thread of its
  // own, so the API's other requests are answered meanwhile.
  const timing = startTimingChecker()
  app.addHook('onClose', () => timing.close())
  const ctx: ScheduleContext = {
    db, queue: deps.controlQueue, markets: deps.markets, now: deps.runtime.now, log: deps.runtime.log,
    minIntervalSeconds: deps.scheduleMinIntervalSeconds ?? DEFAULT_SCHEDULE_MIN_INTERVAL_SECONDS, timing,
  }
  // A create or an edit checks its timing on that one thread as its tenant's (a few at once at most).
  const checksOf = tenantTimingChecks(timing)
  const checkingAs = (tenantId: string): ScheduleContext => ({ ...ctx, timing: checksOf(tenantId) })
  const tags = ['schedules']
  const withSchedule = { 200: Schedule, ...errorResponses }

  app.post('/wallets/:walletId/schedules', {
    schema: {
      summary: 'Create a rebalancing schedule (cron + time zone, target weights); one active schedule per wallet', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams, body: CreateSchedule, response: { 201: Schedule, ...errorResponses },
    },
  }, async (request, reply) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    // Under an Idempotency-Key the schedule takes the key's action id: a retry after a lost answer finds it.
    // The tenant is checked again in the schedule's transaction: the wallet may have been retired since (a takeover by proof of ownership).
    const row = await createSchedule(checkingAs(tenantOf(request)), { ...request.body, walletId: wallet.id, tenantId: tenantOf(request), ...(request.idempotencyClaim ? { id: request.idempotencyClaim.actionId } : {}) })
    return reply.code(201).send(presentSchedule(row))
  })

  app.get('/schedules', {
    schema: {
      summary: "The tenant's schedules, oldest first", tags, security: tenantSecurity,
      querystring: z.strictObject({
        walletId: uuid.optional(), status: z.enum(scheduleStatuses).optional().describe('default active and paused'), limit: listLimit,
        after: uuid.optional().describe('only schedules created after this one (the last of the previous page)'),
      }),
      response: { 200: z.object({ schedules: z.array(Schedule) }), ...errorResponses },
    },
  }, async (request) => {
    const tenantId = tenantOf(request)
    const conditions: SQL[] = [eq(wallets.tenantId, tenantId), inArray(schedules.status, request.query.status ? [request.query.status] : ['active', 'paused'])]
    if (request.query.walletId) conditions.push(eq(schedules.walletId, (await ownedWallet(db, tenantId, request.query.walletId)).id))
    if (request.query.after) {
      const { schedule: after } = await ownedSchedule(db, tenantId, request.query.after, 'after')
      conditions.push(sql`(${schedules.createdAt}, ${schedules.id}) > (select created_at, id from schedules where id = ${after.id})`)
    }
    const rows = await db.select({ schedule: schedules }).from(schedules).innerJoin(wallets, eq(wallets.id, schedules.walletId))
      .where(and(...conditions)).orderBy(asc(schedules.createdAt), asc(schedules.id)).limit(request.query.limit ?? LIST_LIMIT_DEFAULT)
    return { schedules: rows.map((row) => presentSchedule(row.schedule)) }
  })

  app.get('/schedules/:scheduleId', {
    schema: { summary: 'One schedule', tags, security: tenantSecurity, params: scheduleParams, response: withSchedule },
  }, async (request) => presentSchedule((await ownedSchedule(db, tenantOf(request), request.params.scheduleId)).schedule))

  app.patch('/schedules/:scheduleId', {
    schema: {
      summary: 'Edit a schedule (fields given replace the stored ones; the whole spec is validated again; an edit that changes nothing keeps the version)', tags, security: tenantSecurity,
      params: scheduleParams, body: UpdateSchedule, response: withSchedule,
    },
  }, async (request) => {
    const { schedule } = await ownedSchedule(db, tenantOf(request), request.params.scheduleId)
    const { expectedVersion, ...patch } = request.body
    return presentSchedule(await updateSchedule(checkingAs(tenantOf(request)), schedule.id, patch, { expectedVersion }))
  })

  app.post('/schedules/:scheduleId/pause', {
    schema: {
      summary: 'Pause a schedule (its job scheduler is removed) and, by default, cancel its working orders; answers the schedule and the orders cancelled', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: scheduleParams, body: z.strictObject({}).optional(), querystring: cancelOpenOrdersQuery,
      response: { 200: Schedule.extend({ cancelledOrderIds: z.array(z.string()).describe('the working orders whose cancel this pause queued') }), ...errorResponses },
    },
  }, async (request) => {
    const { schedule } = await ownedSchedule(db, tenantOf(request), request.params.scheduleId)
    const result = await pauseSchedule(ctx, schedule.id, { cancelOpenOrders: request.query.cancelOpenOrders !== 'false' })
    await deps.relay?.()
    // The schedule as before, so a client reading the paused schedule reads the same shape.
    return { ...presentSchedule(result.schedule), cancelledOrderIds: result.cancelledOrderIds }
  })

  app.post('/schedules/:scheduleId/resume', {
    schema: { summary: 'Resume a paused schedule from its next slot (refused while another schedule of its wallet is active)', tags, security: tenantSecurity, headers: idempotencyHeader, params: scheduleParams, body: z.strictObject({}).optional(), response: withSchedule },
  }, async (request) => presentSchedule(await resumeSchedule(ctx, (await ownedSchedule(db, tenantOf(request), request.params.scheduleId)).schedule.id)))

  app.delete('/schedules/:scheduleId', {
    schema: {
      summary: 'Delete a schedule (kept for the audit trail) and, by default, cancel its working orders', tags, security: tenantSecurity, params: scheduleParams,
      querystring: cancelOpenOrdersQuery,
      response: { 200: z.object({ schedule: Schedule, cancelledOrderIds: z.array(z.string()) }), ...errorResponses },
    },
  }, async (request) => {
    const { schedule } = await ownedSchedule(db, tenantOf(request), request.params.scheduleId)
    const result = await deleteSchedule(ctx, schedule.id, { cancelOpenOrders: request.query.cancelOpenOrders !== 'false' })
    await deps.relay?.()
    return { schedule: presentSchedule(result.schedule), cancelledOrderIds: result.cancelledOrderIds }
  })

  app.get('/schedules/:scheduleId/runs', {
    schema: {
      summary: "A schedule's run log, latest slot first", tags, security: tenantSecurity, params: scheduleParams,
      querystring: z.strictObject({
        limit: listLimit,
        beforeSlot: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time' })
          .refine((value) => new Date(value).getUTCFullYear() >= 1, 'must be a time from year 1 on').optional(),
      }),
      response: { 200: z.object({ runs: z.array(ScheduleRun) }), ...errorResponses },
    },
  }, async (request) => {
    const { schedule } = await ownedSchedule(db, tenantOf(request), request.params.scheduleId)
    // The default every list answers (listLimit's description): listScheduleRuns' own is 50.
    const runs = await listScheduleRuns(db, { scheduleId: schedule.id, limit: request.query.limit ?? LIST_LIMIT_DEFAULT, beforeSlot: request.query.beforeSlot ? new Date(request.query.beforeSlot) : undefined })
    return { runs: runs.map(presentScheduleRun) }
  })
}
