import type { Hex } from 'viem'
import type { RequestFamily } from '../acl/actions.js'
import type { VenueRequest } from '../eip712/types.js'

/** The JSON body of `POST /v1/requests` (PROTOCOL.md §5). */
export type WireRequest = {
  family: RequestFamily
  delegation: Hex
  message: Record<string, string | number>
  signature: Hex
}

/** Struct fields with uints as decimal strings, as the wire carries them. */
export function toWireMessage(message: object): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [key, value] of Object.entries(message)) out[key] = typeof value === 'bigint' ? value.toString() : (value as string | number)
  return out
}

export function toWireRequest(request: VenueRequest, delegation: Hex, signature: Hex): WireRequest {
  return { family: request.family, delegation, message: toWireMessage(request.message), signature }
}
