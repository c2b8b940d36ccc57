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
