import type { Logger } from 'pino'
import type { OrphanPolicy } from '../jobs/reconcile.js'
import type { Keyring } from './keys/Keyring.js'
import type { WorkerDeps } from './runtime/deps.js'
import type { WalletRef } from './signers/custodySigners.js'
import type { WalletSigner } from './signers/WalletSigner.js'
import type { Database, Db } from './store/Database.js'

/** What `startWorker` is started with (`src/main/worker.ts` reads it from the environment). */
export type StartWorkerOptions = {
  db: Db
  /**
   * The store `db` belongs to. Given it, the relay also wakes as soon as outbox rows are
   * committed (Postgres LISTEN/NOTIFY), not only at its next poll.
   */
  database?: Database
  redisUrl: string
  /** How long a queue command waits for Redis before failing (`REDIS_COMMAND_TIMEOUT_MS`); unset, for ever. Never the workers'. */
  redisCommandTimeoutMs?: number
  /** A Redis connection with a command waiting and nothing received this long is opened again (`REDIS_SOCKET_TIMEOUT_MS`); unset, never. Every connection, the workers' too. */
  redisSocketTimeoutMs?: number
  queuePrefix: string
  operatorUrl: string
  operatorTimeoutMs?: number
  keyring: Keyring
  log: Logger
  concurrency?: number
  reconcileIntervalMs?: number
  orphanPolicy?: OrphanPolicy
  relayIntervalMs?: number
  sweepIntervalMs?: number
  /** Settled outbox rows, applied events and schedule runs that traded nothing are deleted after this many days (`startHistoryPruning`); 0 (the default here) keeps them. */
  retentionDays?: number
  /** Kept out of a rebalancing run's buy budget for the operator's fees, in basis points (`REBALANCE_FEE_RESERVE_BPS`; default 10). */
  feeReserveBps?: number
  /** A schedule run claimed longer than this after its slot is skipped `late` (`SCHEDULE_MAX_LATENESS_MS`; default 10 min; 0: no limit). */
  scheduleMaxLatenessMs?: number
  /** How often the pruning runs (default 10 minutes). */
  pruneIntervalMs?: number
  /** Run the event-stream supervisor (one stream per wallet, leased across processes). */
  streams?: boolean
  /** An event stream silent this long is opened again (default 60 s). */
  streamIdleTimeoutMs?: number
  /** A gap in a wallet's events met again for this long raises EVENT_GAP_STALLED (default 60 s). */
  streamGapAlertAfterMs?: number
  /**
   * Aborted when the process is told to stop while this still starts: the waits before any work is
   * taken (for the operator, the start-up reconciliation) end, and so do the last steps' waits for
   * Redis and the schedule sync; what was opened is closed, and the start rejects with the signal's reason.
   */
  startupSignal?: AbortSignal
  /** The jobs' budget when `startupSignal` stops a start already running them (`close`'s `timeoutMs`; default 20 s). */
  shutdownTimeoutMs?: number
  now?: () => number
  policy?: WorkerDeps['policy']
  onSessionInvalid?: WorkerDeps['onSessionInvalid']
  /** Also told of every alert (the sink logs it, writes it to the wallet's audit trail and POSTs it to `alertWebhookUrl`). */
  alert?: WorkerDeps['alert']
  /** `ALERT_WEBHOOK_URL`: where alerts are POSTed as JSON (`createAlertSink`). */
  alertWebhookUrl?: string
  /** The signer that can sign a new Delegation for a wallet (rotation); none → the wallet waits for one. */
  walletSignerFor?: (wallet: WalletRef) => WalletSigner | undefined
  sessionLifetimeSeconds?: number
  rotateLeadSeconds?: number
  rotationGraceMs?: number
  maintenanceIntervalMs?: number
  /** Run the operator guide's live probe on every new session before it goes live. */
  liveProbe?: boolean
  /** The first wait between automatic session grants after repeated failures (default 30 s). */
  grantRetryBaseMs?: number
  /** How long session maintenance waits for one wallet's grant or revocation before going on without it (default 2 min). */
  maintenanceWalletDeadlineMs?: number
}
