import { sql } from 'drizzle-orm'
import { parseAmount, parseSignedAmount } from '../../core/money/decimal.js'
import { type OrderSnapshot, type OrderUpdate, applyOrderUpdate } from '../../core/orders/applyOrderUpdate.js'
import { uncountableFill } from '../../core/orders/uncountableFill.js'
import type { Db } from '../Database.js'
import { type LockedOrder, lockOrdersByKey } from './lockOrders.js'
import { toSnapshot } from './orderSnapshot.js'
import type { FillInput } from './recordFill.js'
import { type OrderSnapshotRow, writeOrderSnapshots } from './writeOrderSnapshots.js'
import { namedStatement } from '../namedStatement.js'

/** A fill as the order state machine counts it (its fee below zero for a maker rebate). */
export function fillUpdate(fill: Pick<FillInput, 'price' | 'size' | 'fee'>): Extract<OrderUpdate, { kind: 'fill' }> {
  return { kind: 'fill', price: parseAmount('price', fill.price), size: parseAmount('size', fill.size), fee: parseSignedAmount('fee', fill.fee) }
}

/**
 * What became of a fill handed to `fill`: new and counted on its order (or stored unlinked, its
 * order not known yet), recorded before, or not stored at all because counting it would take one of
 * its order's totals past what is stored (`uncountableFill`, which says why).
 */
export type FillOutcome = 'counted' | 'seen' | { uncountable: string }

/** An order as events name it: the wallet and the client order id. */
export type OrderKey = { walletId: string; clientOrderId: string }

type Entry = { row: LockedOrder; snapshot: OrderSnapshot; dirty: boolean }

const keyOf = (walletId: string, clientOrderId: string) => `${walletId}:${clientOrderId.toLowerCase()}`
/** A fill id is the operator's opaque string, unique per wallet as it is (the table's key): never case-folded. */
const fillKeyOf = (walletId: string, fillId: string) => `${walletId}:${fillId}`

/**
 * One transaction's working copy of orders, for applying runs of events (of
 * one wallet or several): the orders are read and row-locked together (`FOR
 * UPDATE`, in id order), changed in memory by the state machine, and written
 * back in one statement by `flush`. The effect is `mutateOrder` event by event,
 * in a few statements per run instead of several per event; `recordFill` is it
 * for one fill.
 */
