/** `deputy worker`: runs the worker until SIGTERM/SIGINT, then shuts down gracefully. */
import { ConfigError, loadConfig } from '../config.js'
import { createLogger } from '../logger.js'
import { openConfiguredDatabase } from '../store/openConfiguredDatabase.js'
import { createWalletSignerRegistry } from '../runtime/walletSignerRegistry.js'
import { checkLocalSettings } from '../runtime/checkLocalSettings.js'
import { migrateAtStartup } from '../runtime/migrateAtStartup.js'
import { checkMasterKeysAtStartup } from '../runtime/sessions/checkMasterKeysAtStartup.js'
import { type RunningWorker, startWorker } from '../worker.js'
import { closeDatabaseWithin } from './closeDatabaseWithin.js'
import { exitOnCrash } from './exitOnCrash.js'
import { SHUTDOWN_FORCED } from './onShutdownSignal.js'
import { startUntilStopped } from './startUntilStopped.js'
import { startWorkerHealth } from './startWorkerHealth.js'

/** How long a stopping worker waits for its Postgres pool to close (its connections in use released, its connects answered). */
const DATABASE_CLOSE_WAIT_MS = 5_000

const { config, keyring, custody, localKeys } = readSettings()
const log = createLogger(config.LOG_LEVEL, 'deputy-worker')
exitOnCrash(log)
// WALLET_SIGNER=privy: rotations ask each wallet's Privy embedded wallet to sign the new Delegation.
// Development: the API's wallets in DEV_WALLET_KEYS can be rotated by this process too.
const signers = createWalletSignerRegistry({ localKeys, fallback: (wallet) => custody.for(wallet) })
// WORKER_HEALTH_PORT: answers a supervisor's probes from now on (starting, then ready, then stopping).
const health = await startWorkerHealth(config, log)
const database = await openConfiguredDatabase(config, log)
// The jobs get SHUTDOWN_TIMEOUT_MS; closing the queues, Redis and Postgres after them gets 10 s more.
// Jobs left running at their deadline, or a pool Postgres does not let close (a paused server holding
// its connects), force the stop: exit code 1, after 'shutdown forced'. What was left is re-run.
const worker = await startUntilStopped(log, start, async (started) => {
  try {
    const finished = (await started?.close(config.SHUTDOWN_TIMEOUT_MS)) ?? true
    const closed = await closeDatabaseWithin(database, log, DATABASE_CLOSE_WAIT_MS)
    return finished && closed ? undefined : SHUTDOWN_FORCED
  } finally {
    await health.close()
  }
}, { deadlineMs: config.SHUTDOWN_TIMEOUT_MS + 10_000 }).catch(async (error: unknown) => {
  // A setting only the database can refute (a master key that does not open the sessions it sealed):
  // exit 2 and one line, as a bad setting read above. Any other failure of the start (what started
  // is closed by then): logged fatal, exit 1, for the supervisor to start it again; left to the CLI,
  // the health server and the pool kept a process that did nothing alive.
  if (error instanceof ConfigError) process.stderr.write(`deputy: configuration: ${error.message}\n`)
  else log.fatal({ err: error }, 'worker start-up failed')
  await closeDatabaseWithin(database, log, DATABASE_CLOSE_WAIT_MS)
  await health.close()
  process.exit(error instanceof ConfigError ? 2 : 1)
})
if (worker) {
  health.started({ db: database.db, redis: worker.redisProbes, operatorDomain: worker.operatorDomain })
  log.info({ owner: worker.owner }, 'worker started')
}

/**
 * Every setting, the master key's and the custody signer's included, before anything else. A bad one
 * stops the process with exit code 2 and one line naming the variable and its rule (never its value),
 * run as `deputy worker` or as this file (the bench and the drill start it so).
 */
function readSettings() {
  try {
    const config = loadConfig()
    return { config, ...checkLocalSettings(config) }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`deputy: configuration: ${error.message}\n`)
    process.exit(2)
  }
}

async function start(signal: AbortSignal): Promise<RunningWorker | undefined> {
  // Aborted on the first SIGTERM or SIGINT, whether the worker still starts or runs.
  signal.addEventListener('abort', () => health.stopping(), { once: true })
  await migrateAtStartup(database, log, { signal })
  if (signal.aborted) return undefined
  // A master key that does not open the sessions it sealed: a ConfigError (exit 2), not every signature failing later.
  // A dropped connection meanwhile is waited out, as for the migrations.
  await checkMasterKeysAtStartup(database.db, keyring, log, signal)
  if (signal.aborted) return undefined
  return startWorker({
    startupSignal: signal,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    walletSignerFor: (wallet) => signers.signerFor(wallet),
    sessionLifetimeSeconds: config.SESSION_LIFETIME_SECONDS,
    rotateLeadSeconds: config.SESSION_ROTATE_LEAD_SECONDS,
    liveProbe: config.SESSION_LIVE_PROBE,
    db: database.db,
    database,
    redisUrl: config.REDIS_URL,
    redisCommandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
    redisSocketTimeoutMs: config.REDIS_SOCKET_TIMEOUT_MS,
    queuePrefix: config.QUEUE_PREFIX,
    operatorUrl: config.OPERATOR_URL,
    operatorTimeoutMs: config.OPERATOR_TIMEOUT_MS,
    streamIdleTimeoutMs: config.EVENT_STREAM_IDLE_TIMEOUT_MS,
    keyring,
    log,
    concurrency: config.WORKER_CONCURRENCY,
    reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
    orphanPolicy: config.ORPHAN_POLICY,
    relayIntervalMs: config.RELAY_INTERVAL_MS,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    retentionDays: config.RETENTION_DAYS,
    feeReserveBps: config.REBALANCE_FEE_RESERVE_BPS,
    scheduleMaxLatenessMs: config.SCHEDULE_MAX_LATENESS_MS,
    alertWebhookUrl: config.ALERT_WEBHOOK_URL,
  })
}
