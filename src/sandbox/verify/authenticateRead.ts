import type { IncomingHttpHeaders } from 'node:http'
import { hashReadBytes } from '../../core/eip712/hashRead.js'
import { SandboxError, invalid } from '../SandboxError.js'
import { endSession } from '../engine/endSession.js'
import type { SandboxState } from '../state.js'
import { type KnownDelegation, inactiveReason } from './DelegationRegistry.js'

const UINT64_MAX = (1n << 64n) - 1n

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/**
 * Authenticated reads (PROTOCOL.md §6), checked in the same order as requests:
 * encoding and deadline too far (400), delegation (401), signer (401),
 * deadline past (410). Returns the delegation whose wallet may be read.
 */
export function authenticateRead(state: SandboxState, headers: IncomingHttpHeaders): KnownDelegation {
  const payload = header(headers, 'x-delegation')
  const deadlineText = header(headers, 'x-read-deadline')
  const signature = header(headers, 'x-read-signature')
  if (!payload || !deadlineText || !signature) {
    throw new SandboxError('SessionUnauthorized', 'reads need the x-delegation, x-read-deadline and x-read-signature headers')
  }
  if (!/^\d{1,20}$/.test(deadlineText) || BigInt(deadlineText) > UINT64_MAX) throw invalid('x-read-deadline: must be unix milliseconds as a decimal integer')
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw invalid('x-read-signature: must be 65 bytes of 0x-hex (r‖s‖v)')
  const deadline = BigInt(deadlineText)
  const now = state.now()
  if (deadline > BigInt(now + state.config.maxDeadlineMs)) throw invalid(`x-read-deadline: more than maxDeadlineMs (${state.config.maxDeadlineMs}) ahead`)
  const delegation = state.delegations.resolve(payload)
  const inactive = inactiveReason(delegation, now)
  if (inactive) {
    if (!delegation.ended && !delegation.revoked) endSession(state, delegation, 'sessionExpired')
    throw new SandboxError('SessionUnauthorized', inactive)
  }
  const digest = hashReadBytes(state.config.domain, { delegation: delegation.hash, deadline })
  if (!delegation.verifier.verify(digest, signature)) {
    throw new SandboxError('SignerMismatch', 'x-read-signature does not recover to the delegation\'s sessionPublicKey')
  }
  if (deadline < BigInt(now)) throw new SandboxError('DeadlineExpired', `x-read-deadline ${deadline} is in the past (operator time ${now})`)
  return delegation
}
