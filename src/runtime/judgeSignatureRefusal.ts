import { hashedOverDomain } from '../core/delegation/hashedOverDomain.js'
import type { OperatorDomain } from '../core/eip712/types.js'
import type { OperatorDomainWatch } from './operatorDomain.js'

/**
 * What an operator's refusal of a signature (`SignerMismatch`, `SessionUnauthorized`) says, once put
 * to its domain (one shared read of /v1/info, `explainRefusal`; the common path never reads it):
 * - `waitForDomain`: the domain changed, or could not be read after a SignerMismatch: every
 *   signature of this process is refused alike, which says nothing of the session; the work waits.
 * - `keyInDoubt`: a SignerMismatch over the signing domain, of a delegation hashed over it: the
 *   stored session key is not the delegated one.
 * - `sessionRefused`: otherwise: the session is refused (revoked, expired, or granted under another
 *   domain before a restart adopted the operator's new one, whose key is not in doubt).
 * `payload` and `delegationHash`: the delegation the refused signature was bound to.
 */
export async function judgeSignatureRefusal(p: {
  watch?: Pick<OperatorDomainWatch, 'explainRefusal'>
  domain: OperatorDomain
  code: 'SignerMismatch' | 'SessionUnauthorized'
  payload: unknown
  delegationHash: unknown
}): Promise<'waitForDomain' | 'keyInDoubt' | 'sessionRefused'> {
  const cause = (await p.watch?.explainRefusal()) ?? 'sameDomain'
  if (cause === 'domainChanged' || (cause === 'unconfirmed' && p.code === 'SignerMismatch')) return 'waitForDomain'
  return p.code === 'SignerMismatch' && hashedOverDomain(p.domain, p.payload, p.delegationHash) ? 'keyInDoubt' : 'sessionRefused'
}
