import { z } from 'zod'
import { requestFamilies } from '../../core/acl/actions.js'
import type { RequestMessages, VenueRequest } from '../../core/eip712/types.js'
import { invalid } from '../SandboxError.js'

const UINT64_MAX = (1n << 64n) - 1n
const UINT256_MAX = (1n << 256n) - 1n

const decimalUint = z.string().regex(/^\d{1,78}$/, 'must be an unsigned integer as a decimal string')
/** uint8 fields too travel as decimal strings (PROTOCOL.md §5: "uint as decimal strings"); a JSON number is refused. */
const smallUint = z.string().regex(/^\d{1,3}$/, 'must be an unsigned integer as a decimal string')
const hexOf = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `must be ${bytes} bytes of 0x-hex`)
const market = z.string().max(64, 'must be at most 64 characters')

const bound = { delegation: hexOf(32), wallet: hexOf(20), nonce: decimalUint, deadline: decimalUint }
const clientOrderId = hexOf(16)

/** Message fields exactly as the struct (PROTOCOL.md §4): an unsigned extra field is refused, not ignored. */
const messageSchemas = {
  Order: z.strictObject({ ...bound, market, side: smallUint, price: decimalUint, size: decimalUint, timeInForce: smallUint, clientOrderId }),
  ModifyOrder: z.strictObject({ ...bound, market, clientOrderId, price: decimalUint, size: decimalUint }),
  CancelOrder: z.strictObject({ ...bound, market, clientOrderId }),
  CancelAll: z.strictObject({ ...bound, market }),
} as const

/** The envelope of `POST /v1/requests` (PROTOCOL.md §5). Payload bytes are checked later: malformed ones are a 401. */
const bodySchema = z.object({
  family: z.enum(requestFamilies),
  delegation: z.string().max(65_536),
  message: z.record(z.string(), z.unknown()),
  signature: hexOf(65),
})

export type ParsedBody = {
  request: VenueRequest
  /** Delegated payload bytes as sent. */
  payload: string
  /** Lowercase signature hex. */
  signature: string
}

function describe(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0]
  if (!issue) return `${prefix}: invalid`
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  return `${path}: ${issue.message}`
}

function uint(field: string, value: string, max: bigint, positive: boolean): bigint {
  const parsed = BigInt(value)
  if (parsed > max) throw invalid(`message.${field}: out of range`)
  if (positive && parsed === 0n) throw invalid(`message.${field}: must be greater than zero`)
  return parsed
}

/** Schema and encoding checks; throws InvalidRequest naming the first bad field. */
export function parseRequestBody(body: unknown): ParsedBody {
  const envelope = bodySchema.safeParse(body)
  if (!envelope.success) throw invalid(describe(envelope.error, 'body'))
  const { family } = envelope.data
  const parsed = messageSchemas[family].safeParse(envelope.data.message)
  if (!parsed.success) throw invalid(describe(parsed.error, 'message'))
  const m = parsed.data as Record<string, string | number>
  const common = {
    delegation: (m.delegation as string).toLowerCase(),
    wallet: (m.wallet as string).toLowerCase(),
    nonce: uint('nonce', m.nonce as string, UINT64_MAX, false),
    deadline: uint('deadline', m.deadline as string, UINT64_MAX, false),
    market: m.market as string,
  }
  let message: RequestMessages[typeof family]
  switch (family) {
    case 'Order': {
      const side = Number(m.side)
      const timeInForce = Number(m.timeInForce)
      if (side !== 0 && side !== 1) throw invalid('message.side: must be 0 (buy) or 1 (sell)')
      if (timeInForce !== 0 && timeInForce !== 1 && timeInForce !== 2) throw invalid('message.timeInForce: must be 0 (GTC), 1 (IOC) or 2 (POST_ONLY)')
      message = {
        ...common, side, timeInForce,
        price: uint('price', m.price as string, UINT256_MAX, true),
        size: uint('size', m.size as string, UINT256_MAX, true),
        clientOrderId: (m.clientOrderId as string).toLowerCase(),
      } as RequestMessages['Order']
      break
    }
    case 'ModifyOrder':
      message = {
        ...common,
        clientOrderId: (m.clientOrderId as string).toLowerCase(),
        price: uint('price', m.price as string, UINT256_MAX, true),
        size: uint('size', m.size as string, UINT256_MAX, true),
      } as RequestMessages['ModifyOrder']
      break
    case 'CancelOrder':
      message = { ...common, clientOrderId: (m.clientOrderId as string).toLowerCase() } as RequestMessages['CancelOrder']
      break
    case 'CancelAll':
      message = common as RequestMessages['CancelAll']
      break
  }
  return {
    request: { family, message } as VenueRequest,
    payload: envelope.data.delegation,
    signature: envelope.data.signature.toLowerCase(),
  }
}
