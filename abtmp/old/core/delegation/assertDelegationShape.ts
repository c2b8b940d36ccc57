import { isAddress, isHex } from 'viem'
import { scopeProblems } from '../acl/validateScope.js'
import { BaseError } from '../errors/BaseError.js'
import type { DelegationMessage } from '../eip712/types.js'

const UINT64_MAX = (1n << 64n) - 1n

export class MalformedDelegationError extends BaseError {
  override name = 'MalformedDelegationError'
  readonly problems: string[]
  constructor(problems: string[], cause?: unknown) {
    super(`malformed delegated payload: ${problems.join('; ')}`, {
      code: 'CORE.MALFORMED_DELEGATION',
      hint: 'the delegated payload must be abi.encode(address, bytes sessionPublicKey(33), string[] aclScope, uint64 expiry, uint64 nonce, bytes walletSignature(65))',
      cause,
    })
    this.problems = problems
  }
}

/**
 * Why `value` is not exactly `bytes` bytes of 0x-hex, or undefined when it is.
 * Counts digits: viem's `size` rounds an odd digit count up.
 */
function hexLengthProblem(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || !isHex(value, { strict: true })) return `must be ${bytes} bytes of 0x-hex`
  const digits = value.length - 2
  if (digits % 2 !== 0) return `must be ${bytes} bytes of 0x-hex, got an odd number of hex digits (${digits})`
  if (digits !== 2 * bytes) return `must be ${bytes} bytes, got ${digits / 2}`
  return undefined
}

/** Every structural problem of a delegation (signature length included when present). */
export function delegationProblems(delegation: DelegationMessage & { walletSignature?: unknown }): string[] {
  const problems: string[] = []
  if (typeof delegation.wallet !== 'string' || !isAddress(delegation.wallet, { strict: false })) problems.push('wallet: must be a 20-byte address')
  const key = delegation.sessionPublicKey
  const keyLength = hexLengthProblem(key, 33)
  if (keyLength) problems.push(`sessionPublicKey: compressed SEC1 key ${keyLength}`)
  else if (!/^0x0[23]/.test(key)) problems.push(`sessionPublicKey: a compressed SEC1 key starts 0x02 or 0x03, got ${key.slice(0, 4)}`)
  problems.push(...scopeProblems(delegation.aclScope))
  for (const field of ['expiry', 'nonce'] as const) {
    const value = delegation[field]
    if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) problems.push(`${field}: must be a uint64`)
  }
  if ('walletSignature' in delegation) {
    const signature = delegation.walletSignature
    const signatureLength = hexLengthProblem(signature, 65)
    if (signatureLength) problems.push(`walletSignature: r‖s‖v ${signatureLength}`)
  }
  return problems
}

export function assertDelegationShape(delegation: DelegationMessage & { walletSignature?: unknown }): void {
  const problems = delegationProblems(delegation)
  if (problems.length) throw new MalformedDelegationError(problems)
}