export function orderWorkspace(tx: Db) {
  const byKey = new Map<string, Entry | null>()
  /** Fill ids inserted ahead by `insertFills`: new (true) or seen before (false). */
  const inserted = new Map<string, boolean>()

  async function load(wanted: readonly OrderKey[]): Promise<void> {
    const missing = new Map<string, OrderKey>()
    for (const { walletId, clientOrderId } of wanted) {
      const key = keyOf(walletId, clientOrderId)
      if (!byKey.has(key)) missing.set(key, { walletId, clientOrderId: clientOrderId.toLowerCase() })
    }
    if (missing.size === 0) return
    const keys = [...missing.values()]
    const rows = await lockOrdersByKey(tx, keys)
    for (const key of missing.keys()) byKey.set(key, null)
    for (const row of rows) byKey.set(keyOf(row.walletId, row.clientOrderId), { row, snapshot: toSnapshot(row), dirty: false })
  }

  async function apply(walletId: string, clientOrderId: string, updates: readonly OrderUpdate[]): Promise<void> {
    await load([{ walletId, clientOrderId }])
    const entry = byKey.get(keyOf(walletId, clientOrderId))
    if (!entry) return
    const after = updates.reduce(applyOrderUpdate, entry.snapshot)
    if (after === entry.snapshot) return
    entry.snapshot = after
    entry.dirty = true
  }

  async function insert(batch: readonly FillInput[]): Promise<Set<string>> {
    if (batch.length === 0) return new Set()
    await load(batch)
    const values = batch.map((fill) => {
      const clientOrderId = fill.clientOrderId.toLowerCase()
      return { ...fill, clientOrderId, orderId: byKey.get(keyOf(fill.walletId, clientOrderId))?.row.id ?? null }
    })
    const { rows } = await insertFillRows(tx, { fills: JSON.stringify(values) })
    return new Set(rows.map((row) => fillKeyOf(row.wallet_id, row.fill_id)))
  }

  /** The orders changed since they were last written back, and their rows to write (`flush`, `takeWriteBack`). */
  const dirtyEntries = () => [...byKey.values()].filter((entry): entry is Entry => !!entry?.dirty)
  const snapshotRows = (dirty: readonly Entry[]) => dirty.map((entry) => ({ id: entry.row.id, snapshot: entry.snapshot }))

  return {
    load,
    apply,
    /** Records several fills (of any wallets) in one statement ahead of `fill`, which then only counts the new ones. */
    async insertFills(batch: readonly FillInput[]): Promise<void> {
      const fresh = await insert(batch)
      for (const fill of batch) {
        const key = fillKeyOf(fill.walletId, fill.fillId)
        inserted.set(key, fresh.has(key))
      }
    },
    /**
     * `recordFill`: the fill is recorded once (its fill id is the key), and counted on its order only
     * when new. One its order cannot count (`uncountableFill`) is removed again: a fill is stored
     * counted or not at all, and the caller passes it over with an alert.
     */
    async fill(fill: FillInput): Promise<FillOutcome> {
      const key = fillKeyOf(fill.walletId, fill.fillId)
      const isNew = inserted.get(key) ?? (await insert([fill])).has(key)
      inserted.set(key, false)
      if (!isNew) return 'seen'
      const update = fillUpdate(fill)
      await load([fill])
      const entry = byKey.get(keyOf(fill.walletId, fill.clientOrderId))
      const problem = entry ? uncountableFill(entry.snapshot, update) : undefined
      if (problem) {
        await tx.execute(sql`delete from fills where wallet_id = ${fill.walletId} and fill_id = ${fill.fillId}`)
        return { uncountable: problem }
      }
      await apply(fill.walletId, fill.clientOrderId, [update])
      return 'counted'
    },
    /** Writes the changed orders back; the workspace stays usable. */
    async flush(): Promise<void> {
      const dirty = dirtyEntries()
      await writeOrderSnapshots(tx, snapshotRows(dirty))
      for (const entry of dirty) entry.dirty = false
    },
    /**
     * `flush` for a caller that writes the changed orders back in a statement of its own (a
     * writable CTE beside its other writes, `orderSnapshotsUpdate`): the rows to write, empty when
     * none changed. They count as written; the caller's statement must run before the workspace is used again.
     */
    takeWriteBack(): OrderSnapshotRow[] {
      const dirty = dirtyEntries()
      for (const entry of dirty) entry.dirty = false
      return snapshotRows(dirty)
    },
    /** Drops an order changed behind the workspace's back (flush first); it is read again when next needed. */
    forget(walletId: string, clientOrderId: string): void {
      byKey.delete(keyOf(walletId, clientOrderId))
    },
  }
}
export type OrderWorkspace = ReturnType<typeof orderWorkspace>

// One JSON parameter rather than drizzle's multi-row insert, whose building cost more than the statement.
// A fill's market and side are its order's when the order is known (an OrderFilled event need not carry them).
const insertFillRows = namedStatement<{ wallet_id: string; fill_id: string }, { fills: string }>('deputy_insert_fills', () => sql`
  insert into fills (wallet_id, order_id, fill_id, client_order_id, market, side, price, size, fee, seq, at)
  select v."walletId", v."orderId", v."fillId", v."clientOrderId", coalesce(o.market, v.market), coalesce(o.side, v.side), v.price, v.size, v.fee, v.seq, v.at
  from jsonb_to_recordset(${sql.placeholder('fills')}::jsonb) as v(
    "walletId" uuid, "orderId" uuid, "fillId" text, "clientOrderId" text, market text, side smallint, price numeric, size numeric, fee numeric, seq bigint, at timestamptz)
  left join orders o on o.id = v."orderId"
  on conflict do nothing
  returning wallet_id, fill_id`)
