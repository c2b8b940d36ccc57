import { type Hex, keccak256, slice, stringToBytes } from 'viem'
import { ValidationError } from '../errors/ValidationError.js'

/**
 * The client order id (16 bytes) of an intent at a revision. Deterministic, so a
 * retry after a crash or a lost response can never create a second order.
 * `scope` separates id spaces (limit-order intents, schedule legs).
 */
export function deriveClientOrderId(intentId: string, revision: number, scope = 'intent'): Hex {
  if (typeof intentId !== 'string' || !intentId) throw new ValidationError('intentId', 'must be a non-empty string')
  if (!Number.isSafeInteger(revision) || revision < 0) throw new ValidationError('revision', 'must be a non-negative integer')
  // `scope` is the only part that may not hold ':'; with the revision last, the preimage stays unambiguous.
  if (typeof scope !== 'string' || !/^[^:]+$/.test(scope)) throw new ValidationError('scope', 'must be a non-empty string without ":"')
  return slice(keccak256(stringToBytes(`deputy:cloid:v1:${scope}:${intentId}:${revision}`)), 0, 16)
}
