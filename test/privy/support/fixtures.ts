import type { Address, Hex } from 'viem'
import { delegationTypedData, type DelegationTypedData } from '../../../src/core/delegation/delegationTypedData.js'
import type { OperatorDomain } from '../../../src/core/eip712/types.js'
import { AuthorizationPrivateKey } from '../../../src/signers/privy/AuthorizationPrivateKey.js'
import { buildDelegationPolicy } from '../../../src/signers/privy/buildDelegationPolicy.js'
import { generateAuthorizationKeyPair } from '../../../src/signers/privy/generateAuthorizationKeyPair.js'
import { PrivyApi, type PrivyApiOptions } from '../../../src/signers/privy/PrivyApi.js'
import type { LocalPrivy } from './localPrivy.js'

export const domain: OperatorDomain = {
  name: 'Deputy Sandbox',
  version: '1',
  chainId: 8453,
  verifyingContract: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
}

export const sessionPublicKey: Hex = '0x02a1633cafcc01ebfb6d78e39f687a1f0995c62fc95f51ead10a02ee0be551b5dc'

export function delegationFor(wallet: Address, overrides: { nonce?: bigint; domain?: Partial<OperatorDomain> } = {}): DelegationTypedData {
  return delegationTypedData(
    { ...domain, ...overrides.domain },
    { wallet, sessionPublicKey, aclScope: ['Order', 'CancelOrder'], expiry: 1_900_000_000n, nonce: overrides.nonce ?? 7n },
  )
}

/** Deputy's session signer as set up in the dashboard: a key quorum of `keys` members with a threshold. */
export type SessionSigner = { quorumId: string; privateKeys: string[]; keys: AuthorizationPrivateKey[] }

export function createSessionSigner(privy: LocalPrivy, keyCount = 1, threshold = 1): SessionSigner {
  const pairs = Array.from({ length: keyCount }, () => generateAuthorizationKeyPair())
  const quorumId = privy.state.createKeyQuorum({ publicKeys: pairs.map((pair) => pair.publicKey), threshold })
  const privateKeys = pairs.map((pair) => pair.privateKey)
  return { quorumId, privateKeys, keys: privateKeys.map((key) => AuthorizationPrivateKey.parse(key)) }
}

/**
 * A user with an embedded wallet on which they granted Deputy's session signer,
 * bound by the Deputy delegation policy (override_policy_ids), as docs/privy.md sets it up.
 */
export function delegatedUser(privy: LocalPrivy, signer: SessionSigner, options: { privateKey?: Hex } = {}) {
  const policy = privy.state.createPolicy(buildDelegationPolicy({ name: domain.name, chainId: domain.chainId, verifyingContract: domain.verifyingContract }))
  const { user, wallet } = privy.state.createUserWithWallet({ privateKey: options.privateKey })
  privy.state.addSessionSigner(wallet.id, signer.quorumId, [policy.id])
  return { user, wallet, policy }
}

export function apiFor(privy: LocalPrivy, options: Partial<PrivyApiOptions> = {}): PrivyApi {
  return new PrivyApi({
    appId: privy.appId,
    appSecret: privy.appSecret,
    apiUrl: privy.url,
    retry: { baseDelayMs: 1, maxDelayMs: 50 },
    ...options,
  })
}
