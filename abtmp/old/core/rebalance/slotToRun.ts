import { ValidationError } from '../errors/ValidationError.js'

export type SlotToRunParameters = {
  /** The slot (unix ms) the schedule last ran for, or null if it never ran. */
  lastRunSlot: number | null
  /**
   * Slot times (unix ms) that are due: the ones BullMQ delivered, or `dueSlots`
   * for (last slot, now]. Any order; duplicates collapse.
   */
  dueSlots: readonly number[]
}

export type SlotToRunResult =
  | {
      run: true
      /** The slot to run for: the latest due one. It names the run in idempotency keys. */
      slot: number
      /** How many earlier due slots this run stands in for (0 when on time). */
      coalesced: number
      /** Those earlier slots, ascending, for the run log. */
      coalescedSlots: number[]
      reason: 'due' | 'coalesced'
      detail: string
    }
  | { run: false; slot: null; coalesced: 0; coalescedSlots: []; reason: 'nothingDue' | 'alreadyRan'; detail: string }

function checkSlot(field: string, slot: number): void {
  if (!Number.isSafeInteger(slot) || slot < 0) throw new ValidationError(field, 'must be a non-negative integer of unix milliseconds')
}

const iso = (slot: number): string => new Date(slot).toISOString()

/**
 * Decides the one slot to run after slots were missed (downtime, a stalled
 * queue): a rebalance reads the portfolio as it is now, so running every missed
 * slot would only repeat the same trades. The latest due slot newer than the last
 * run wins; older ones are coalesced into it; a slot at or before the last run
 * (a redelivered or late job) does not run again. Pure.
 */
export function slotToRun({ lastRunSlot, dueSlots }: SlotToRunParameters): SlotToRunResult {
  if (lastRunSlot !== null) checkSlot('lastRunSlot', lastRunSlot)
  dueSlots.forEach((slot, i) => checkSlot(`dueSlots[${i}]`, slot))
  const pending = [...new Set(dueSlots)].filter((slot) => lastRunSlot === null || slot > lastRunSlot).sort((a, b) => a - b)
  const slot = pending.at(-1)
  if (slot === undefined) {
    return dueSlots.length === 0
      ? { run: false, slot: null, coalesced: 0, coalescedSlots: [], reason: 'nothingDue', detail: 'no slot is due' }
      : {
          run: false,
          slot: null,
          coalesced: 0,
          coalescedSlots: [],
          reason: 'alreadyRan',
          detail: `every due slot is at or before the last run ${iso(lastRunSlot ?? 0)}`,
        }
  }
  const coalescedSlots = pending.slice(0, -1)
  if (coalescedSlots.length === 0) return { run: true, slot, coalesced: 0, coalescedSlots, reason: 'due', detail: `slot ${iso(slot)}` }
  const n = coalescedSlots.length
  return {
    run: true,
    slot,
    coalesced: n,
    coalescedSlots,
    reason: 'coalesced',
    detail: `slot ${iso(slot)} runs once for ${n + 1} due slots (${n} missed since ${iso(coalescedSlots[0] ?? slot)} coalesced)`,
  }
}
