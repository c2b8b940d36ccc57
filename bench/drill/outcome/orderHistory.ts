import { and, asc, eq } from 'drizzle-orm'
import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import type { Db } from '../../../src/store/Database.js'
import { type OrderRow, events, outbox, requests } from '../../../src/store/schema/index.js'

/** One order as each side recorded it: the operator's events, Postgres's requests, stored events and outbox rows. */
export async function orderHistory(db: Db, sandbox: Sandbox, order: OrderRow, walletKey: string): Promise<string> {
  const cloid = order.clientOrderId.toLowerCase()
  const wallet = [...sandbox.state.wallets.values()].find((w) => w.key === walletKey)
  const operatorEvents = (wallet?.events.since(0) ?? []).filter((e) => e.clientOrderId?.toLowerCase() === cloid)
  const sent = await db.select().from(requests).where(eq(requests.orderId, order.id)).orderBy(asc(requests.createdAt))
  const stored = await db.select().from(events).where(and(eq(events.walletId, order.walletId), eq(events.clientOrderId, cloid))).orderBy(asc(events.seq))
  const rows = await db.select().from(outbox).where(eq(outbox.orderId, order.id)).orderBy(asc(outbox.seq))
  const fieldsOf = (data: Record<string, unknown> | undefined) => ['revision', 'price', 'size', 'remaining', 'reason'].filter((k) => data?.[k] !== undefined).map((k) => `${k} ${String(data![k])}`).join(' ')
  const lines = [
    `order ${order.id} ${cloid}: Postgres ${order.state} price ${order.price} size ${order.size} filled ${order.filled} revision ${order.venueRevision}, updated ${order.updatedAt.toISOString()}`,
    ...operatorEvents.map((e) => `  operator seq ${e.seq} ${new Date(e.at).toISOString()} ${e.type} ${fieldsOf(e.data)}`),
    ...stored.map((e) => `  stored   seq ${e.seq} ${e.type} ${fieldsOf((e.payload as { data?: Record<string, unknown> }).data)}`),
    ...rows.map((r) => `  outbox ${r.kind} ${r.id} seq ${r.seq} ${r.status} ${JSON.stringify(r.payload)} created ${r.createdAt.toISOString()} updated ${r.updatedAt.toISOString()}${r.lastError ? ` ${r.lastError}` : ''}`),
    ...sent.map((r) => {
      const message = (JSON.parse(r.body) as { message: Record<string, string> }).message
      return `  request ${r.family} ${r.status}${r.duplicate ? ' (duplicate)' : ''} ${r.createdAt.toISOString()}→${r.completedAt?.toISOString() ?? '-'} price ${message.price ?? '-'} size ${message.size ?? '-'} nonce ${String(r.nonce)}${r.errorCode ? ` ${r.errorCode}` : ''}`
    }),
  ]
  return lines.join('\n')
}
