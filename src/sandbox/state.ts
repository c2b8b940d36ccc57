import { getAddress } from 'viem'
import type { ResolvedConfig } from './config.js'
import { type Faults, mergeFaults, noFaults } from './faults.js'
import { EventLog } from './engine/EventLog.js'
import type { Balance, Receipt, RevocationReceipt, SandboxOrder, WalletState } from './engine/types.js'
import { DelegationRegistry, type KnownDelegation } from './verify/DelegationRegistry.js'
import { NonceWindow } from './verify/NonceWindow.js'
import { RateLimiter } from './verify/RateLimiter.js'

/** Everything the sandbox remembers, in memory; handlers mutate it synchronously, so no request interleaves another. */
export type SandboxState = {
  config: ResolvedConfig
  now: () => number
  random: () => number
  faults: Faults
  wallets: Map<string, WalletState>
  /** Resting orders per market, in arrival order (time priority). */
  books: Map<string, Set<SandboxOrder>>
  delegations: DelegationRegistry
  /** Nonce windows by session public key. */
  nonces: Map<string, NonceWindow>
  /** Accepted requests by `requestId:signature`: the byte-identical replay rule. */
  replays: Map<string, Receipt>
  rateLimiter: RateLimiter
  /** Revocation results by delegation hash, answered again (duplicate) when the revocation is resent. */
  revocations: Map<string, RevocationReceipt>
  counters: { order: number; fill: number }
  /** Told when a delegation's session ends, after its events are out (SSE streams it authorized close). */
  sessionEnded: Set<(delegation: KnownDelegation) => void>
}

export function createState(config: ResolvedConfig, now: () => number, random: () => number, faults: Partial<Faults> = {}): SandboxState {
  return {
    config,
    now,
    random,
    faults: mergeFaults(noFaults, faults),
    wallets: new Map(),
    books: new Map([...config.markets.keys()].map((market) => [market, new Set<SandboxOrder>()])),
    delegations: new DelegationRegistry(() => config.domain, config.fastVerifyAfter),
    nonces: new Map(),
    replays: new Map(),
    rateLimiter: new RateLimiter(config.rateLimit),
    revocations: new Map(),
    counters: { order: 0, fill: 0 },
    sessionEnded: new Set(),
  }
}

/** The wallet's state, created empty on first use. `key` is the lowercase address. */
export function walletOf(state: SandboxState, key: string): WalletState {
  let wallet = state.wallets.get(key)
  if (!wallet) {
    const address = getAddress(key)
    wallet = { address, key, balances: new Map(), orders: new Map(), receiptsByCloid: new Map(), fills: [], events: new EventLog(address) }
    state.wallets.set(key, wallet)
  }
  return wallet
}

export function balanceOf(wallet: WalletState, asset: string): Balance {
  let balance = wallet.balances.get(asset)
  if (!balance) wallet.balances.set(asset, (balance = { total: 0n, held: 0n }))
  return balance
}

export function nonceWindowOf(state: SandboxState, sessionPublicKey: string): NonceWindow {
  let window = state.nonces.get(sessionPublicKey)
  if (!window) state.nonces.set(sessionPublicKey, (window = new NonceWindow()))
  return window
}
