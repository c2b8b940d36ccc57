/**
 * Every alert code Deputy raises (README, `ALERT_WEBHOOK_URL`). `/metrics` reports each in
 * `deputy_alerts{code}` from the start, at 0 until one is raised: a series that first appears at 1
 * is no increase to Prometheus (`increase`, `changes`), so a rule would miss the first alert of a code.
 */
export const alertCodes = [
  'KEY_INTEGRITY', 'OPERATOR_DOMAIN_CHANGED', 'SESSION_UNREVOKED', 'ACL_VIOLATION', 'SESSION_COMPROMISE', 'SESSION_EXPIRING',
  'SESSION_SCOPE', 'ORPHAN_UNCANCELLED', 'ORDER_UNCANCELLED', 'SESSION_GRANTS_FAILING', 'EVENT_UNAPPLIABLE', 'READ_UNAPPLIABLE',
  'EVENT_STREAM_STALLED', 'EVENT_GAP_STALLED', 'WORK_STALLED', 'SCHEDULE_SKIPPED', 'SCHEDULE_RUN_SKIPPED', 'RECONCILE_SKIPPED',
] as const

export type AlertCode = (typeof alertCodes)[number]

/**
 * The alerts that say money or a key is at risk now and a person must act at once: a session key
 * that is not the delegated one or is compromised, a delegation still live that should be revoked,
 * an ACL refusal, the operator verifying over another domain (all work waits), and orders live at
 * the operator that Deputy failed to cancel. The webhook sends them before the others waiting for a
 * free POST, and their body's `severity` is `critical` (the others' `warning`), for routing (a pager
 * rather than a channel). The others say work is held, late or was passed over.
 */
export const criticalAlertCodes: readonly AlertCode[] = [
  'KEY_INTEGRITY', 'SESSION_COMPROMISE', 'SESSION_UNREVOKED', 'ACL_VIOLATION', 'OPERATOR_DOMAIN_CHANGED', 'ORDER_UNCANCELLED', 'ORPHAN_UNCANCELLED',
]

export type AlertSeverity = 'critical' | 'warning'

export function alertSeverity(code: AlertCode): AlertSeverity {
  return criticalAlertCodes.includes(code) ? 'critical' : 'warning'
}
