import type { Logger } from 'pino'
import type { OperatorDomain } from '../core/eip712/types.js'
import type { AlertCode } from '../core/alerts/alertCodes.js'
import type { NonceGenerator } from '../core/requests/createNonceGenerator.js'
import type { Db, Tx } from '../store/Database.js'
import type { VenueClient } from '../venue/createVenueClient.js'
import type { WalletSigner } from '../signers/WalletSigner.js'
import type { WalletRef } from '../signers/custodySigners.js'
import type { OperatorDomainWatch } from './operatorDomain.js'
import type { SessionRateLimits } from './sessionRateLimits.js'
import type { SessionSigners } from './sessionSigners.js'

export type AlertEvent = { walletId: string; code: AlertCode; message: string; details?: Record<string, unknown> }

/** What the job processors and loops need, wired once in the composition root. */
export type WorkerDeps = {
  db: Db
  venue: VenueClient
  domain: OperatorDomain
  /**
   * Whether the operator still verifies over `domain`: asked when it refuses a signature, before
   * the refusal is blamed on a session (SignerMismatch, SessionUnauthorized), and by the work that
   * would sign while it answers another domain. None: never asked (the refusal is the session's).
   */
  operatorDomain?: OperatorDomainWatch
  /** The operator's `maxDeadlineMs`; request deadlines stay well inside it. */
  maxDeadlineMs: number
  sessions: SessionSigners
  nonces: NonceGenerator
  now: () => number
  /** The operator's clock (ours plus the measured offset): request and read deadlines, delegation expiry. */
  operatorNow: () => number
  /** Measures the operator's clock again (after DeadlineExpired: a clock may have stepped since start-up). */
  resyncOperatorClock?: () => Promise<void>
  log: Logger
  /**
   * Aborted once the worker is told to stop (`close()`, or its `startupSignal` while it starts): a loop that calls the operator item by item
   * (the reconciliation's wallets and reads, session maintenance's wallets and sessions) starts no
   * further item; the one on the wire may finish. Each call can take OPERATOR_TIMEOUT_MS while the
   * operator hangs, and the worker's shutdown waits for the job it is in. None: never stopped.
   */
  stopping?: AbortSignal
  /** Sessions the operator rate-limited (RateLimited): their sends wait; other sessions' do not. */
  rateLimits: SessionRateLimits
  /** Raised when a session must be replaced (SessionUnauthorized, expiry lead, compromise). */
  onSessionInvalid?: (walletId: string, sessionId: string, reason: string) => Promise<void>
  /**
   * The signer session maintenance asks for a wallet's new Delegation (custody, or a local key);
   * none: the wallet's sessions are granted through the API only. With one, work the active session
   * does not cover waits for a scope change instead of failing (`runSubmission`).
   */
  walletSignerFor?: (wallet: WalletRef) => WalletSigner | undefined
  /** Queues a session maintenance run for the wallet now (deduplicated by `key`) rather than at the next periodic one. */
  askSessionMaintenance?: (walletId: string, key: string) => Promise<void>
  /** Alerts that need a human (ACL violation, signer mismatch), by one of `alertCodes`. */
  alert: (event: AlertEvent) => void
  /**
   * The alert claimed inside `tx`, the transaction writing what it reports, so that it exists if and
   * only if that commits, a crash after the commit included (`AlertSink.claimWithin`); answers what to
   * call once `tx` committed. Call it through `alertWithin` (`alertWithin.ts`), which raises after the
   * commit where this is absent.
   */
  alertWithin?: (tx: Tx, event: AlertEvent) => Promise<() => void>
  /** Local policy checked before signing; returns the rule that refused, or null. */
  policy?: (check: PolicyCheck) => Promise<string | null>
}

export type PolicyCheck = {
  walletId: string
  sessionId: string
  /** The order the request places or changes; its own notional is not "already placed". */
  orderId?: string
  /** The work (outbox row) checked: a ModifyOrder let through counts at its notional from then. */
  outboxId?: string
  family: string
  market: string
  side?: 0 | 1
  price?: bigint
  size?: bigint
  /** The caller read, in the same statement that claimed the order, that the wallet has no stored policy rows. */
  noStoredRules?: true
}
