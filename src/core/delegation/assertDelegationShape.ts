import { isAddress, isHex, size } from 'viem'
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

/** Every structural problem of a delegation (signature length included when present). */
export function delegationProblems(delegation: DelegationMessage & { walletSignature?: unknown }): string[] {
  const problems: string[] = []
  if (typeof delegation.wallet !== 'string' || !isAddress(delegation.wallet, { strict: false })) problems.push('wallet: must be a 20-byte address')
  const key = delegation.sessionPublicKey
  if (!isHex(key) || size(key) !== 33 || !/^0x0[23]/i.test(key)) {
    problems.push('sessionPublicKey: must be a 33-byte compressed SEC1 key starting 0x02 or 0x03')
  }
  problems.push(...scopeProblems(delegation.aclScope))
  for (const field of ['expiry', 'nonce'] as const) {
    const value = delegation[field]
    if (typeof value !== 'bigint' || value < 0n || value > UINT64_MAX) problems.push(`${field}: must be a uint64`)
  }
  if ('walletSignature' in delegation) {
    const signature = delegation.walletSignature
    if (!isHex(signature) || size(signature) !== 65) problems.push('walletSignature: must be 65 bytes r‖s‖v')
  }
  return problems
}

export function assertDelegationShape(delegation: DelegationMessage & { walletSignature?: unknown }): void {
  const problems = delegationProblems(delegation)
  if (problems.length) throw new MalformedDelegationError(problems)
}
