import { and, asc, desc, eq, inArray } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { intents, orders, schedules, sessions, wallets } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { presentOrder, presentSchedule, presentSession } from '../present.js'
import { presentWallets } from '../presentWallets.js'
import { queueHealth, queueStates } from '../queueHealth.js'
import { errorResponses } from '../schemas/common.js'
import { Order, Schedule, Session, Wallet } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'
import { workingOrderStates } from './orders.js'

const QueueHealth = z.object({ paused: z.boolean(), counts: z.object(Object.fromEntries(queueStates.map((s) => [s, z.number().int()]))) })
const Status = z.object({
  wallets: z.array(Wallet),
  sessions: z.array(Session).describe('live sessions (active, rotating, pending, delegated, quarantined)'),
  workingOrders: z.array(Order).describe('orders not yet filled, cancelled or rejected (at most 200)'),
  schedules: z.array(Schedule),
  queues: z.record(z.string(), QueueHealth).nullable().describe('job counts per queue; null when Redis does not answer in time (see queuesUnavailable)'),
  queuesUnavailable: z.string().optional().describe('why queues is null, e.g. "Redis: no answer within 2000 ms"'),
}).meta({ id: 'Status' })

export const statusRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  app.get('/status', {
    schema: { summary: 'One view for operators: sessions, working orders, schedules, queue health', tags: ['operations'], security: tenantSecurity, response: { 200: Status, ...errorResponses } },
  }, async (request) => {
    const tenantId = tenantOf(request)
    const mine = eq(wallets.tenantId, tenantId)
    const [walletRows, sessionRows, orderRows, scheduleRows, queues] = await Promise.all([
      db.select().from(wallets).where(mine).orderBy(asc(wallets.createdAt)),
      db.select({ session: sessions }).from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId))
        .where(and(mine, inArray(sessions.status, ['pending', 'delegated', 'active', 'rotating', 'quarantined']))).orderBy(asc(sessions.expiry)),
      db.select({ order: orders, clientRef: intents.clientRef, scheduleId: intents.scheduleId }).from(orders).innerJoin(wallets, eq(wallets.id, orders.walletId))
        .leftJoin(intents, eq(intents.id, orders.intentId)).where(and(mine, inArray(orders.state, [...workingOrderStates]))).orderBy(desc(orders.createdAt)).limit(200),
      db.select({ schedule: schedules }).from(schedules).innerJoin(wallets, eq(wallets.id, schedules.walletId))
        .where(and(mine, inArray(schedules.status, ['active', 'paused']))).orderBy(asc(schedules.createdAt)),
      // The rest of the view still answers while Redis is down.
      queueHealth([deps.submitQueue, deps.controlQueue]).then(
        (health) => ({ queues: health }),
        (error: unknown) => ({ queues: null, queuesUnavailable: `Redis: ${error instanceof Error ? error.message : String(error)}` }),
      ),
    ])
    const operatorNow = deps.runtime.operatorNow()
    return {
      wallets: await presentWallets(deps, walletRows),
      sessions: sessionRows.map((row) => presentSession(row.session, operatorNow)),
      workingOrders: orderRows.map((row) => presentOrder(row.order, row)),
      schedules: scheduleRows.map((row) => presentSchedule(row.schedule)),
      ...queues,
    }
  })
}
