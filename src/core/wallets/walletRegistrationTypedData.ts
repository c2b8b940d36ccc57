/**
 * What a wallet signs to let one tenant of a Deputy deployment register it with its custody
 * wallet id, so that Deputy may have the custody service (Privy) sign its Delegations. Without it,
 * any tenant naming a Privy user's address and wallet id would get Delegations signed by that
 * wallet (the deployment's session signer serves every wallet of its Privy app). Bound to the
 * tenant and the custody wallet id (another tenant cannot reuse it) and to a deadline.
 *
 * The domain names no chain or contract: the registration is Deputy's, not an operator's, and its
 * name keeps it apart from the operator's Delegation domain.
 */
export const WALLET_REGISTRATION_DOMAIN = { name: 'Deputy wallet registration', version: '1' } as const

export type WalletRegistrationMessage = {
  /** The tenant's id (a UUID), as Deputy's API shows it. */
  tenant: string
  /** The wallet's id at the custody service. */
  custodyWalletId: string
  /** Unix seconds after which the signature is refused. */
  deadline: bigint
}

export function walletRegistrationTypedData(message: WalletRegistrationMessage) {
  return {
    domain: WALLET_REGISTRATION_DOMAIN,
    types: {
      WalletRegistration: [
        { name: 'tenant', type: 'string' },
        { name: 'custodyWalletId', type: 'string' },
        { name: 'deadline', type: 'uint64' },
      ],
    },
    primaryType: 'WalletRegistration' as const,
    message,
  }
}

/** The longest a registration signature may be valid for, from when it is presented. */
export const REGISTRATION_MAX_VALIDITY_SECONDS = 24 * 3600
