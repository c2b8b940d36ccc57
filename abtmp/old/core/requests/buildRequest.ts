import { type Address, type Hex, isAddress, isHex } from 'viem'
import { type RequestFamily, isRequestFamily, requestFamilies } from '../acl/actions.js'
import { ValidationError } from '../errors/ValidationError.js'
import { type RequestMessages, type VenueRequest, eip712Types } from '../eip712/types.js'

const UINT64_MAX = (1n << 64n) - 1n
const UINT256_MAX = (1n << 256n) - 1n
const MAX_MARKET_LENGTH = 64

function hexOfSize(field: string, value: unknown, bytes: number): void {
  // Count digits: viem's `size` rounds an odd digit count up, so "0x" + 63 digits would pass as 32 bytes.
  if (typeof value !== 'string' || !isHex(value, { strict: true })) throw new ValidationError(field, `must be ${bytes} bytes of 0x-hex`)
  const digits = value.length - 2
  if (digits !== 2 * bytes) {
    throw new ValidationError(field, `must be ${bytes} bytes of 0x-hex`, digits % 2 ? `got an odd number of hex digits (${digits})` : `got ${digits / 2} bytes`)
  }
}
function uint(field: string, value: unknown, bits: 64 | 256, positive = false): void {
  const max = bits === 64 ? UINT64_MAX : UINT256_MAX
  if (typeof value !== 'bigint') throw new ValidationError(field, `must be a bigint uint${bits}`, `got ${typeof value}`)
  if (value < (positive ? 1n : 0n) || value > max) {
    throw new ValidationError(field, positive ? `must be a uint${bits} greater than zero` : `must be a uint${bits} (0 to 2^${bits}-1)`, `got ${value}`)
  }
}
function marketName(value: unknown, allowEmpty: boolean): void {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0) || value.length > MAX_MARKET_LENGTH) {
    throw new ValidationError('market', allowEmpty
      ? `must be a market name of at most ${MAX_MARKET_LENGTH} characters, or "" for every market`
      : `must be a non-empty market name of at most ${MAX_MARKET_LENGTH} characters`)
  }
}

function checkBound(message: { delegation: unknown; wallet: unknown; nonce: unknown; deadline: unknown }): void {
  hexOfSize('delegation', message.delegation, 32)
  if (typeof message.wallet !== 'string' || !isAddress(message.wallet as Address, { strict: false })) throw new ValidationError('wallet', 'must be a 20-byte address')
  uint('nonce', message.nonce, 64)
  uint('deadline', message.deadline, 64)
}

const checks: { [F in RequestFamily]: (message: RequestMessages[F]) => void } = {
  Order(m) {
    marketName(m.market, false)
    if (m.side !== 0 && m.side !== 1) throw new ValidationError('side', 'must be 0 (buy) or 1 (sell)')
    uint('price', m.price, 256, true)
    uint('size', m.size, 256, true)
    if (m.timeInForce !== 0 && m.timeInForce !== 1 && m.timeInForce !== 2) throw new ValidationError('timeInForce', 'must be 0 (GTC), 1 (IOC) or 2 (POST_ONLY)')
    hexOfSize('clientOrderId', m.clientOrderId, 16)
  },
  ModifyOrder(m) {
    marketName(m.market, false)
    hexOfSize('clientOrderId', m.clientOrderId, 16)
    uint('price', m.price, 256, true)
    uint('size', m.size, 256, true)
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
 * The message keeps exactly the struct's fields: anything else would travel on
 * the wire without being covered by the signature.
 */
export function buildRequest<F extends RequestFamily>(family: F, message: RequestMessages[F]): VenueRequest<F> {
  if (!isRequestFamily(family)) throw new ValidationError('family', `must be one of ${requestFamilies.join(', ')}`)
  if (typeof message !== 'object' || message === null) throw new ValidationError('message', 'must be an object')
  checkBound(message)
  ;(checks[family] as (m: RequestMessages[F]) => void)(message)
  const source = message as unknown as Record<string, unknown>
  const normalized: Record<string, unknown> = {}
  for (const { name } of eip712Types[family]) normalized[name] = source[name]
  if (typeof normalized.clientOrderId === 'string') normalized.clientOrderId = (normalized.clientOrderId as Hex).toLowerCase()
  return { family, message: normalized } as unknown as VenueRequest<F>
}
