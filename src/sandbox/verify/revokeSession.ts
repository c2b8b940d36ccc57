import { z } from 'zod'
import { hashRevocationBytes } from '../../core/eip712/hashRevocation.js'
import { SandboxError, invalid } from '../SandboxError.js'
import { endSession } from '../engine/endSession.js'
import type { RevocationReceipt } from '../engine/types.js'
import type { SandboxState } from '../state.js'
import { addressOf, parseSignature, recoverCompressed } from '../crypto/signatures.js'
import type { KnownDelegation } from './DelegationRegistry.js'

const UINT64_MAX = (1n << 64n) - 1n

const revokeSchema = z.object({
  /** Delegated payload bytes, or the 32-byte hash of a delegation the operator has seen. */
  delegation: z.string().max(65_536),
  deadline: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be 65 bytes of 0x-hex'),
})

function resolveDelegation(state: SandboxState, delegation: string): KnownDelegation {
  if (/^0x[0-9a-fA-F]{64}$/.test(delegation)) {
    const known = state.delegations.byDelegationHash(delegation)
    if (!known) throw new SandboxError('SessionUnauthorized', 'unknown delegation hash: send the delegated payload bytes instead')
    return known
  }
  return state.delegations.resolve(delegation)
}

/**
 * `POST /v1/sessions/revoke`: a Revocation signed by the wallet or by the
 * session key itself. Cancels the session's open orders and emits
 * SessionRevoked; resending it answers the first result with `duplicate: true`.
 * `beforeEffect` runs once every check passed (fault injection); throws SandboxError.
 */
export function revokeSession(state: SandboxState, body: unknown, beforeEffect: () => void): RevocationReceipt {
  const parsed = revokeSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalid(`body.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
  }
  const deadline = BigInt(parsed.data.deadline)
  if (deadline > UINT64_MAX) throw invalid('body.deadline: out of range')
  const now = state.now()
  if (deadline > BigInt(now + state.config.maxDeadlineMs)) throw invalid(`body.deadline: more than maxDeadlineMs (${state.config.maxDeadlineMs}) ahead`)
  const delegation = resolveDelegation(state, parsed.data.delegation)
  const signature = parseSignature(parsed.data.signature)
  const signer = signature && recoverCompressed(hashRevocationBytes(state.config.domain, { delegation: delegation.hash, deadline }), signature.bytes)
  if (!signer || (signer !== delegation.sessionPublicKey && addressOf(signer) !== delegation.walletKey)) {
    throw new SandboxError('SignerMismatch', 'the revocation must be signed by the delegation\'s wallet or its session key')
  }
  if (deadline < BigInt(now)) throw new SandboxError('DeadlineExpired', `the deadline ${deadline} is in the past (operator time ${now})`)
  const previous = state.revocations.get(delegation.hash)
  if (previous) return { ...previous, duplicate: true }
  beforeEffect()
  const ended = endSession(state, delegation, 'sessionRevoked')
  const receipt: RevocationReceipt = {
    delegation: delegation.hash, wallet: delegation.wallet, status: 'revoked', duplicate: false,
    cancelled: ended.cancelled, seq: ended.seq, revokedAt: now,
  }
  state.revocations.set(delegation.hash, receipt)
  return receipt
}
