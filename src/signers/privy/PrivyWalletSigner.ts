import { type Address, type Hex, getAddress, hashTypedData, isAddressEqual, recoverTypedDataAddress } from 'viem'
import { z } from 'zod'
import type { DelegationTypedData } from '../../core/delegation/delegationTypedData.js'
import type { RevocationTypedData } from '../../core/delegation/revocationTypedData.js'
import type { WalletSigner } from '../WalletSigner.js'
import { PrivyError, privyConfigError } from './errors.js'
import { encodePathSegment, type PrivyApi, type RequestAuthorizer } from './PrivyApi.js'
import { toPrivyTypedData } from './toPrivyTypedData.js'
import { PRIVY_WALLET_ID } from './privyWalletId.js'

export type PrivyWalletSignerOptions = {
  api: PrivyApi
  /** Privy's wallet id (not the address). */
  walletId: string
  /** The wallet's address; every signature is checked to recover to it. */
  address: Address
  /** Produces the privy-authorization-signature: app keys, a user signer, or both. */
  authorizer: RequestAuthorizer
  /** Validity of each signed request (privy-request-expiry). Default 120 s. */
  requestExpiryMs?: number
}

const rpcResponse = z.object({
  method: z.literal('eth_signTypedData_v4'),
  data: z.object({
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
    encoding: z.literal('hex'),
  }),
})

/**
 * The production wallet signer: asks Privy's wallet RPC to sign the Delegation
 * (and the Revocation of a delegation whose session key is in doubt) with the user's embedded wallet, authorised by Deputy's session-signer keys
 * (or the user's own key). The wallet's Privy policy limits what it will sign.
 */
export class PrivyWalletSigner implements WalletSigner {
  readonly kind = 'privy'
  readonly address: Address
  readonly walletId: string
  readonly #api: PrivyApi
  readonly #authorizer: RequestAuthorizer
  readonly #requestExpiryMs: number

  constructor(options: PrivyWalletSignerOptions) {
    if (!PRIVY_WALLET_ID.test(options.walletId)) {
      throw privyConfigError('Privy wallet id is malformed', 'store the wallet id from the user object (linked_accounts[].id), not the address')
    }
    this.address = getAddress(options.address)
    this.walletId = options.walletId
    this.#api = options.api
    this.#authorizer = options.authorizer
    this.#requestExpiryMs = options.requestExpiryMs ?? 120_000
  }

  /**
   * Privy deduplicates by this key for 24 h, and the key depends only on the
   * wallet and the Delegation, so a resent request (after a timeout, a crash,
   * a job retry) returns the first answer instead of signing twice.
   */
  idempotencyKey(typedData: DelegationTypedData): string {
    return `deputy-delegation-${this.walletId}-${hashTypedData(typedData).slice(2)}`
  }

  async signDelegation(typedData: DelegationTypedData): Promise<Hex> {
    if (!isAddressEqual(typedData.message.wallet, this.address)) {
      throw privyConfigError('Delegation names another wallet than this signer', 'build the Delegation for the wallet this Privy wallet id belongs to')
    }
    return this.#signTypedData(typedData, this.idempotencyKey(typedData))
  }

  /**
   * A Revocation of one of the wallet's delegations (one whose session key is in doubt). Each
   * attempt has its own deadline, so its own idempotency key: a resent request answers the first.
   */
  async signRevocation(typedData: RevocationTypedData): Promise<Hex> {
    return this.#signTypedData(typedData, `deputy-revocation-${this.walletId}-${hashTypedData(typedData).slice(2)}`)
  }

  async #signTypedData(typedData: DelegationTypedData | RevocationTypedData, idempotencyKey: string): Promise<Hex> {
    const request = {
      path: `/v1/wallets/${encodePathSegment(this.walletId)}/rpc`,
      operation: 'eth_signTypedData_v4',
      body: { method: 'eth_signTypedData_v4', params: { typed_data: toPrivyTypedData(typedData) } },
      idempotencyKey,
      authorizer: this.#authorizer,
      expiryMs: this.#requestExpiryMs,
      idempotent: true,
    }
    let raw: unknown
    try {
      raw = await this.#api.post(request)
    } catch (error) {
      // Privy dropped the user's key: exchange the JWT again and resend once. Under another
      // idempotency key: Privy may keep the refusal under the first one and answer it again, and
      // nothing was signed under it.
      if (!(error instanceof PrivyError) || error.code !== 'PRIVY.USER_KEY_EXPIRED' || !this.#authorizer.invalidate) throw error
      this.#authorizer.invalidate()
      raw = await this.#api.post({ ...request, idempotencyKey: `${request.idempotencyKey}-rekeyed` })
    }
    const parsed = rpcResponse.safeParse(raw)
    if (!parsed.success) {
      throw new PrivyError('Privy answered eth_signTypedData_v4 in an unexpected shape', {
        code: 'PRIVY.BAD_RESPONSE',
        retryable: false,
        hint: 'expected {method: "eth_signTypedData_v4", data: {signature: 0x + 65 bytes, encoding: "hex"}}; check PRIVY_API_URL points at Privy.',
        details: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
      })
    }
    const signature = parsed.data.data.signature as Hex
    const signer = await recoverTypedDataAddress({ ...typedData, signature } as Parameters<typeof recoverTypedDataAddress>[0]).catch(() => undefined)
    if (signer === undefined || !isAddressEqual(signer, this.address)) {
      throw new PrivyError('the signature Privy returned does not recover to the wallet address', {
        code: 'PRIVY.SIGNATURE_MISMATCH',
        retryable: false,
        hint: `the stored Privy wallet id ${this.walletId} may belong to another address than ${this.address}; re-read the user's linked accounts.`,
      })
    }
    return signature
  }

  toString(): string {
    return `PrivyWalletSigner(${this.address}, wallet ${this.walletId})`
  }
  toJSON(): { kind: string; address: Address; walletId: string } {
    return { kind: this.kind, address: this.address, walletId: this.walletId }
  }
}
