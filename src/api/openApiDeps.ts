import { Queue } from 'bullmq'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { createNonceGenerator } from '../core/requests/createNonceGenerator.js'
import { redisConnections } from '../queue/redisConnections.js'
import { queueNames } from '../queue/names.js'
import { controlQueueSettings } from '../queue/scheduleRepeatStrategy.js'
import type { WorkerDeps } from '../runtime/deps.js'
import { waitForOperator } from '../runtime/waitForOperator.js'
import { createOperatorClock } from '../runtime/operatorClock.js'
import { createOperatorDomainWatch } from '../runtime/operatorDomain.js'
import { createSessionSigners } from '../runtime/sessionSigners.js'
import { shortDeadlineMs } from '../core/requests/shortDeadlineMs.js'
import { createSessionRateLimits } from '../runtime/sessionRateLimits.js'
import { createWalletSignerRegistry } from '../runtime/walletSignerRegistry.js'
import { checkLocalSettings } from '../runtime/checkLocalSettings.js'
import { migrateAtStartup } from '../runtime/migrateAtStartup.js'
import { checkMasterKeysAtStartup } from '../runtime/sessions/checkMasterKeysAtStartup.js'
import { throttledErrorLog } from '../runtime/throttledErrorLog.js'
import { openConfiguredDatabase } from '../store/openConfiguredDatabase.js'
import { createLiveProbe } from '../runtime/sessions/createLiveProbe.js'
import { createAlertSink } from '../runtime/createAlertSink.js'
import { createVenueClient } from '../venue/createVenueClient.js'
import type { ApiDeps } from './ApiDeps.js'

/**
 * API deps for a process of its own (`deputy api`): its own database pool,
 * Redis connections to the worker's queues (same `QUEUE_PREFIX`), and the
 * operator's domain and markets read once at start. The domain is watched as the worker's is
 * (`operatorDomain`): a refused signature, or the readiness check's read of /v1/info, shows it
 * changed, and grants, rotations and revocations are then refused rather than signed over the old
 * one. `close()` releases them.
 */
export async function openApiDeps(config: Config, log: Logger, signal?: AbortSignal): Promise<ApiDeps & { close(): Promise<void> }> {
  const { keyring, custody, localKeys } = checkLocalSettings(config)
  const database = await openConfiguredDatabase(config, log)
  const redis = redisConnections(config.REDIS_URL, `${config.QUEUE_PREFIX}:deputy-api`, { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, socketTimeoutMs: config.REDIS_SOCKET_TIMEOUT_MS })
  try {
    // A stop while it waits for Postgres (`signal`) ends the wait too.
    await migrateAtStartup(database, log, { signal })
    // A master key that does not open the sessions it sealed: a ConfigError now, not failed grants and revocations later
    // (a dropped connection meanwhile is waited out, as for the migrations).
    await checkMasterKeysAtStartup(database.db, keyring, log, signal)
    const venue = createVenueClient({ baseUrl: config.OPERATOR_URL, timeoutMs: config.OPERATOR_TIMEOUT_MS })
    // A stop while it waits (`signal`) ends the wait; what was opened is closed below.
    const { info, domain, offsetMs, markets } = await waitForOperator(venue, log, Date.now, signal)
    const now = Date.now
    // Measured again, as the worker's, when the operator refuses a deadline: this host's clock may step.
    const operatorClock = createOperatorClock(venue, now, offsetMs, log)
    venue.remeasureClockWith(operatorClock.resync)
    const operatorNow = operatorClock.now
    // Audited as the API's: a compromise's SESSION_COMPROMISE, a grant's OPERATOR_DOMAIN_CHANGED.
    const alerts = createAlertSink({ log, db: database.db, actor: 'api', webhookUrl: config.ALERT_WEBHOOK_URL })
    // Read again only when the operator refuses a signature (or by /readyz, which reads /v1/info anyway).
    const operatorDomain = createOperatorDomainWatch({ venue, domain, log, now })
    const runtime: WorkerDeps = {
      db: database.db, venue, domain, operatorDomain, maxDeadlineMs: info.maxDeadlineMs, now, operatorNow, resyncOperatorClock: operatorClock.resync, log,
      sessions: createSessionSigners({ db: database.db, keyring, domain, now: operatorNow, readDeadlineMs: shortDeadlineMs(info.maxDeadlineMs, 30_000) }),
      // On the operator's clock, as the worker's: the two sign for the same session keys.
      nonces: createNonceGenerator(operatorNow),
      rateLimits: createSessionRateLimits(now),
      alert: alerts.raise,
    }
    // Named as the worker names its queues' connections: /readyz pings each (`redis.probes()`).
    const submitQueue = redis.queue((connection) => new Queue(queueNames.submit, { connection, prefix: config.QUEUE_PREFIX }), 'submit queue')
    const controlQueue = redis.queue((connection) => new Queue(queueNames.control, { connection, prefix: config.QUEUE_PREFIX, settings: controlQueueSettings }), 'control queue')
    // Without a listener BullMQ prints each of a queue's errors to stderr (every failed reconnect while Redis is down).
    submitQueue.on('error', throttledErrorLog(log, 'submit queue error'))
    controlQueue.on('error', throttledErrorLog(log, 'control queue error'))
    return {
      runtime, markets, keyring, submitQueue, controlQueue, redisProbes: redis.probes(),
      walletSigners: createWalletSignerRegistry({
        localKeys,
        allowLocal: config.WALLET_SIGNER === 'local',
        // WALLET_SIGNER=privy: a wallet registered with its custodyWalletId signs through Privy.
        fallback: custody.for,
      }),
      adminToken: config.ADMIN_TOKEN,
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
      sessionLifetimeSeconds: config.SESSION_LIFETIME_SECONDS,
      sessionRotateLeadSeconds: config.SESSION_ROTATE_LEAD_SECONDS,
      scheduleMinIntervalSeconds: config.SCHEDULE_MIN_INTERVAL_SECONDS,
      rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
      tokenFailuresPerMinute: config.TOKEN_FAILURES_PER_MINUTE,
      ...(config.TRUST_PROXY === undefined ? {} : { trustProxy: config.TRUST_PROXY }),
      ...(config.SESSION_LIVE_PROBE ? { probe: createLiveProbe({ ...runtime, keyring, markets }) } : {}),
      async close() {
        await Promise.all([submitQueue.close(), controlQueue.close(), alerts.close()])
        await redis.closeAll()
        await database.close()
      },
    }
  } catch (error) {
    await redis.closeAll()
    await database.close()
    throw error
  }
}
