import { SandboxError, invalid } from '../SandboxError.js'
import type { SandboxState } from '../state.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'

/** Fault injection's 503: the request had no effect, so it is safe to retry. */
export function maybeUnavailable(state: SandboxState): void {
  const rate = state.faults.errorRate
  if (rate > 0 && state.random() < rate) throw new SandboxError('Unavailable', 'injected fault: operator unavailable, retry')
}

/** An optional `?wallet=` must name the delegation's own wallet: a delegation reads only its wallet. */
export function assertOwnWallet(delegation: KnownDelegation, wallet: unknown): void {
  if (wallet === undefined) return
  if (typeof wallet !== 'string' || wallet.toLowerCase() !== delegation.walletKey) {
    throw new SandboxError('SessionAclViolation', 'a delegation may read only its own wallet')
  }
}

/** A non-negative integer query parameter (`since`), default 0. */
export function sinceParameter(name: string, value: unknown): number {
  if (value === undefined || value === '') return 0
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw invalid(`${name}: must be a non-negative integer`)
  return Number(value)
}
