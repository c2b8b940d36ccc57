import { randomBytes } from 'node:crypto'
import type { Address, Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { KeyQuorum, UserKey } from './localPrivyAuth.js'
import { type Policy, type Rule, policyBodyProblem } from './localPrivyPolicy.js'

export type AdditionalSigner = { signer_id: string; override_policy_ids?: string[] }

export type Wallet = {
  id: string
  address: Address
  account: LocalAccount
  ownerId: string | null
  additionalSigners: AdditionalSigner[]
  policyIds: string[]
  createdAt: number
}

export type User = { id: string; createdAt: number; walletIds: string[] }

/** Privy ids: 24 lowercase alphanumerics (cuid2-like). */
export function privyId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from(randomBytes(24), (byte) => alphabet[byte % alphabet.length]).join('')
}

/** The in-memory app: what the Privy dashboard and users would have set up. */
export class LocalPrivyState {
  readonly quorums = new Map<string, KeyQuorum>()
  readonly policies = new Map<string, Policy>()
  readonly wallets = new Map<string, Wallet>()
  readonly users = new Map<string, User>()
  readonly userKeys: UserKey[] = []

  constructor(private readonly now: () => number) {}

  createKeyQuorum(input: { publicKeys?: string[]; userIds?: string[]; threshold?: number }): string {
    const publicKeys = input.publicKeys ?? []
    const userIds = input.userIds ?? []
    const threshold = input.threshold ?? 1
    if (threshold < 1 || threshold > publicKeys.length + userIds.length) throw new Error('threshold outside the quorum size')
    const id = privyId()
    this.quorums.set(id, { id, publicKeys, userIds, threshold })
    return id
  }

  /** Validates like POST /v1/policies; throws with the reason Privy would give. */
  createPolicy(body: Record<string, unknown>): Policy {
    const problem = policyBodyProblem(body)
    if (problem) throw new Error(problem)
    const rules = (body.rules as Omit<Rule, 'id'>[]).map((rule) => ({ ...rule, id: privyId() }))
    const policy: Policy = {
      id: privyId(),
      version: '1.0',
      name: body.name as string,
      chain_type: 'ethereum',
      rules,
      owner_id: null,
      created_at: this.now(),
    }
    this.policies.set(policy.id, policy)
    return policy
  }

  createWallet(input: { ownerId?: string | null; additionalSigners?: AdditionalSigner[]; policyIds?: string[]; privateKey?: Hex } = {}): Wallet {
    for (const id of [input.ownerId, ...(input.additionalSigners ?? []).map((signer) => signer.signer_id)]) {
      if (id && !this.quorums.has(id)) throw new Error(`unknown key quorum ${id}`)
    }
    const account = privateKeyToAccount(input.privateKey ?? generatePrivateKey())
    const wallet: Wallet = {
      id: privyId(),
      address: account.address,
      account,
      ownerId: input.ownerId ?? null,
      additionalSigners: input.additionalSigners ?? [],
      policyIds: input.policyIds ?? [],
      createdAt: this.now(),
    }
    this.wallets.set(wallet.id, wallet)
    return wallet
  }

  /** A user whose embedded wallet is owned by the user (a one-member user quorum), as Privy creates them. */
  createUserWithWallet(input: { privateKey?: Hex; policyIds?: string[] } = {}): { user: User; wallet: Wallet } {
    const user: User = { id: `did:privy:${privyId()}`, createdAt: this.now(), walletIds: [] }
    this.users.set(user.id, user)
    const ownerId = this.createKeyQuorum({ userIds: [user.id] })
    const wallet = this.createWallet({ ownerId, policyIds: input.policyIds ?? [], privateKey: input.privateKey })
    user.walletIds.push(wallet.id)
    return { user, wallet }
  }

  /** What the user does in the app when granting Deputy's session signer. */
  addSessionSigner(walletId: string, signerId: string, overridePolicyIds?: string[]): void {
    const wallet = this.wallets.get(walletId)
    if (!wallet || !this.quorums.has(signerId)) throw new Error('unknown wallet or signer')
    wallet.additionalSigners.push({ signer_id: signerId, ...(overridePolicyIds ? { override_policy_ids: overridePolicyIds } : {}) })
  }

  removeSessionSigners(walletId: string): void {
    const wallet = this.wallets.get(walletId)
    if (wallet) wallet.additionalSigners = []
  }

  /** Privy's wallet object. */
  walletJson(wallet: Wallet): Record<string, unknown> {
    return {
      id: wallet.id,
      address: wallet.address,
      chain_type: 'ethereum',
      created_at: wallet.createdAt,
      exported_at: null,
      imported_at: null,
      owner_id: wallet.ownerId,
      additional_signers: wallet.additionalSigners,
      policy_ids: wallet.policyIds,
    }
  }

  /** Privy's user object, with one linked embedded wallet account per wallet. */
  userJson(user: User): Record<string, unknown> {
    const seconds = Math.floor(user.createdAt / 1000)
    const wallets = user.walletIds.map((id, index) => {
      const wallet = this.wallets.get(id)!
      return {
        type: 'wallet',
        id: wallet.id,
        address: wallet.address,
        chain_type: 'ethereum',
        chain_id: 'eip155:1',
        connector_type: 'embedded',
        wallet_client: 'privy',
        wallet_client_type: 'privy',
        wallet_index: index,
        recovery_method: 'privy-v2',
        imported: false,
        // Privy reports a wallet as delegated once the user added a session signer to it.
        delegated: wallet.additionalSigners.length > 0,
        verified_at: seconds,
        first_verified_at: seconds,
        latest_verified_at: seconds,
      }
    })
    return {
      id: user.id,
      created_at: seconds,
      has_accepted_terms: true,
      is_guest: false,
      mfa_methods: [],
      linked_accounts: [
        { type: 'email', address: 'user@example.com', verified_at: seconds, first_verified_at: seconds, latest_verified_at: seconds },
        ...wallets,
      ],
    }
  }

  /** Wallets a user may sign for: their quorum owns it or is one of its signers. */
  walletsOfUser(userId: string): Wallet[] {
    const quorumIds = new Set([...this.quorums.values()].filter((quorum) => quorum.userIds.includes(userId)).map((quorum) => quorum.id))
    return [...this.wallets.values()].filter(
      (wallet) => (wallet.ownerId && quorumIds.has(wallet.ownerId)) || wallet.additionalSigners.some((signer) => quorumIds.has(signer.signer_id)),
    )
  }
}
