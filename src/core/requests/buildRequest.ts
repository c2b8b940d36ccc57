import { type Address, type Hex, isAddress, isHex, size } from 'viem'
import type { RequestFamily } from '../acl/actions.js'
import { ValidationError } from '../errors/ValidationError.js'
import type { RequestMessages, VenueRequest } from '../eip712/types.js'

const UINT64_MAX = (1n << 64n) - 1n
const UINT256_MAX = (1n << 256n) - 1n

function hexOfSize(field: string, value: unknown, bytes: number): void {
  if (!isHex(value, { strict: true }) || size(value) !== bytes) throw new ValidationError(field, `must be ${bytes} bytes of 0x-hex`)
}
function uint(field: string, value: unknown, max: bigint, positive = false): void {
  if (typeof value !== 'bigint' || value < (positive ? 1n : 0n) || value > max) {
    throw new ValidationError(field, positive ? 'must be a positive integer in range' : 'must be an unsigned integer in range')
  }
}
function marketName(value: unknown, allowEmpty: boolean): void {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0) || value.length > 64) {
    throw new ValidationError('market', allowEmpty ? 'must be a market name or "" for every market' : 'must be a non-empty market name')
  }
}

function checkBound(message: { delegation: unknown; wallet: unknown; nonce: unknown; deadline: unknown }): void {
  hexOfSize('delegation', message.delegation, 32)
  if (typeof message.wallet !== 'string' || !isAddress(message.wallet as Address, { strict: false })) throw new ValidationError('wallet', 'must be a 20-byte address')
  uint('nonce', message.nonce, UINT64_MAX)
  uint('deadline', message.deadline, UINT64_MAX)
}

const checks: { [F in RequestFamily]: (message: RequestMessages[F]) => void } = {
  Order(m) {
    marketName(m.market, false)
    if (m.side !== 0 && m.side !== 1) throw new ValidationError('side', 'must be 0 (buy) or 1 (sell)')
    uint('price', m.price, UINT256_MAX, true)
    uint('size', m.size, UINT256_MAX, true)
    if (m.timeInForce !== 0 && m.timeInForce !== 1 && m.timeInForce !== 2) throw new ValidationError('timeInForce', 'must be 0 (GTC), 1 (IOC) or 2 (POST_ONLY)')
    hexOfSize('clientOrderId', m.clientOrderId, 16)
  },
  ModifyOrder(m) {
    marketName(m.market, false)
    hexOfSize('clientOrderId', m.clientOrderId, 16)
    uint('price', m.price, UINT256_MAX, true)
    uint('size', m.size, UINT256_MAX, true)
  },
  CancelOrder(m) {
    marketName(m.market, false)
    hexOfSize('clientOrderId', m.clientOrderId, 16)
  },
  CancelAll(m) {
    marketName(m.market, true)
  },
}

/**
 * Builds a request of one family after checking every field's type and range.
 * Market-specific rules (tick and lot size) are checked with `assertMultiple`.
 */
export function buildRequest<F extends RequestFamily>(family: F, message: RequestMessages[F]): VenueRequest<F> {
  checkBound(message)
  ;(checks[family] as (m: RequestMessages[F]) => void)(message)
  const normalized = { ...message, clientOrderId: (message as { clientOrderId?: Hex }).clientOrderId?.toLowerCase() }
  if (normalized.clientOrderId === undefined) delete normalized.clientOrderId
  return { family, message: normalized } as unknown as VenueRequest<F>
}
