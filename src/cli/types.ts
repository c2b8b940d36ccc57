import type { z } from 'zod'
import type { AuditPage, Order, OrderWithFills, Policy, Schedule, ScheduleRun, Session, Wallet, Work } from '../api/schemas/resources.js'

/* What the API answers, typed from the same zod schemas that validate and document it. */
export type WalletDto = z.output<typeof Wallet>
export type SessionDto = z.output<typeof Session>
export type OrderDto = z.output<typeof Order>
export type OrderWithFillsDto = z.output<typeof OrderWithFills>
export type ScheduleDto = z.output<typeof Schedule>
export type ScheduleRunDto = z.output<typeof ScheduleRun>
export type PolicyDto = z.output<typeof Policy>
export type QueuedDto = { outboxId: string; status: 'queued' }
export type WorkDto = z.output<typeof Work>
export type AuditPageDto = z.output<typeof AuditPage>
export type QueueHealthDto = { paused: boolean }
export type QueuedWorkDto = { queued: number; held: number; failed: number }
export type StatusDto = { wallets: WalletDto[]; sessions: SessionDto[]; workingOrders: OrderDto[]; schedules: ScheduleDto[]; work: QueuedWorkDto; queues: Record<string, QueueHealthDto> | null; queuesUnavailable?: string }
