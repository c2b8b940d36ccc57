import { ValidationError } from '../errors/ValidationError.js'

/** The rule `parseSide` refuses a value by (a side read back as null broke it). */
export const SIDE_RULE = 'must be a side: "buy" or "sell" (or 0 / 1)'

/**
 * An order's or fill's side as the operator reads it back: PROTOCOL.md fixes 0 buy / 1 sell in
 * the signed structs but not the encoding of reads and events (the sandbox answers "buy" /
 * "sell"). Both are taken, as numbers, decimal strings or words in any case; anything else is
 * refused naming `field`, never read as a buy.
 */
export function parseSide(field: string, value: unknown): 0 | 1 {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : undefined
  if (text === '0' || text === 'buy') return 0
  if (text === '1' || text === 'sell') return 1
  throw new ValidationError(field, SIDE_RULE)
}
