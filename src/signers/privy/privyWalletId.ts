/** A Privy wallet id: letters, digits, `_` and `-` (it goes into the RPC path). A user's `did:privy:…` id or an address is not one. */
export const PRIVY_WALLET_ID = /^[A-Za-z0-9_-]+$/

export const PRIVY_WALLET_ID_RULE = "must be a Privy wallet id (letters, digits, '_' and '-'; the wallet's id from the user object, linked_accounts[].id, not the user's did:privy: id nor the address)"
