import { and, asc, desc, eq, inArray, isNull, not, sql } from 'drizzle-orm'
import type { FastifyBaseLogger } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { intents, orders, outbox, schedules, sessions, wallets } from '../../store/schema/index.js'
import { outboxOrderEnded } from '../../store/repositories/outboxRepo.js'
import { tenantOf } from '../auth/authenticate.js'
import { presentOrder, presentSchedule, presentSession } from '../present.js'
import { presentWallets } from '../presentWallets.js'
import { queueHealth } from '../queueHealth.js'
import { errorResponses } from '../schemas/common.js'
import { Order, Schedule, Session, Wallet } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'
import { workingOrderStates } from './orders.js'
import { DeadlineError } from '../../runtime/withinDeadline.js'

const QueuePaused = z.object({ paused: z.boolean() })
const Work = z.object({
  queued: z.number().int().describe('placements, modifies and cancels waiting to go out or on their way (an order\'s good-till cancel while the order works)'),
  held: z.number().int().describe('work held until a wallet has a session'),
  failed: z.number().int().describe('work refused for good (see GET /v1/work/{outboxId})'),
}).describe("your wallets' queued work; the deployment's job counts are the operator's (/metrics, Bull Board)")
const Status = z.object({
  wallets: z.array(Wallet).describe('the first 200 (GET /v1/wallets pages through all)'),
  sessions: z.array(Session).describe('live sessions (active, rotating, pending, delegated, quarantined), the 200 expiring first'),
  workingOrders: z.array(Order).describe('orders not yet filled, cancelled or rejected (the newest 200)'),
  schedules: z.array(Schedule).describe('active and paused, the first 200 (GET /v1/schedules pages through all)'),
  work: Work,
  queues: z.record(z.string(), QueuePaused).nullable().describe('whether each queue is paused (every tenant waits then); null when Redis does not answer in time (see queuesUnavailable)'),
  queuesUnavailable: z.string().optional().describe('why queues is null, e.g. "Redis: no answer within 2000 ms"'),
}).meta({ id: 'Status' })

/**
 * A good-till cancel not yet due whose order has ended for good (filled, rejected, or cancelled for a
 * known reason and not placed again): it will never go out (when its time comes it finds the order
 * ended), so it is not queued work, though it stays queued until then (a good-till in 9999, forever).
 */
const goodTillCancelOfEndedOrder = sql`(${outbox.kind} = 'CancelOrder' and ${outbox.availableAt} > now() and ${outboxOrderEnded})`

/** Each list of the status view shows at most this many rows (the lists' own routes page through all). */
const STATUS_LIST_LIMIT = 200

/**
 * Why a tenant sees no queues: Redis's silence as such; any other failure in words of ours, its own
 * text (a host and port, an ACL or auth refusal naming the deployment's Redis) only in the API's log.
 */
function queuesUnavailable(error: unknown, log: FastifyBaseLogger): string {
  if (error instanceof DeadlineError) return `Redis: ${error.message}`
  log.warn({ err: error }, 'GET /v1/status: the queues could not be read from Redis')
  return 'Redis: failed (the API log says why)'
}

export const statusRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  app.get('/status', {
    schema: { summary: 'One view of your wallets: sessions, working orders, schedules, queued work, whether the queues are paused', tags: ['operations'], security: tenantSecurity, response: { 200: Status, ...errorResponses } },
  }, async (request) => {
    const tenantId = tenantOf(request)
    // A retired wallet (its address registered anew for its owner's tenant) is out of sight here too:
    // not listed, and its work (failed before the takeover) not counted.
    const mine = and(eq(wallets.tenantId, tenantId), isNull(wallets.retiredAt))
    const [walletRows, sessionRows, orderRows, scheduleRows, workRows, queues] = await Promise.all([
      db.select().from(wallets).where(mine).orderBy(asc(wallets.createdAt), asc(wallets.id)).limit(STATUS_LIST_LIMIT),
      db.select({ session: sessions }).from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId))
        .where(and(mine, inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating', 'quarantined']))).orderBy(asc(sessions.expiry)).limit(STATUS_LIST_LIMIT),
      db.select({ order: orders, clientRef: intents.clientRef, scheduleId: intents.scheduleId }).from(orders).innerJoin(wallets, eq(wallets.id, orders.walletId))
        .leftJoin(intents, eq(intents.id, orders.intentId)).where(and(mine, inArray(orders.state, [...workingOrderStates]))).orderBy(desc(orders.createdAt)).limit(STATUS_LIST_LIMIT),
      db.select({ schedule: schedules }).from(schedules).innerJoin(wallets, eq(wallets.id, schedules.walletId))
        .where(and(mine, inArray(schedules.status, ['active', 'paused']))).orderBy(asc(schedules.createdAt), asc(schedules.id)).limit(STATUS_LIST_LIMIT),
      db.select({ status: outbox.status, count: sql<number>`count(*)::int` }).from(outbox).innerJoin(wallets, eq(wallets.id, outbox.walletId))
        .where(and(mine, inArray(outbox.status, ['pending', 'enqueued', 'held', 'failed']), not(goodTillCancelOfEndedOrder))).groupBy(outbox.status),
      // The rest of the view still answers while Redis is down. Job counts are the deployment's,
      // every tenant's work together: not shown to a tenant (they told one tenant when another traded).
      queueHealth([deps.submitQueue, deps.controlQueue]).then(
        (health) => ({ queues: Object.fromEntries(Object.entries(health).map(([name, queue]) => [name, { paused: queue.paused }])) }),
        (error: unknown) => ({ queues: null, queuesUnavailable: queuesUnavailable(error, request.log) }),
      ),
    ])
    const operatorNow = deps.runtime.operatorNow()
    return {
      wallets: await presentWallets(deps, walletRows),
      sessions: sessionRows.map((row) => presentSession(row.session, operatorNow)),
      workingOrders: orderRows.map((row) => presentOrder(row.order, row)),
      schedules: scheduleRows.map((row) => presentSchedule(row.schedule)),
      work: {
        queued: workRows.filter((row) => row.status === 'pending' || row.status === 'enqueued').reduce((sum, row) => sum + row.count, 0),
        held: workRows.find((row) => row.status === 'held')?.count ?? 0,
        failed: workRows.find((row) => row.status === 'failed')?.count ?? 0,
      },
      ...queues,
    }
  })
}
