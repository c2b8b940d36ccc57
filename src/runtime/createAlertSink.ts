import type { Logger } from 'pino'
import type { Db } from '../store/Database.js'
import { audit } from '../store/repositories/audit.js'
import type { WorkerDeps } from './deps.js'
import { errorMessage } from '../core/errors/errorMessage.js'

export type Alert = Parameters<WorkerDeps['alert']>[0]

export type AlertSinkOptions = {
  log: Logger
  db: Db
  /** `ALERT_WEBHOOK_URL`: each alert is POSTed there as JSON. Never logged: such URLs carry their own secret. */
  webhookUrl?: string
  webhookTimeoutMs?: number
  /** The same alert (wallet, code and details) raised again within this long is not sent again (default 1 h). */
  repeatAfterMs?: number
  now?: () => number
}

export type AlertSink = {
  raise: (alert: Alert) => void
  /** Resolves once every delivery started so far has ended (sent, or given up on). */
  settled: () => Promise<void>
}

/**
 * Where the worker's alerts go (the ones that need a human: a key integrity failure, an ACL
 * violation, a compromise, a session about to expire with nobody to rotate it, grants failing):
 * the log at `error`, the wallet's audit trail (`alert.<CODE>`, read with GET
 * /v1/wallets/{id}/audit), and, when configured, a webhook. The body carries `text` (so a Slack or
 * Mattermost incoming webhook shows it as is) beside the alert's fields. Delivery never throws and
 * never holds up the caller: a failed write or POST is logged at `warn`, once, and not retried.
 *
 * Some conditions are seen on every run of a periodic job (a session expiring with no signer to
 * rotate it: every maintenance run, for hours). The same alert (wallet, code and details) raised
 * again within `repeatAfterMs` of its last delivery by this process is only logged at `debug`.
 */
export function createAlertSink(options: AlertSinkOptions): AlertSink {
  const pending = new Set<Promise<void>>()
  const track = (delivery: Promise<void>) => {
    pending.add(delivery)
    void delivery.finally(() => pending.delete(delivery))
  }
  const timeoutMs = options.webhookTimeoutMs ?? 5_000
  const repeatAfterMs = options.repeatAfterMs ?? 3_600_000
  const now = options.now ?? Date.now
  const lastDelivered = new Map<string, number>()
  /** Whether this alert goes out (false: the same one went out less than `repeatAfterMs` ago). */
  const due = (alert: Alert): boolean => {
    const at = now()
    const key = `${alert.walletId}|${alert.code}|${JSON.stringify(alert.details ?? {})}`
    const last = lastDelivered.get(key)
    if (last !== undefined && at - last < repeatAfterMs) return false
    if (lastDelivered.size >= 10_000) for (const [k, t] of lastDelivered) if (at - t >= repeatAfterMs) lastDelivered.delete(k)
    lastDelivered.set(key, at)
    return true
  }

  return {
    raise(alert) {
      if (!due(alert)) {
        options.log.debug({ alert }, `ALERT ${alert.code} again (sent less than ${Math.round(repeatAfterMs / 60_000)} min ago): ${alert.message}`)
        return
      }
      options.log.error({ alert }, `ALERT ${alert.code}: ${alert.message}`)
      track(audit(options.db, { walletId: alert.walletId, actor: 'worker', action: `alert.${alert.code}`, details: { message: alert.message, ...alert.details } })
        .catch((error: unknown) => options.log.warn({ err: error, code: alert.code }, 'alert not written to the audit log')))
      if (options.webhookUrl) track(post(options.webhookUrl, alert, timeoutMs).catch((error: unknown) => {
        options.log.warn({ code: alert.code, reason: errorMessage(error) }, 'alert webhook delivery failed')
      }))
    },
    async settled() {
      while (pending.size) await Promise.allSettled([...pending])
    },
  }
}

async function post(url: string, alert: Alert, timeoutMs: number): Promise<void> {
  const body = { text: `Deputy ALERT ${alert.code} (wallet ${alert.walletId}): ${alert.message}`, ...alert, details: alert.details ?? {}, at: new Date().toISOString() }
  const response = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  })
  await response.body?.cancel()
  if (!response.ok) throw new Error(`the webhook answered HTTP ${response.status}`)
}
