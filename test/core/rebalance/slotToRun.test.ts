import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/core/errors/ValidationError.js'
import { slotToRun } from '../../../src/core/rebalance/slotToRun.js'

const hour = 3_600_000
const t0 = Date.UTC(2024, 0, 1, 9, 0, 0)

describe('slotToRun', () => {
  it('runs a single due slot on time', () => {
    expect(slotToRun({ lastRunSlot: t0 - hour, dueSlots: [t0] })).toEqual({
      run: true,
      slot: t0,
      coalesced: 0,
      coalescedSlots: [],
      reason: 'due',
      detail: 'slot 2024-01-01T09:00:00.000Z',
    })
  })

  it('runs missed slots once, for the latest, and counts the rest as coalesced', () => {
    const due = [t0 + 2 * hour, t0, t0 + hour, t0 + 3 * hour]
    const decision = slotToRun({ lastRunSlot: t0 - hour, dueSlots: due })
    expect(decision).toMatchObject({ run: true, slot: t0 + 3 * hour, coalesced: 3, coalescedSlots: [t0, t0 + hour, t0 + 2 * hour], reason: 'coalesced' })
    expect(decision.detail).toBe('slot 2024-01-01T12:00:00.000Z runs once for 4 due slots (3 missed since 2024-01-01T09:00:00.000Z coalesced)')
  })

  it('does not run again for a slot at or before the last run (a redelivered or late job)', () => {
    expect(slotToRun({ lastRunSlot: t0 + hour, dueSlots: [t0, t0 + hour] })).toMatchObject({ run: false, slot: null, reason: 'alreadyRan' })
  })

  it('ignores slots already run and coalesces only the newer ones', () => {
    expect(slotToRun({ lastRunSlot: t0 + hour, dueSlots: [t0, t0 + hour, t0 + 2 * hour, t0 + 3 * hour] })).toMatchObject({
      run: true,
      slot: t0 + 3 * hour,
      coalesced: 1,
      coalescedSlots: [t0 + 2 * hour],
    })
  })

  it('collapses duplicate deliveries of the same slot', () => {
    expect(slotToRun({ lastRunSlot: null, dueSlots: [t0, t0, t0] })).toMatchObject({ run: true, slot: t0, coalesced: 0, reason: 'due' })
  })

  it('runs the latest slot of a schedule that never ran', () => {
    expect(slotToRun({ lastRunSlot: null, dueSlots: [t0, t0 + hour] })).toMatchObject({ run: true, slot: t0 + hour, coalesced: 1 })
  })

  it('does nothing when nothing is due', () => {
    expect(slotToRun({ lastRunSlot: t0, dueSlots: [] })).toEqual({ run: false, slot: null, coalesced: 0, coalescedSlots: [], reason: 'nothingDue', detail: 'no slot is due' })
    expect(slotToRun({ lastRunSlot: null, dueSlots: [] })).toMatchObject({ run: false, reason: 'nothingDue' })
  })

  it('rejects slots that are not integer unix milliseconds', () => {
    expect(() => slotToRun({ lastRunSlot: 1.5, dueSlots: [] })).toThrow(ValidationError)
    expect(() => slotToRun({ lastRunSlot: null, dueSlots: [t0, Number.NaN] })).toThrow('dueSlots[1]')
    expect(() => slotToRun({ lastRunSlot: null, dueSlots: [-1] })).toThrow(ValidationError)
  })

  it('runs at most one slot, the newest unrun one, and accounts for every other unrun slot', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(1000), { nil: null }), fc.array(fc.nat(1000), { maxLength: 30 }), (last, due) => {
        const decision = slotToRun({ lastRunSlot: last, dueSlots: due })
        const unrun = [...new Set(due)].filter((s) => last === null || s > last)
        if (unrun.length === 0) {
          expect(decision.run).toBe(false)
          return
        }
        expect(decision.run).toBe(true)
        expect(decision.slot).toBe(Math.max(...unrun))
        expect(decision.coalesced).toBe(unrun.length - 1)
        expect(new Set([...decision.coalescedSlots, decision.slot])).toEqual(new Set(unrun))
        // Running it again with the decision recorded does nothing: once, not N times.
        expect(slotToRun({ lastRunSlot: decision.slot, dueSlots: due }).run).toBe(false)
      }),
    )
  })
})
