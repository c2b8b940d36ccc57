import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../src/store/Database.js'
import { orders, outbox, sessions, streamCursors } from '../../src/store/schema/index.js'
import type { DrillWallet } from './environment.js'
import { sleep } from './workerProcess.js'

export type Backlog = {
  /** Outbox rows not yet answered (pending or enqueued) and rows held for a session. */
  outbox: number
  held: number
  /** Orders not yet acknowledged by the operator (pending, submitting, unknown). */
  unresolved: number
  /** Events the operator has that Postgres has not stored yet, over all wallets. */
  eventsBehind: number
  /** Rotated-out sessions not yet revoked at the operator (session maintenance does it after the grace): their open orders are still to be cancelled and placed again. */
  rotating: number
}

/** What is still in flight: zero everywhere means the worker has nothing left to do. */
export async function backlog(db: Db, wallets: DrillWallet[], operatorHead: (address: string) => number): Promise<Backlog> {
  const ids = wallets.map((w) => w.walletId)
  const [pending] = await db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(and(inArray(outbox.walletId, ids), inArray(outbox.status, ['pending', 'enqueued'])))
  const [held] = await db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(and(inArray(outbox.walletId, ids), inArray(outbox.status, ['held'])))
  const [unresolved] = await db.select({ n: sql<number>`count(*)::int` }).from(orders).where(and(inArray(orders.walletId, ids), inArray(orders.state, ['pending', 'submitting', 'unknown'])))
  const [rotating] = await db.select({ n: sql<number>`count(*)::int` }).from(sessions).where(and(inArray(sessions.walletId, ids), eq(sessions.status, 'rotating')))
  const cursors = new Map((await db.select().from(streamCursors).where(inArray(streamCursors.walletId, ids))).map((c) => [c.walletId, c.lastSeq]))
  let eventsBehind = 0
  for (const wallet of wallets) eventsBehind += Math.max(0, operatorHead(wallet.address) - Number(cursors.get(wallet.walletId) ?? 0))
  return { outbox: pending!.n, held: held!.n, unresolved: unresolved!.n, eventsBehind, rotating: rotating!.n }
}

export const settled = (b: Backlog) => b.outbox === 0 && b.held === 0 && b.unresolved === 0 && b.eventsBehind === 0 && b.rotating === 0

/**
 * Waits until the backlog is empty on two polls in a row, or `timeoutMs` passes.
 * Answers the last backlog seen and how long it took.
 */
export async function waitForQuiescence(probe: () => Promise<Backlog>, timeoutMs: number, onProgress?: (b: Backlog) => void): Promise<{ backlog: Backlog; settled: boolean; ms: number }> {
  const started = Date.now()
  let quietPolls = 0
  let lastReport = 0
  for (;;) {
    const current = await probe()
    quietPolls = settled(current) ? quietPolls + 1 : 0
    if (quietPolls >= 2) return { backlog: current, settled: true, ms: Date.now() - started }
    if (Date.now() - started > timeoutMs) return { backlog: current, settled: false, ms: Date.now() - started }
    if (onProgress && Date.now() - lastReport > 5_000) { lastReport = Date.now(); onProgress(current) }
    await sleep(250)
  }
}
