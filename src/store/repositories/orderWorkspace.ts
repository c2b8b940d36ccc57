import { and, asc, eq, inArray } from 'drizzle-orm'
import { parseAmount } from '../../core/money/decimal.js'
import { type OrderSnapshot, type OrderUpdate, applyOrderUpdate } from '../../core/orders/applyOrderUpdate.js'
import type { Db } from '../Database.js'
import { type OrderRow, fills, orders } from '../schema/index.js'
import { toSnapshot } from './orderSnapshot.js'
import type { FillInput } from './recordFill.js'
import { writeOrderSnapshots } from './writeOrderSnapshots.js'

/** A fill as the order state machine counts it. */
export function fillUpdate(fill: Pick<FillInput, 'price' | 'size' | 'fee'>): OrderUpdate {
  return { kind: 'fill', price: parseAmount('price', fill.price), size: parseAmount('size', fill.size), fee: parseAmount('fee', fill.fee) }
}

type Entry = { row: OrderRow; snapshot: OrderSnapshot; dirty: boolean }

/**
 * One transaction's working copy of a wallet's orders, for applying a run of
 * events: the orders are read and row-locked together (`FOR UPDATE`, in id
 * order), changed in memory by the state machine, and written back in one
 * statement by `flush`. The effect is `mutateOrder` event by event, in a few
 * statements per run instead of several per event; `recordFill` is it for one fill.
 */
export function orderWorkspace(tx: Db, walletId: string) {
  const byCloid = new Map<string, Entry | null>()
  /** Fill ids inserted ahead by `insertFills`: new (true) or seen before (false). */
  const inserted = new Map<string, boolean>()

  async function load(cloids: readonly string[]): Promise<void> {
    const wanted = [...new Set(cloids.map((c) => c.toLowerCase()))].filter((c) => !byCloid.has(c))
    if (wanted.length === 0) return
    const rows = await tx.select().from(orders)
      .where(and(eq(orders.walletId, walletId), inArray(orders.clientOrderId, wanted))).orderBy(asc(orders.id)).for('update')
    for (const cloid of wanted) byCloid.set(cloid, null)
    for (const row of rows) byCloid.set(row.clientOrderId, { row, snapshot: toSnapshot(row), dirty: false })
  }

  async function apply(cloid: string, updates: readonly OrderUpdate[]): Promise<void> {
    await load([cloid])
    const entry = byCloid.get(cloid.toLowerCase())
    if (!entry) return
    const after = updates.reduce(applyOrderUpdate, entry.snapshot)
    if (after === entry.snapshot) return
    entry.snapshot = after
    entry.dirty = true
  }

  async function insert(batch: readonly FillInput[]): Promise<Set<string>> {
    if (batch.length === 0) return new Set()
    await load(batch.map((fill) => fill.clientOrderId))
    const rows = await tx.insert(fills).values(batch.map((fill) => {
      const clientOrderId = fill.clientOrderId.toLowerCase()
      return { ...fill, clientOrderId, orderId: byCloid.get(clientOrderId)?.row.id ?? null }
    })).onConflictDoNothing().returning({ fillId: fills.fillId })
    return new Set(rows.map((row) => row.fillId))
  }

  return {
    load,
    apply,
    /** Records several fills in one statement ahead of `fill`, which then only counts the new ones. */
    async insertFills(batch: readonly FillInput[]): Promise<void> {
      const fresh = await insert(batch)
      for (const fill of batch) inserted.set(fill.fillId, fresh.has(fill.fillId))
    },
    /** `recordFill`: the fill is recorded once (its fill id is the key), and counted on its order only when new. */
    async fill(fill: FillInput): Promise<boolean> {
      const isNew = inserted.get(fill.fillId) ?? (await insert([fill])).has(fill.fillId)
      inserted.set(fill.fillId, false)
      if (isNew) await apply(fill.clientOrderId, [fillUpdate(fill)])
      return isNew
    },
    /** Writes the changed orders back; the workspace stays usable. */
    async flush(): Promise<void> {
      const dirty = [...byCloid.values()].filter((entry): entry is Entry => !!entry?.dirty)
      await writeOrderSnapshots(tx, dirty.map((entry) => ({ id: entry.row.id, snapshot: entry.snapshot })))
      for (const entry of dirty) entry.dirty = false
    },
    /** Drops an order changed behind the workspace's back (flush first); it is read again when next needed. */
    forget(cloid: string): void {
      byCloid.delete(cloid.toLowerCase())
    },
  }
}
export type OrderWorkspace = ReturnType<typeof orderWorkspace>
