import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { defaultWebhookRetryPolicy, type WebhookRetryPolicy } from '../core/alerts/webhookRetryDelay.js'
import type { Db, Tx } from '../store/Database.js'
import { type AlertClaim, claimAlert } from '../store/repositories/claimAlert.js'
import { markAlertDelivered } from '../store/repositories/alertDelivered.js'
import { claimUndelivered } from '../store/repositories/claimUndelivered.js'
import { pruneAlertDeliveries } from '../store/repositories/pruneAlertDeliveries.js'
import { releaseAlert } from '../store/repositories/releaseAlert.js'
import type { AuditActor } from '../store/schema/index.js'
import { AlertNotDelivered, createWebhookSender } from './createWebhookSender.js'
import type { WorkerDeps } from './deps.js'
import { errorMessage } from '../core/errors/errorMessage.js'

export type Alert = Parameters<WorkerDeps['alert']>[0]

export type AlertSinkOptions = {
  log: Logger
  db: Db
  /** Who raised the alerts, in their audit entries: `worker` (the default), or `api` for the API process. */
  actor?: AuditActor
  /** `ALERT_WEBHOOK_URL`: each alert is POSTed there as JSON. Never logged: such URLs carry their own secret. */
  webhookUrl?: string
  webhookTimeoutMs?: number
  /** How a failed POST is retried (default `defaultWebhookRetryPolicy`: six POSTs over at most two minutes). */
  webhookRetry?: WebhookRetryPolicy
  /** POSTs on the wire at once, at most (default 4). */
  webhookConcurrency?: number
  /** Alerts under way to the webhook at most (default 500); one more is given up at once, as a failed delivery. */
  webhookMaxWaiting?: number
  /** The same alert (wallet, code and details) raised again within this long, by any process, is not sent again (default 1 h). */
  repeatAfterMs?: number
  /**
   * An alert claimed this long ago whose POST never ended (its process died: SIGKILL, OOM) is sent by
   * this process's sweep (default 5 min, and at least a minute past the retry policy's give-up).
   */
  undeliveredAfterMs?: number
  /** How often this process sweeps for such alerts, when it has a webhook (default 1 min). */
  sweepIntervalMs?: number
  now?: () => number
}

export type AlertSink = {
  raise: (alert: Alert) => void
  /**
   * Claims the alert inside `tx`, the transaction that writes what it reports (a session
   * quarantined, an order failed on an ACL violation), and answers what to call once `tx` has
   * committed: the error log and the webhook POST. The alert then exists if and only if what it
   * reports does: a process dying between the commit and the POST leaves a claim never delivered,
   * which a sweep (`resendUndelivered`) sends, as it does one whose POST was given up (its retries
   * spent, or the process stopping): another occurrence of what it reports may never come. A
   * rollback takes the claim and its audit entry with it. Held back as `raise` is (this process's memory, and another's delivery within
   * `repeatAfterMs`). The claim runs under a savepoint: should Postgres refuse it, `tx` goes on and
   * the call after the commit raises the alert as `raise` does.
   */
  claimWithin: (tx: Tx, alert: Alert) => Promise<() => void>
  /** Resolves once every delivery started so far has ended (sent, or given up on after its retries). */
  settled: () => Promise<void>
  /**
   * Sends the alerts whose POST never ended (`undeliveredAfterMs`), claiming them again first, and
   * answers how many; what the sweep runs every `sweepIntervalMs`. Nothing without a webhook.
   */
  resendUndelivered: () => Promise<number>
  /**
   * For a process stopping: no further POST or retry; the deliveries waiting for one are given up
   * now (as a failed delivery: their next occurrence goes out; one claimed with what it reports, or
   * sent by a sweep, is left to the sweep). Resolves once every delivery ended.
   */
  close: () => Promise<void>
}

/**
 * Where the worker's alerts go (the ones that need a human: a key integrity failure, an ACL
 * violation, a compromise, a session about to expire with nobody to rotate it, grants failing):
 * the log at `error`, the wallet's audit trail (`alert.<CODE>`, read with GET
 * /v1/wallets/{id}/audit), and, when configured, a webhook (`postAlert`). Delivery never throws and
 * never holds up the caller. A failed write is logged at `warn`. A failed POST that another may
 * change (no answer, 429, 5xx) is retried with a backoff, Retry-After honoured, at most
 * `webhookConcurrency` POSTs at once (`createWebhookSender`), so a burst (a domain change seen for
 * every wallet) is not lost to the webhook's rate limit; once given up, it is logged at `warn`,
 * once, and the alert is not held back (below): its next occurrence is sent.
 *
 * Some conditions are seen on every run of a periodic job (a session expiring with no signer to
 * rotate it: every maintenance run, for hours), and by every worker process running it. The same
 * alert (wallet, code and details) goes out, to the audit trail and the webhook, once per
 * `repeatAfterMs` across the processes sharing Postgres, restarted ones included: before either,
 * the sink claims it in `alert_deliveries` together with its audit entry (`claimAlert`), and a
 * process that loses the claim logs at `debug` and sends nothing. A delivery given up releases
 * its claim (`releaseAlert`) and this process's memory of it, but for an alert claimed with what it
 * reports (`claimWithin`) or sent by a sweep, which the sweep sends again. Each process still logs an alert
 * at `error` when it first sees it, and its own repeats within `repeatAfterMs` only at `debug`
 * (its memory: Postgres is not asked again). With Postgres unreachable the alert goes out from
 * each process as its memory allows (see `deliver`), so it is never lost to the record.
 *
 * The claim keeps the alert, and records when its POST succeeded: one whose process died before the
 * POST ended (SIGKILL, OOM; a stop gives its POSTs up and releases them) held the alert back for the
 * hour, never delivered, a one-off KEY_INTEGRITY lost to the pager. Every process with a webhook
 * sweeps for such claims (`resendUndelivered`) and sends them, each from one process.
 */
