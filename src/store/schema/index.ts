/*
 * The database schema, one table per file. drizzle-kit reads this file to
 * generate migrations (drizzle.config.ts), so every table must be exported here.
 */
import { alertDeliveries } from './alertDeliveries.js'
import { apiKeys } from './apiKeys.js'
import { auditLog } from './auditLog.js'
import { events } from './events.js'
import { fills } from './fills.js'
import { idempotencyKeys } from './idempotencyKeys.js'
import { intents } from './intents.js'
import { orders } from './orders.js'
import { outbox } from './outbox.js'
import { policies } from './policies.js'
import { requests } from './requests.js'
import { scheduleRuns } from './scheduleRuns.js'
import { schedules } from './schedules.js'
import { sessions } from './sessions.js'
import { streamCursors } from './streamCursors.js'
import { tenants } from './tenants.js'
import { wallets } from './wallets.js'

export { type AlertDeliveryRow, type NewAlertDeliveryRow, type StoredAlert, alertDeliveries } from './alertDeliveries.js'
export { type ApiKeyRow, type NewApiKeyRow, apiKeys } from './apiKeys.js'
export { type AuditActor, type AuditLogRow, type NewAuditLogRow, auditLog } from './auditLog.js'
export { type EventRow, type NewEventRow, events } from './events.js'
export { type FillRow, type NewFillRow, fills } from './fills.js'
export { type IdempotencyKeyRow, type NewIdempotencyKeyRow, idempotencyKeys } from './idempotencyKeys.js'
export { type IntentKind, type IntentRow, type IntentStatus, type NewIntentRow, intentKinds, intentStatuses, intents } from './intents.js'
export { type NewOrderRow, type OrderRow, type OrderState, orderStates, orders } from './orders.js'
export { type NewOutboxRow, type OutboxRow, type OutboxStatus, outbox, outboxStatuses, unfinishedOutboxStatuses } from './outbox.js'
export { type NewPolicyRow, type PolicyRow, policies } from './policies.js'
export { type NewRequestRow, type RequestRow, type RequestStatus, requestStatuses, requests } from './requests.js'
export {
  type NewScheduleRunRow, type RunAdjustment, type RunHolding, type RunLeg, type RunSkip, type ScheduleRunRow, type ScheduleRunStage, type ScheduleRunStatus,
  scheduleRunStages, scheduleRunStatuses, scheduleRuns,
} from './scheduleRuns.js'
export { type NewScheduleRow, type ScheduleRow, type ScheduleStatus, scheduleStatuses, schedules } from './schedules.js'
export { type NewSessionRow, type SessionRow, type SessionStatus, sessionStatuses, sessions } from './sessions.js'
export { type NewStreamCursorRow, type StreamCursorRow, streamCursors } from './streamCursors.js'
export { type NewTenantRow, type TenantRow, tenants } from './tenants.js'
export { type NewWalletRow, type WalletRow, type WalletStatus, walletStatuses, wallets } from './wallets.js'

/** Every table, as handed to drizzle so `db.query.<table>` works. */
export const schema = {
  auditLog, events, fills, intents, orders, outbox, policies, requests, scheduleRuns, schedules, sessions, streamCursors, wallets,
  tenants, apiKeys, idempotencyKeys, alertDeliveries,
}
export type Schema = typeof schema
