import { type Address, type Hex, getAddress } from 'viem'
import type { AclAction } from '../../core/acl/actions.js'
import { MalformedDelegationError } from '../../core/delegation/assertDelegationShape.js'
import { decodeDelegatedPayload } from '../../core/delegation/decodeDelegatedPayload.js'
import { hashDelegationBytes } from '../../core/eip712/hashDelegation.js'
import type { OperatorDomain } from '../../core/eip712/types.js'
import { bytesToHex, hexToBytes } from '../../core/crypto/hex.js'
import { SandboxError } from '../SandboxError.js'
import { SessionKeyVerifier } from '../crypto/SessionKeyVerifier.js'
import { isCurvePoint, recoverAddress } from '../crypto/signatures.js'

/** A delegation whose wallet signature has been verified, with its lifecycle state. */
export type KnownDelegation = {
  /** The delegation hash, lowercase. */
  hash: Hex
  wallet: Address
  /** Lowercase wallet, the key of all per-wallet state. */
  walletKey: string
  sessionPublicKey: Hex
  scope: readonly AclAction[]
  expiry: bigint
  expiresAtMs: number
  verifier: SessionKeyVerifier
  revoked: boolean
  /** Set once expiry or revocation has been processed (orders cancelled, event emitted). */
  ended: boolean
}

/** Wallet-signed delegations seen by the sandbox; past ~4 KB of payload each, a bound keeps memory sane. */
const MAX_PAYLOAD_ALIASES = 100_000

/**
 * Verifies delegated payloads once and remembers them: the wallet signature is
 * checked the first time a payload is seen, later requests cost one map lookup
 * on the payload string. Lifecycle state lives on the record, keyed by hash, so
 * every byte form of one delegation shares it.
 */
export class DelegationRegistry {
  private readonly byPayload = new Map<string, KnownDelegation>()
  private readonly byHash = new Map<string, KnownDelegation>()
  private readonly verifiers = new Map<string, SessionKeyVerifier>()

  /** `domain` is read at each verification: the sandbox's domain can change at runtime (`POST /sandbox/domain`). */
  constructor(
    private readonly domain: () => OperatorDomain,
    private readonly fastVerifyAfter: number,
  ) {}

  /** The verified delegation of payload bytes; throws SessionUnauthorized when malformed or not signed by its wallet. */
  resolve(payload: string): KnownDelegation {
    const cached = this.byPayload.get(payload)
    if (cached) return cached
    let decoded
    try {
      decoded = decodeDelegatedPayload(payload)
    } catch (error) {
      const reason = error instanceof MalformedDelegationError ? error.shortMessage : 'malformed delegated payload'
      throw new SandboxError('SessionUnauthorized', reason)
    }
    const digest = hashDelegationBytes(this.domain(), decoded)
    const hash = bytesToHex(digest)
    let known = this.byHash.get(hash)
    if (!known) {
      // A malformed payload (PROTOCOL.md §5), not a SignerMismatch; and the key's verifier must never build a table from it.
      if (!isCurvePoint(decoded.sessionPublicKey)) throw new SandboxError('SessionUnauthorized', 'malformed delegated payload: sessionPublicKey is not a point on secp256k1')
      const signer = recoverAddress(digest, hexToBytes(decoded.walletSignature)!)
      if (signer !== decoded.wallet.toLowerCase()) {
        throw new SandboxError('SessionUnauthorized', 'the wallet signature does not recover to the delegation\'s wallet over this operator\'s domain')
      }
      known = {
        hash,
        wallet: getAddress(decoded.wallet),
        walletKey: decoded.wallet.toLowerCase(),
        sessionPublicKey: decoded.sessionPublicKey,
        scope: decoded.aclScope,
        expiry: decoded.expiry,
        expiresAtMs: Number(decoded.expiry) * 1000,
        verifier: this.verifierFor(decoded.sessionPublicKey),
        revoked: false,
        ended: false,
      }
      this.byHash.set(hash, known)
    } else if (recoverAddress(digest, hexToBytes(decoded.walletSignature)!) !== known.walletKey) {
      // Another byte form of a known delegation must carry a valid signature too.
      throw new SandboxError('SessionUnauthorized', 'the wallet signature does not recover to the delegation\'s wallet over this operator\'s domain')
    }
    if (this.byPayload.size >= MAX_PAYLOAD_ALIASES) this.byPayload.clear()
    this.byPayload.set(payload, known)
    return known
  }

  byDelegationHash(hash: string): KnownDelegation | undefined {
    return this.byHash.get(hash.toLowerCase())
  }

  all(): IterableIterator<KnownDelegation> {
    return this.byHash.values()
  }

  /** One verifier per session key, so its nonce-independent table serves every delegation of that key. */
  private verifierFor(sessionPublicKey: Hex): SessionKeyVerifier {
    let verifier = this.verifiers.get(sessionPublicKey)
    if (!verifier) this.verifiers.set(sessionPublicKey, (verifier = new SessionKeyVerifier(sessionPublicKey, this.fastVerifyAfter)))
    return verifier
  }
}

/** Why a delegation may not act now, or undefined when it may. */
export function inactiveReason(delegation: KnownDelegation, now: number): string | undefined {
  if (delegation.revoked) return 'the delegation has been revoked'
  if (now >= delegation.expiresAtMs) return `the delegation expired at ${delegation.expiry} (unix seconds)`
  return undefined
}