export function createAlertSink(options: AlertSinkOptions): AlertSink {
  const pending = new Set<Promise<void>>()
  const track = (delivery: Promise<void>) => {
    pending.add(delivery)
    void delivery.finally(() => pending.delete(delivery))
  }
  const { log, db } = options
  const actor = options.actor ?? 'worker'
  const repeatAfterMs = options.repeatAfterMs ?? 3_600_000
  const minutes = Math.round(repeatAfterMs / 60_000)
  const now = options.now ?? Date.now
  const webhook = options.webhookUrl === undefined ? undefined : createWebhookSender({
    url: options.webhookUrl, timeoutMs: options.webhookTimeoutMs ?? 5_000, retry: options.webhookRetry ?? defaultWebhookRetryPolicy,
    concurrency: options.webhookConcurrency ?? 4, maxWaiting: options.webhookMaxWaiting ?? 500, now: Date.now,
  })
  const lastDelivered = new Map<string, number>()
  const keyOf = (alert: Alert) => `${alert.walletId}|${alert.code}|${JSON.stringify(alert.details ?? {})}`
  let lastPruned = -Infinity
  /**
   * Whether this process has not itself seen this alert go out (or held back) in the last
   * `repeatAfterMs`: the cheap first filter, so a condition seen on every run asks Postgres once an hour.
   */
  const heldBack = (key: string, at: number): boolean => {
    const last = lastDelivered.get(key)
    return last !== undefined && at - last < repeatAfterMs
  }
  const remember = (key: string, at: number) => {
    if (lastDelivered.size >= 10_000) for (const [k, t] of lastDelivered) if (at - t >= repeatAfterMs) lastDelivered.delete(k)
    lastDelivered.set(key, at)
  }
  const due = (alert: Alert, at: number): boolean => {
    const key = keyOf(alert)
    if (heldBack(key, at)) return false
    remember(key, at)
    return true
  }
  const claimOf = (alert: Alert, at: number) => {
    const details = alert.details ?? {}
    return { walletId: alert.walletId, code: alert.code, detailsHash: createHash('sha256').update(JSON.stringify(details), 'utf8').digest('hex'), at: new Date(at) }
  }
  type ClaimKey = ReturnType<typeof claimOf>
  const claimIn = (executor: Db, alert: Alert, at: number, claim: ClaimKey): Promise<boolean> => {
    const details = alert.details ?? {}
    return claimAlert(executor, {
      ...claim, repeatAfter: new Date(at - repeatAfterMs),
      audit: { actor, action: `alert.${alert.code}`, details: { message: alert.message, ...details } },
      alert: { walletId: alert.walletId, code: alert.code, message: alert.message, details, at }, delivered: !webhook,
    })
  }
  const notSent = (alert: Alert) =>
    log.debug({ alert }, `ALERT ${alert.code} not sent: another process (or an earlier run) sent it less than ${minutes} min ago`)

  const deliver = async (alert: Alert, at: number): Promise<void> => {
    const claim = claimOf(alert, at)
    let claimed: boolean
    let recorded = true
    try {
      claimed = await claimIn(db, alert, at, claim)
    } catch (error) {
      // Postgres is down (or refused the claim): the alert is not held back for it. It goes out as
      // it did before the record was shared, once an hour by this process (its memory alone), so
      // with several processes each may send it; its audit entry could not be written.
      log.warn({ err: error, code: alert.code }, 'alert not written to the audit log (sent without asking whether another process did)')
      claimed = true
      recorded = false
    }
    if (!claimed) return notSent(alert)
    await pruneNow(at)
    await post(alert, at, claim, recorded ? 'released' : 'none')
  }
  const pruneNow = async (at: number) => {
    if (at - lastPruned < repeatAfterMs) return
    lastPruned = at
    await pruneAlertDeliveries(db, new Date(at - repeatAfterMs))
      .catch((error: unknown) => log.debug({ err: error }, 'old alert deliveries not pruned (the next delivery tries again)'))
  }

  /**
   * How a claimed alert's POST given up leaves its claim: `released` (raised on its own, its next
   * occurrence goes out), `keptForTheSweep` (claimed with what it reports, or sent again by a sweep:
   * another occurrence may never come, so a sweep sends it again; a stop or a full queue gives up
   * such POSTs too), or `none` (Postgres could not record it).
   */
  type Recorded = 'released' | 'keptForTheSweep' | 'none'
  /**
   * POSTs a claimed alert (raised at `at`). Delivered, its claim records it (no sweep sends it again);
   * given up, as `recorded` says.
   */
  const post = async (alert: Alert, at: number, claim: Pick<AlertClaim, 'walletId' | 'code' | 'detailsHash' | 'at'>, recorded: Recorded): Promise<void> => {
    if (!webhook) return
    try {
      await webhook.send(alert, at)
    } catch (error) {
      const attempts = error instanceof AlertNotDelivered ? error.attempts : undefined
      if (recorded === 'keptForTheSweep') {
        if (!(error instanceof AlertNotDelivered && error.refused)) {
          // Its next occurrence may never come (a quarantine happens once): left undelivered, it is
          // sent by a sweep (any process's, this one's included), until delivered or a day after it was raised.
          log.warn({ code: alert.code, attempts, reason: errorMessage(error) }, 'alert webhook delivery failed; a sweep sends it again')
          return
        }
        // Refused by an answer that retrying cannot change (a webhook deleted or misconfigured): no sweep
        // sends it again (it stays in the log and the audit trail), as an alert raised on its own is not retried.
        log.warn({ code: alert.code, attempts, reason: errorMessage(error) }, 'alert webhook refused it; not sent again')
        await markAlertDelivered(db, claim).catch((markError: unknown) =>
          log.warn({ err: markError, code: alert.code }, 'refused alert not recorded as given up: a sweep may send it again'))
        return
      }
      log.warn({ code: alert.code, attempts, reason: errorMessage(error) }, 'alert webhook delivery failed')
      // Not held back for the hour: the next occurrence, here or in another process, is sent.
      if (lastDelivered.get(keyOf(alert)) === at) lastDelivered.delete(keyOf(alert))
      if (recorded === 'released') {
        await releaseAlert(db, claim).catch((releaseError: unknown) =>
          log.warn({ err: releaseError, code: alert.code }, 'undelivered alert still held back for the hour (its claim could not be released)'))
      }
      return
    }
    if (recorded !== 'none') {
      await markAlertDelivered(db, claim).catch((markError: unknown) =>
        log.warn({ err: markError, code: alert.code }, 'alert delivered, not recorded as delivered: a sweep may send it again'))
    }
  }

  const undeliveredAfterMs = options.undeliveredAfterMs ?? Math.max(300_000, (options.webhookRetry ?? defaultWebhookRetryPolicy).giveUpAfterMs + 60_000)
  const resendUndelivered = async (): Promise<number> => {
    if (!webhook) return 0
    const at = now()
    const found = await claimUndelivered(db, new Date(at), new Date(at - undeliveredAfterMs))
    for (const claim of found) {
      const { at: raisedAt, ...alert } = claim.alert
      log.warn({ code: claim.code, walletId: claim.walletId, raisedAt: new Date(raisedAt).toISOString() }, 'alert not delivered yet (its POST never ended, or was given up) sent again')
      track(post(alert as Alert, raisedAt, claim, 'keptForTheSweep'))
    }
    return found.length
  }
  const sweep = webhook && setInterval(() => {
    resendUndelivered().catch((error: unknown) => log.warn({ err: error }, 'sweep for undelivered alerts failed (the next one tries again)'))
  }, options.sweepIntervalMs ?? 60_000)
  sweep?.unref()

  const raise = (alert: Alert) => {
    const at = now()
    if (!due(alert, at)) {
      log.debug({ alert }, `ALERT ${alert.code} again (sent less than ${minutes} min ago): ${alert.message}`)
      return
    }
    // Logged at once by the process that saw it, before Postgres is asked whether it goes out.
    log.error({ alert }, `ALERT ${alert.code}: ${alert.message}`)
    track(deliver(alert, at))
  }

  const claimWithin = async (tx: Tx, alert: Alert): Promise<() => void> => {
    const at = now()
    const key = keyOf(alert)
    if (heldBack(key, at)) return () => log.debug({ alert }, `ALERT ${alert.code} again (sent less than ${minutes} min ago): ${alert.message}`)
    const claim = claimOf(alert, at)
    let claimed: boolean
    try {
      claimed = await tx.transaction((savepoint) => claimIn(savepoint, alert, at, claim))
    } catch (error) {
      log.warn({ err: error, code: alert.code }, 'alert not claimed with what it reports; raised once that is written')
      return () => raise(alert)
    }
    return () => {
      remember(key, at)
      // Logged by the process that saw it, as `raise` does, whether or not it goes out from here.
      log.error({ alert }, `ALERT ${alert.code}: ${alert.message}`)
      if (!claimed) return notSent(alert)
      track(pruneNow(at).then(() => post(alert, at, claim, 'keptForTheSweep')))
    }
  }

  const settled = async () => {
    while (pending.size) await Promise.allSettled([...pending])
  }
  return {
    raise,
    claimWithin,
    settled,
    resendUndelivered,
    async close() {
      if (sweep) clearInterval(sweep)
      webhook?.stop()
      await settled()
    },
  }
}
