import { randomUUID } from 'node:crypto'
import type { StartWorkerOptions } from './workerOptions.js'
import { type Job, Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { eq } from 'drizzle-orm'
import { reconcile } from '../jobs/reconcile.js'
import { walletSkippedLog } from './runtime/walletSkipped.js'
import { createNonceGenerator } from './core/requests/createNonceGenerator.js'
import { redisConnections } from './queue/redisConnections.js'
import { blockingProbe } from './queue/blockingProbe.js'
import { controlJobs, queueNames } from './queue/names.js'
import type { ReconcileJobData, SubmitJobData } from './queue/payloads.js'
import { controlQueueSettings } from './queue/scheduleRepeatStrategy.js'
import type { WorkerDeps } from './runtime/deps.js'
import { startEventStreams } from './runtime/eventStreams.js'
import { createSubmitProcessor, submitBackoff } from './runtime/createSubmitProcessor.js'
import { withStorableErrors } from './runtime/withStorableErrors.js'
import { createSessionSigners } from './runtime/sessionSigners.js'
import { shortDeadlineMs } from './core/requests/shortDeadlineMs.js'
import { wallets } from './store/schema/index.js'
import { createVenueClient } from './venue/createVenueClient.js'
import { createLiveProbe } from './runtime/sessions/createLiveProbe.js'
import { maintainSessions, type SessionMaintenanceOptions } from '../jobs/maintainSessions.js'
import { compromiseWallet } from './runtime/sessions/compromiseWallet.js'
import { quarantineKeyIntegrity } from './runtime/sessions/quarantineKeyIntegrity.js'
import { askSessionMaintenance } from './runtime/sessions/askSessionMaintenance.js'
import { createAlertSink } from './runtime/createAlertSink.js'
import { createPolicyCheck } from './runtime/policy/createPolicyCheck.js'
import { createScheduleRunProcessor } from './runtime/schedules/createScheduleRunProcessor.js'
import { startCancelLane } from './runtime/startCancelLane.js'
import { startRepairSweeps } from './runtime/startRepairSweeps.js'
import { startHistoryPruning } from './runtime/startHistoryPruning.js'
import { syncSchedulersAtStartup } from './runtime/schedules/syncSchedulersAtStartup.js'
import { createSessionRateLimits } from './runtime/sessionRateLimits.js'
import { throttledErrorLog } from './runtime/throttledErrorLog.js'
import { retryUntilDone } from './runtime/retryUntilDone.js'
import { waitForOperator } from './runtime/waitForOperator.js'
import { createOperatorDomainWatch } from './runtime/operatorDomain.js'
import { createOperatorClock } from './runtime/operatorClock.js'
import { oneRunAtATime } from './runtime/oneRunAtATime.js'
import { untilAborted } from './runtime/untilAborted.js'
import { closeWorker } from './runtime/closeWorker.js'
import { jobsInProgress } from './runtime/jobsInProgress.js'
import { pendingAfter } from './runtime/pendingAfter.js'
import { startOutboxRelay } from './runtime/startOutboxRelay.js'
import { checkEvictionPolicy } from './queue/checkEvictionPolicy.js'
import { ConfigError } from './core/errors/ConfigError.js'

export type { StartWorkerOptions } from './workerOptions.js'

/**
 * The worker's composition root: builds the adapters, reconciles once before
 * taking any submission, refuses a Redis that may evict keys (`checkEvictionPolicy`), then runs the submit and control processors, the
 * outbox relay, the sweeps that repair what Redis lost (`startRepairSweeps`),
 * the lane that sends cancels without waiting for Redis (`startCancelLane`),
 * the pruning of settled history (`startHistoryPruning`), and the event streams. `close()` stops taking work,
 * lets in-flight jobs finish (BullMQ re-runs any that do not; the runs going wallet by wallet start
 * no further wallet, `deps.stopping`), and releases leases.
 */
export async function startWorker(options: StartWorkerOptions) {
  const now = options.now ?? Date.now
  const owner = `worker-${randomUUID()}`
  const venue = createVenueClient({ baseUrl: options.operatorUrl, timeoutMs: options.operatorTimeoutMs })
  const { info, domain, offsetMs, markets } = await waitForOperator(venue, options.log, now, options.startupSignal)
  const operatorClock = createOperatorClock(venue, now, offsetMs, options.log)
  venue.remeasureClockWith(operatorClock.resync)
  const operatorNow = operatorClock.now
  const alerts = createAlertSink({ log: options.log, db: options.db, webhookUrl: options.alertWebhookUrl })
  // Aborted when `close()` starts, or the process is told to stop while this still starts: the
  // jobs going wallet by wallet (the start-up reconciliation too) end after the call on the wire.
  const shutdown = new AbortController()
  const stopStarting = () => shutdown.abort(options.startupSignal?.reason)
  if (options.startupSignal?.aborted) stopStarting()
  else options.startupSignal?.addEventListener('abort', stopStarting, { once: true })
  // Read again only when the operator refuses a signature: a changed domain is not a compromised key.
  const operatorDomain = createOperatorDomainWatch({ venue, domain, log: options.log, now })
  const deps: WorkerDeps = {
    stopping: shutdown.signal,
    db: options.db, venue, domain, operatorDomain, maxDeadlineMs: info.maxDeadlineMs, now, operatorNow, resyncOperatorClock: operatorClock.resync, log: options.log,
    sessions: createSessionSigners({
      db: options.db, keyring: options.keyring, domain, now: operatorNow, readDeadlineMs: shortDeadlineMs(info.maxDeadlineMs, 30_000),
      // A stored key that is not the delegated one: quarantined and alerted, as a SignerMismatch is.
      onKeyIntegrity: (session, problem) => quarantineKeyIntegrity(deps, session, problem),
    }),
    rateLimits: createSessionRateLimits(now),
    // On the operator's clock, which every process shares: on its own, a process whose clock runs
    // behind another's would draw nonces below the 100 the operator keeps, each refused NonceReused.
    nonces: createNonceGenerator(operatorNow),
    alert: (event) => {
      alerts.raise(event)
      options.alert?.(event)
    },
    alertWithin: async (tx, event) => {
      const afterCommit = await alerts.claimWithin(tx, event)
      return () => {
        afterCommit()
        options.alert?.(event)
      }
    },
    policy: options.policy ?? createPolicyCheck({ db: options.db, venue, now }),
    onSessionInvalid: async (walletId, sessionId, reason) => {
      await options.onSessionInvalid?.(walletId, sessionId, reason)
      // Replace the refused session now rather than at the next maintenance run.
      await askSessionMaintenance(controlQueue, options.log, walletId, sessionId)
    },
    walletSignerFor: options.walletSignerFor,
    askSessionMaintenance: (walletId, key) => askSessionMaintenance(controlQueue, options.log, walletId, key),
  }
  const maintenance: SessionMaintenanceOptions = {
    keyring: options.keyring,
    walletSignerFor: options.walletSignerFor ?? (() => undefined),
    rotateLeadSeconds: options.rotateLeadSeconds ?? 6 * 3600,
    lifetimeSeconds: options.sessionLifetimeSeconds ?? 7 * 24 * 3600,
    rotationGraceMs: options.rotationGraceMs ?? Math.max(45_000, info.maxDeadlineMs + 15_000),
    ...(options.liveProbe ? { probe: createLiveProbe({ ...deps, keyring: options.keyring, markets }) } : {}),
    ...(options.grantRetryBaseMs !== undefined ? { grantRetryBaseMs: options.grantRetryBaseMs } : {}),
    quarantineRetries: new Map(),
    inProgress: new Map(),
    ...(options.maintenanceWalletDeadlineMs !== undefined ? { walletDeadlineMs: options.maintenanceWalletDeadlineMs } : {}),
  }
  const prefix = options.queuePrefix
  // Named after the prefix, so `CLIENT LIST` tells which deployment a connection belongs to
  // (BullMQ renames its workers' blocking connections to `<prefix>:<queue>`, the same start).
  const redis = redisConnections(options.redisUrl, `${prefix}:deputy-worker`, { commandTimeoutMs: options.redisCommandTimeoutMs, socketTimeoutMs: options.redisSocketTimeoutMs })
  const submitQueue = redis.queue((connection) => new Queue<SubmitJobData>(queueNames.submit, { connection, prefix }), 'submit queue')
  const controlQueue = redis.queue((connection) => new Queue<ReconcileJobData>(queueNames.control, { connection, prefix, settings: controlQueueSettings }), 'control queue')
  // Without a listener BullMQ prints each of a queue's errors to stderr (every failed reconnect while Redis is down).
  submitQueue.on('error', throttledErrorLog(options.log, 'submit queue error'))
  controlQueue.on('error', throttledErrorLog(options.log, 'control queue error'))
  const orphans = options.orphanPolicy ?? 'adopt'
  // The sweep interval: also the first wait before a reconciler's cancel that failed is queued again.
  const intervalMs = options.reconcileIntervalMs ?? 30_000
  // One for every run, so a wallet skipped by every sweep (an expired session) is warned of once per window.
  const skippedLog = walletSkippedLog(options.log)
  // Per wallet, up to which seq the fills are known stored: a sweep short of a fill that cannot be stored reads from there.
  const storedThrough = new Map<string, bigint>()
  // Every run's, the start-up one, the periodic ones and a wallet's own alike.
  const reconcileOptions = { orphans, intervalMs, skippedLog, storedThrough }

  // Reconcile before taking work: unknown orders from a previous life are resolved first. A failure
  // of the pass (the database dropping a connection) is waited out, not fatal: no work is taken until
  // it succeeds. A wallet that fails alone (the operator refusing its reads, a session key this
  // process cannot unseal) is logged and left to the periodic reconciliation, not every wallet's
  // wait: its jobs meanwhile resend the bytes they persisted, which the operator answers duplicate.
  // Stopped while starting, the start ends at once and no work is taken: the pass is not waited for,
  // as a statement whose Postgres took the connection and never answers holds it to the connect
  // timeout (DATABASE_QUERY_TIMEOUT_MS and 1 s: 31 s, past the stopping process's 30 s by default).
  // Left behind, it starts no further wallet (`stopped`) and its failure is unheard.
  const startup = await retryUntilDone(async () => {
    const report = await untilAborted(reconcile(deps, reconcileOptions), options.startupSignal)
    options.startupSignal?.throwIfAborted()
    return report
  }, {
    signal: options.startupSignal,
    onFailure: (error, retryInMs) => options.log.warn({ err: error, retryInMs }, 'start-up reconciliation failed; retrying before taking work'),
  }).catch(async (error: unknown) => {
    // Stopped while starting: no work was taken yet; what was opened is closed.
    if (options.startupSignal?.aborted) {
      await Promise.allSettled([submitQueue.close(), controlQueue.close(), alerts.close()])
      await redis.closeAll()
    }
    throw error
  })
  options.log.info({ startup }, 'start-up reconciliation done')
  // Neither needs Redis, so both start before the steps below that wait for it (a worker restarted
  // while Redis is down): cancels and the kill switch still reach the operator, and its events are applied.
  const cancelLane = startCancelLane(deps)
  const streams = options.streams === false ? undefined : startEventStreams(deps, { owner, idleTimeoutMs: options.streamIdleTimeoutMs, gapAlertAfterMs: options.streamGapAlertAfterMs })

  // Before any job is taken or enqueued: a Redis that may evict keys (maxmemory-policy other than
  // noeviction) is a ConfigError (exit 2), as it can drop a queued job and the order it stands for.
  // Read on the submit queue's connection once Redis answers (waited for, as the steps below are; its
  // errors meanwhile are the queue's, logged once); a read that fails otherwise (its command timed
  // out) is tried again. Refused or stopped here, what runs is closed: no job was taken.
  try {
    // BullMQ's Redis backend runs on ioredis; its own type for the client lists only what BullMQ uses.
    const client = async () => (await submitQueue.backend.client) as unknown as Redis
    await untilAborted(retryUntilDone(async () => checkEvictionPolicy(await client(), options.log), {
      signal: options.startupSignal,
      retryable: (error) => !(error instanceof ConfigError),
      onFailure: (error, retryInMs) => options.log.warn({ err: error, retryInMs }, 'could not read Redis\'s maxmemory-policy; retrying before taking work'),
    }), options.startupSignal)
  } catch (error) {
    shutdown.abort(error)
    // Within the shutdown budget, as `close()`: a send on the wire or a Postgres that hangs is not waited out.
    await pendingAfter({ 'cancel lane': cancelLane.close(), 'event streams': streams?.close() }, options.shutdownTimeoutMs ?? 20_000)
    await Promise.allSettled([submitQueue.close(), controlQueue.close(), alerts.close()])
    await redis.closeAll()
    throw error
  }

  // How many jobs run now: at the shutdown deadline, the ones still running are work left behind.
  const jobs = jobsInProgress()
  const submitWorker = new Worker<SubmitJobData>(queueNames.submit, jobs.count(withStorableErrors(createSubmitProcessor(deps))), {
    connection: redis.open('submit worker'), prefix, concurrency: options.concurrency ?? 64,
    settings: { backoffStrategy: submitBackoff },
    // A crashed worker's jobs return once their lock lapses: keep that short. A submission is safe
    // to re-run (it resends its persisted bytes), so a job that stalls in several crashes in a row
    // is re-run rather than failed (BullMQ's default fails it on the second stall, stranding its row).
    lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 100,
  })
  // Each attempt's error is stored on its request too; an outage fails every job the same way: one line per failure.
  const attemptFailed = throttledErrorLog(options.log, 'submission attempt failed', { level: 'warn' })
  submitWorker.on('failed', (job, error) => attemptFailed(error, { jobId: job?.id, attempts: job?.attemptsMade }))
  submitWorker.on('error', throttledErrorLog(options.log, 'submit worker error'))

  const runScheduleJob = createScheduleRunProcessor(deps, controlQueue, {
    ...(options.feeReserveBps === undefined ? {} : { feeReserveBps: options.feeReserveBps }),
    ...(options.scheduleMaxLatenessMs === undefined ? {} : { maxLatenessMs: options.scheduleMaxLatenessMs }),
  })
  // The periodic runs over every wallet, one at a time per process; a wallet's own (asked for it) always runs.
  const reconcileAll = oneRunAtATime(() => reconcile(deps, reconcileOptions))
  const maintainAll = oneRunAtATime(() => maintainSessions(deps, maintenance))
  const controlWorker = new Worker<ReconcileJobData>(queueNames.control, jobs.count(withStorableErrors(async (job: Job<ReconcileJobData>, token?: string) => {
    const { walletId } = job.data
    if (job.name === controlJobs.scheduleRun) return runScheduleJob(job, token)
    if (job.name === controlJobs.reconcile) return walletId ? reconcile(deps, { ...reconcileOptions, walletId }) : reconcileAll()
    if (job.name === controlJobs.maintainSessions) return walletId ? maintainSessions(deps, maintenance, walletId) : maintainAll()
    throw new Error(`unknown control job ${job.name}`)
  })), { connection: redis.open('control worker'), prefix, concurrency: 4, settings: controlQueueSettings })
  controlWorker.on('error', throttledErrorLog(options.log, 'control worker error'))
  // A run that fails whole (session maintenance, a reconciliation sweep, a schedule's run) is retried
  // by its scheduler; unlogged, maintenance failing run after run went unseen until sessions expired.
  const controlFailed = throttledErrorLog(options.log, 'control job failed')
  controlWorker.on('failed', (job, error) => controlFailed(error, { job: job?.name, walletId: job?.data.walletId, attempts: job?.attemptsMade }))
  const schedulerPeriods = { reconcileMs: intervalMs, maintenanceMs: options.maintenanceIntervalMs ?? 10_000 }

  // The loops below run every few hundred ms to seconds: while Postgres or Redis is down each would
  // log every run, so each logs a failure once and counts its repeats (throttledErrorLog).
  const relayer = startOutboxRelay({ db: options.db, database: options.database, queue: submitQueue, log: options.log, intervalMs: options.relayIntervalMs ?? 100, stopping: shutdown.signal })
  const relay = relayer.relay
  const repairs = startRepairSweeps({ db: options.db, submitQueue, controlQueue, schedulerPeriods, log: options.log, intervalMs: options.sweepIntervalMs ?? 5_000, sessions: deps.sessions, alert: deps.alert })
  const pruning = startHistoryPruning({ db: options.db, log: options.log, retentionDays: options.retentionDays ?? 0, intervalMs: options.pruneIntervalMs })

  const running = {
    deps,
    markets,
    submitQueue,
    controlQueue,
    owner,
    /**
     * Every Redis connection the worker works on, for its /readyz: a PING on each queue's and each
     * worker's own, and, for each worker's blocking one (a PING there would wait behind its wait for
     * jobs), whether it is connected.
     */
    redisProbes: [...redis.probes(), blockingProbe('submit worker', submitWorker), blockingProbe('control worker', controlWorker)],
    /** Whether the operator still verifies over the domain this process signs with (its /readyz asks). */
    operatorDomain,
    /** Relays due outbox rows now (intake calls this after committing). */
    relay,
    /** Runs session maintenance now (rotation near expiry, revocation of rotated-out sessions). */
    maintainSessions: (walletId?: string) => maintainSessions(deps, maintenance, walletId),
    /** Suspected compromise: stop the wallet's work, CancelAll, revoke every session, alert. */
    compromise: async (walletId: string, reason: string) => {
      const [wallet] = await deps.db.select({ address: wallets.address, custodyWalletId: wallets.custodyWalletId }).from(wallets).where(eq(wallets.id, walletId))
      return compromiseWallet(deps, options.keyring, { walletId, reason, walletSigner: wallet && maintenance.walletSignerFor(wallet) })
    },
    streams,
    /**
     * Answers whether the jobs finished within `timeoutMs`; false: jobs were left running (waiting on
     * a hanging Postgres or operator), to be re-run, and the process should exit saying so.
     */
    async close(timeoutMs = 20_000): Promise<boolean> {
      return closeWorker({
        log: options.log, shutdown, jobs, workers: [submitWorker, controlWorker], queues: [submitQueue, controlQueue],
        loops: () => ({
          // The relay's listener connection is closed within the budget too: a Postgres that hangs never answers its close.
          'outbox relay': Promise.all([relayer.stop(), relayer.settled()]),
          'queue workers': Promise.all([submitWorker.close(), controlWorker.close()]),
          'event streams': streams?.close(),
          'repair sweeps': repairs.close(),
          'history pruning': pruning.close(),
          'cancel lane': cancelLane.close(),
        }),
        closeAlerts: () => alerts.close(),
        closeRedis: () => redis.closeAll(),
      }, timeoutMs)
    },
  }

  // The last start-up steps wait for Redis (a worker restarted while it is down), the parts above
  // running meanwhile. Stopped while it waits (`startupSignal`), the wait ends, what runs is closed
  // as `close()` does, and the start rejects with the signal's reason; so it does on any other
  // failure there, never leaving a worker half-started.
  try {
    await untilAborted(syncSchedulersAtStartup(options.db, controlQueue, schedulerPeriods, options.log, options.startupSignal), options.startupSignal)
  } catch (error) {
    await running.close(options.shutdownTimeoutMs).catch((closeError: unknown) => options.log.error({ err: closeError }, 'closing a worker whose start failed failed'))
    throw error
  }
  return running
}
export type RunningWorker = Awaited<ReturnType<typeof startWorker>>
