import type { Hex } from 'viem'
import type { RequestFamily } from '../acl/actions.js'
import { covers } from '../acl/covers.js'
import { narrowestScope } from '../acl/narrowestScope.js'
import type { SignedDelegation } from './encodeDelegatedPayload.js'
import { delegationProblems } from './assertDelegationShape.js'

export type PreLiveParameters = {
  delegation: SignedDelegation
  /** The compressed public key of the session key the worker will sign with. */
  signingPublicKey: Hex
  /** The families the wallet's work needs. */
  neededFamilies: readonly RequestFamily[]
  /** Whether the user explicitly asked for an Unrestricted delegation. */
  unrestrictedRequested?: boolean
  /** Unix seconds, passed in (core is pure). */
  nowSeconds: number
  /** The delegation must stay valid at least this long from now (default 1 hour). */
  minRemainingSeconds?: number
  /** And must not outlive the automation window (default 30 days). */
  maxLifetimeSeconds?: number
}

/**
 * The operator guide's pre-live checks. Returns every problem found (empty when
 * the delegation may go live), never only the first.
 */
export function preLiveProblems(p: PreLiveParameters): string[] {
  const { delegation } = p
  const problems = delegationProblems(delegation)
  const expiry = Number(delegation.expiry)
  const minRemaining = p.minRemainingSeconds ?? 3600
  const maxLifetime = p.maxLifetimeSeconds ?? 30 * 24 * 3600
  if (expiry <= p.nowSeconds) problems.push(`expiry: the delegation expired at ${expiry} (now ${p.nowSeconds})`)
  else if (expiry - p.nowSeconds < minRemaining) problems.push(`expiry: only ${expiry - p.nowSeconds}s left; at least ${minRemaining}s are needed to automate safely`)
  if (expiry - p.nowSeconds > maxLifetime) problems.push(`expiry: ${expiry - p.nowSeconds}s ahead exceeds the automation window of ${maxLifetime}s`)
  if (delegation.sessionPublicKey.toLowerCase() !== p.signingPublicKey.toLowerCase()) {
    problems.push('sessionPublicKey: does not match the key the worker signs with (the operator would answer SignerMismatch)')
  }
  const missing = p.neededFamilies.filter((family) => !covers(delegation.aclScope, family))
  if (missing.length) problems.push(`aclScope: does not cover ${missing.join(', ')} (the operator would answer SessionAclViolation)`)
  const scope = delegation.aclScope
  if (scope.includes('Unrestricted')) {
    if (!p.unrestrictedRequested) problems.push('aclScope: "Unrestricted" was not requested; ask for the narrowest scope')
  } else if (p.neededFamilies.length) {
    const narrowest = narrowestScope({ families: p.neededFamilies })
    const extra = scope.filter((action) => !narrowest.includes(action as RequestFamily))
    if (extra.length) problems.push(`aclScope: grants ${extra.join(', ')} beyond what the work needs (${narrowest.join(', ')})`)
  }
  return problems
}
