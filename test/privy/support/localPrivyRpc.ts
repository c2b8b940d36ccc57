import { hashTypedData, type TypedData } from 'viem'
import { type Policy, policiesAllow, type TypedDataRequest } from './localPrivyPolicy.js'
import type { Wallet } from './localPrivyState.js'

export type Answer = { status: number; body: unknown; headers?: Record<string, string> }

export const privyError = (status: number, message: string, code?: string): Answer => ({
  status,
  body: { error: message, ...(code ? { code } : {}) },
})

const RPC_KEYS = ['method', 'params', 'chain_type', 'caip2', 'address', 'wallet_id', 'signature_options']
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

type Parsed =
  | { method: 'eth_signTypedData_v4'; typed: TypedDataRequest }
  | { method: 'personal_sign'; message: string; encoding: 'utf-8' | 'hex' }
  | { method: 'secp256k1_sign'; hash: `0x${string}` }

/** Body validation as Privy's schema does it: unknown fields and malformed params are `invalid_data`. */
export function parseRpcBody(body: unknown): Parsed | Answer {
  const invalid = (why: string) => privyError(400, `Invalid request body: ${why}`, 'invalid_data')
  if (!isRecord(body)) return invalid('expected an object')
  const unknown = Object.keys(body).filter((key) => !RPC_KEYS.includes(key))
  if (unknown.length > 0) return invalid(`unrecognized keys ${unknown.join(', ')}`)
  if (body.chain_type !== undefined && body.chain_type !== 'ethereum') return invalid('chain_type')
  const params = body.params
  if (!isRecord(params)) return invalid('params')
  switch (body.method) {
    case 'eth_signTypedData_v4': {
      const typed = params.typed_data
      if (!isRecord(typed) || !isRecord(typed.domain) || !isRecord(typed.types) || !isRecord(typed.message) || typeof typed.primary_type !== 'string') {
        return invalid('params.typed_data needs domain, types, message and primary_type')
      }
      const types = typed.types as Record<string, unknown>
      for (const fields of Object.values(types)) {
        if (!Array.isArray(fields) || !fields.every((field) => isRecord(field) && typeof field.name === 'string' && typeof field.type === 'string')) {
          return invalid('params.typed_data.types')
        }
      }
      if (!types[typed.primary_type]) return invalid('primary_type is not in types')
      return { method: 'eth_signTypedData_v4', typed: typed as unknown as TypedDataRequest }
    }
    case 'personal_sign':
      if (typeof params.message !== 'string' || (params.encoding !== 'utf-8' && params.encoding !== 'hex')) return invalid('params.message / params.encoding')
      return { method: 'personal_sign', message: params.message, encoding: params.encoding }
    case 'secp256k1_sign':
      if (typeof params.hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(params.hash)) return invalid('params.hash')
      return { method: 'secp256k1_sign', hash: params.hash as `0x${string}` }
    default:
      return invalid(`unsupported method ${String(body.method)}`)
  }
}

/** Runs the policy engine, then signs with the wallet's key and answers in Privy's shape. */
export async function executeRpc(wallet: Wallet, parsed: Parsed, policies: Policy[]): Promise<Answer> {
  const typed = parsed.method === 'eth_signTypedData_v4' ? parsed.typed : undefined
  if (typed) {
    try {
      hashTypedData({ domain: typed.domain as never, types: typed.types as unknown as TypedData, primaryType: typed.primary_type, message: typed.message })
    } catch (error) {
      // viem refuses typed data that does not match its types: Privy answers invalid_data.
      return privyError(400, `Invalid typed data: ${error instanceof Error ? error.message.split('\n')[0] : 'unknown'}`, 'invalid_data')
    }
  }
  if (!policiesAllow(policies, parsed.method, typed)) {
    return privyError(400, 'RPC request denied due to policy violation', 'policy_violation')
  }
  if (parsed.method === 'eth_signTypedData_v4') {
    const signature = await wallet.account.signTypedData({
      domain: parsed.typed.domain as never,
      types: parsed.typed.types as unknown as TypedData,
      primaryType: parsed.typed.primary_type,
      message: parsed.typed.message,
    })
    return { status: 200, body: { method: 'eth_signTypedData_v4', data: { signature, encoding: 'hex' } } }
  }
  if (parsed.method === 'personal_sign') {
    const message = parsed.encoding === 'hex' ? { raw: `0x${parsed.message.replace(/^0x/, '')}` as `0x${string}` } : parsed.message
    const signature = await wallet.account.signMessage({ message })
    return { status: 200, body: { method: 'personal_sign', data: { signature, encoding: 'hex' } } }
  }
  const signature = await wallet.account.sign!({ hash: parsed.hash })
  return { status: 200, body: { method: 'secp256k1_sign', data: { signature, encoding: 'hex' } } }
}
