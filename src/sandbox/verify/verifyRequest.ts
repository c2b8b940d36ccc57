import type { Hex } from 'viem'
import { covers } from '../../core/acl/covers.js'
import { bytesToHex } from '../../core/crypto/hex.js'
import { hashRequestBytes } from '../../core/eip712/hashRequest.js'
import type { VenueRequest } from '../../core/eip712/types.js'
import { formatAmount } from '../../core/money/decimal.js'
import type { Market } from '../config.js'
import { SandboxError, invalid } from '../SandboxError.js'
import { endSession } from '../engine/endSession.js'
import type { Receipt } from '../engine/types.js'
import { type SandboxState, nonceWindowOf } from '../state.js'
import { type KnownDelegation, inactiveReason } from './DelegationRegistry.js'
import type { ParsedBody } from './parseRequestBody.js'

/** A request that passed every protocol check up to the business rules. */
export type VerifiedRequest = {
  request: VenueRequest
  /** Undefined only for CancelAll over every market (`""`). */
  market: Market | undefined
  delegation: KnownDelegation
  requestId: Hex
  /** `requestId:signature`, the key of the byte-identical replay rule. */
  replayKey: string
}

/** Either a request to act on, or the original receipt of a replay. */
export type Verification = { verified: VerifiedRequest } | { duplicate: Receipt }

function checkIncrements(market: Market, price: bigint, size: bigint): void {
  if (price % market.tickSize !== 0n) throw invalid(`message.price: ${formatAmount(price)} is not a multiple of ${market.market} tickSize ${formatAmount(market.tickSize)}`)
  if (size % market.lotSize !== 0n) throw invalid(`message.size: ${formatAmount(size)} is not a multiple of ${market.market} lotSize ${formatAmount(market.lotSize)}`)
}

/**
 * PROTOCOL.md §5's checks, in the table's order: InvalidRequest (schema was
 * parsed already; market, tick/lot, deadline too far), SessionUnauthorized,
 * SignerMismatch, SessionAclViolation, then the two replay rules, NonceReused,
 * DeadlineExpired. Business rules, rate limit and faults come after, elsewhere.
 * Throws SandboxError.
 */
export function verifyRequest(state: SandboxState, { request, payload, signature }: ParsedBody): Verification {
  const now = state.now()
  const { message } = request
  // 400: market and increments, then how far ahead the deadline is.
  let market: Market | undefined
  if (request.family !== 'CancelAll' || message.market !== '') {
    market = state.config.markets.get(message.market)
    if (!market) throw invalid(`message.market: unknown market ${JSON.stringify(message.market)}`)
  }
  if (request.family === 'Order' || request.family === 'ModifyOrder') checkIncrements(market!, request.message.price, request.message.size)
  if (message.deadline > BigInt(now + state.config.maxDeadlineMs)) {
    throw invalid(`message.deadline: more than maxDeadlineMs (${state.config.maxDeadlineMs}) ahead of the operator's clock`)
  }
  // 401: the delegation, its binding to this request, its lifecycle.
  const delegation = state.delegations.resolve(payload)
  if (message.delegation !== delegation.hash) throw new SandboxError('SessionUnauthorized', 'message.delegation is not the hash of the attached delegation')
  if (message.wallet !== delegation.walletKey) throw new SandboxError('SessionUnauthorized', 'message.wallet is not the delegation\'s wallet')
  const inactive = inactiveReason(delegation, now)
  if (inactive) {
    if (!delegation.ended && !delegation.revoked) endSession(state, delegation, 'sessionExpired')
    throw new SandboxError('SessionUnauthorized', inactive)
  }
  const digest = hashRequestBytes(state.config.domain, request)
  if (!delegation.verifier.verify(digest, signature)) {
    throw new SandboxError('SignerMismatch', 'the request signature does not recover to the delegation\'s sessionPublicKey')
  }
  // 403
  if (!covers(delegation.scope, request.family)) {
    throw new SandboxError('SessionAclViolation', `${request.family} is not in the delegation's aclScope [${delegation.scope.join(', ')}]`)
  }
  // Replays come before the nonce rule, so a client may resend the exact bytes it persisted.
  const requestId = bytesToHex(digest)
  const replayKey = `${requestId}:${signature}`
  const replayed = state.replays.get(replayKey)
  if (replayed) return { duplicate: { ...replayed, duplicate: true } }
  if (request.family === 'Order') {
    const first = state.wallets.get(delegation.walletKey)?.receiptsByCloid.get(request.message.clientOrderId)
    if (first) return { duplicate: { ...first, duplicate: true } }
  }
  // 409, 410
  if (nonceWindowOf(state, delegation.sessionPublicKey).isReused(message.nonce)) {
    throw new SandboxError('NonceReused', `nonce ${message.nonce} was already used or is below the smallest of the 100 highest kept for this session key`)
  }
  if (message.deadline < BigInt(now)) throw new SandboxError('DeadlineExpired', `the deadline ${message.deadline} is in the past (operator time ${now})`)
  return { verified: { request, market, delegation, requestId, replayKey } }
}
