import type { OperatorDomain } from '../eip712/types.js'
import { decodeDelegatedPayload } from './decodeDelegatedPayload.js'
import { delegationHash } from './delegationHash.js'

/**
 * Whether `hash` is the delegation hash of `payload` over `domain`. A session granted (or request
 * bytes signed) under another domain is not: the operator refuses it for that reason (a worker
 * restarted after the operator's domain changed), which says nothing of its key. Malformed input
 * answers true: there is no domain to blame then.
 */
export function hashedOverDomain(domain: OperatorDomain, payload: unknown, hash: unknown): boolean {
  try {
    return typeof hash === 'string' && delegationHash(domain, decodeDelegatedPayload(payload)).toLowerCase() === hash.toLowerCase()
  } catch {
    return true
  }
}
