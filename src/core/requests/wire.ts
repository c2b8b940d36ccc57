import type { Hex } from 'viem'
import type { RequestFamily } from '../acl/actions.js'
import type { VenueRequest } from '../eip712/types.js'

/** The JSON body of `POST /v1/requests` (PROTOCOL.md §5). */
export type WireRequest = {
  family: RequestFamily
  delegation: Hex
  message: Record<string, string>
  signature: Hex
}

/**
 * Struct fields with every uint as a decimal string, as PROTOCOL.md §5 has the message carry them
 * ("uint as decimal strings"): the uint64/uint256 ones (bigints) and the uint8 `side` and
 * `timeInForce` (numbers) alike.
 */
export function toWireMessage(message: object): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(message)) out[key] = typeof value === 'bigint' || typeof value === 'number' ? value.toString() : (value as string)
  return out
}

export function toWireRequest(request: VenueRequest, delegation: Hex, signature: Hex): WireRequest {
  return { family: request.family, delegation, message: toWireMessage(request.message), signature }
}
