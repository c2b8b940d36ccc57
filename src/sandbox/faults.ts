import { z } from 'zod'

/** Fault injection (PROTOCOL.md §9). Probabilities are 0..1; everything is off by default. */
export type Faults = {
  /** Probability that a request which passed every check answers 503 Unavailable instead (no effect). */
  errorRate: number
  /** Delay before every /v1 request is handled. */
  latencyMs: number
  /** Probability that an accepted request takes effect but its connection is destroyed without a response. */
  dropAfterAccept: number
  /** Every SSE stream is cut this long after it opens (0 = never). */
  streamDropEveryMs: number
  /** Probability that an event is written to a stream twice. */
  duplicateEvents: number
  /**
   * Events carry only the data fields PROTOCOL.md §7 names (OrderFilled: fillId, price, size, fee,
   * remaining; OrderCancelled: reason; the others none), as an operator holding to the text may:
   * the sandbox's extensions (an OrderModified's price, size and revision, a session end's
   * delegation, …) are left out. Not a fault: a check that the client needs no more than the text.
   */
  protocolEventData: boolean
  /**
   * Fields that reads answer in place of the sandbox's own, for the orders whose client order id
   * (lower-case) is a key (`GET /v1/orders`, `GET /v1/orders/{cloid}`) and the fills whose fill id
   * is one (`GET /v1/fills`): a malformed read, as `{ "0x…": { "filled": "NaN" } }`. Events are
   * untouched. Replaced as a whole when set.
   */
  readOverrides: Record<string, Record<string, unknown>>
  /** Every stream leaves out the event with this seq, every wallet's, on every replay: a gap the operator never fills (0 = off). */
  skipEventSeq: number
}

export const noFaults: Faults = { errorRate: 0, latencyMs: 0, dropAfterAccept: 0, streamDropEveryMs: 0, duplicateEvents: 0, protocolEventData: false, readOverrides: {}, skipEventSeq: 0 }

const probability = z.number().min(0).max(1)
const milliseconds = z.number().int().min(0).max(600_000)

/** The body of `POST /sandbox/faults`: any subset; omitted fields keep their value. */
export const faultsSchema = z.strictObject({
  errorRate: probability.optional(),
  latencyMs: milliseconds.optional(),
  dropAfterAccept: probability.optional(),
  streamDropEveryMs: milliseconds.optional(),
  duplicateEvents: probability.optional(),
  protocolEventData: z.boolean().optional(),
  readOverrides: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  skipEventSeq: z.number().int().min(0).optional(),
})

export function mergeFaults(current: Faults, patch: Partial<Faults>): Faults {
  const next = { ...current }
  for (const key of Object.keys(noFaults) as (keyof Faults)[]) {
    const value = patch[key]
    if (value !== undefined) (next as Record<keyof Faults, unknown>)[key] = value
  }
  return next
}
