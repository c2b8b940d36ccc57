import type { Hex } from 'viem'
import { type AclAction, type RequestFamily, UNRESTRICTED, isRequestFamily } from '../acl/actions.js'
import { uncovered } from '../acl/covers.js'
import { narrowestScope } from '../acl/narrowestScope.js'
import type { SignedDelegation } from './encodeDelegatedPayload.js'
import { delegationProblems } from './assertDelegationShape.js'
import { MAX_SESSION_LIFETIME_SECONDS, MIN_SESSION_LIFETIME_SECONDS } from '../sessions/lifetimeBounds.js'

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
  const minRemaining = p.minRemainingSeconds ?? MIN_SESSION_LIFETIME_SECONDS
  const maxLifetime = p.maxLifetimeSeconds ?? MAX_SESSION_LIFETIME_SECONDS
  if (expiry <= p.nowSeconds) problems.push(`expiry: the delegation expired at ${expiry} (now ${p.nowSeconds})`)
  else if (expiry - p.nowSeconds < minRemaining) problems.push(`expiry: only ${expiry - p.nowSeconds}s left; at least ${minRemaining}s are needed to automate safely`)
  if (expiry - p.nowSeconds > maxLifetime) problems.push(`expiry: ${expiry - p.nowSeconds}s ahead exceeds the automation window of ${maxLifetime}s`)
  if (String(delegation.sessionPublicKey).toLowerCase() !== String(p.signingPublicKey).toLowerCase()) {
    problems.push('sessionPublicKey: does not match the key the worker signs with (the operator would answer SignerMismatch)')
  }
  // A bad family is the caller's bug, but this check promises a list, so it reports rather than throws.
  const unknownNeeded = p.neededFamilies.filter((family) => !isRequestFamily(family))
  if (unknownNeeded.length) problems.push(`neededFamilies: unknown request famil${unknownNeeded.length > 1 ? 'ies' : 'y'} ${unknownNeeded.map(String).join(', ')}`)
  const needed = [...new Set(p.neededFamilies.filter(isRequestFamily))]
  const scope: readonly unknown[] = Array.isArray(delegation.aclScope) ? delegation.aclScope : []
  const missing = uncovered(scope as readonly AclAction[], needed)
  if (missing.length) problems.push(`aclScope: does not cover ${missing.join(', ')} (the operator would answer SessionAclViolation)`)
  if (scope.includes(UNRESTRICTED)) {
    if (!p.unrestrictedRequested) problems.push('aclScope: "Unrestricted" was not requested; ask for the narrowest scope')
  } else if (needed.length) {
    const narrowest: readonly unknown[] = narrowestScope({ families: needed })
    const extra = scope.filter((action) => isRequestFamily(action) && !narrowest.includes(action))
    if (extra.length) problems.push(`aclScope: grants ${extra.join(', ')} beyond what the work needs (${narrowest.join(', ')})`)
  }
  return problems
}
