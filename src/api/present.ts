import type { z } from 'zod'
import { formatAmount, parseAmount, parseSignedAmount } from '../core/money/decimal.js'
import type { FillRow, OrderRow, OutboxRow, PolicyRow, RequestRow, ScheduleRow, ScheduleRunRow, SessionRow, WalletRow } from '../store/schema/index.js'
import type { Fill, Order, Policy, Schedule, ScheduleRun, Session, Wallet, Work } from './schemas/resources.js'

/*
 * Rows as the API shows them. Each function picks fields explicitly, so a new
 * column (or a secret such as `sealed_private_key`) never leaks by default.
 */

const iso = (date: Date): string => date.toISOString()
const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null)
/** Postgres pads numerics to their scale; answer the shortest exact decimal. */
const plain = (value: string): string => formatAmount(parseAmount('amount', value))
/** A fee: negative when the operator paid a maker rebate. */
const signedPlain = (value: string): string => formatAmount(parseSignedAmount('fee', value))
const tifNames = ['GTC', 'IOC', 'POST_ONLY'] as const

/** See `presentWallets`, which reads what the last two need. */
export function presentWallet(row: WalletRow, canSignDelegation: boolean, automaticGrantsWaitUntil: Date | null): z.output<typeof Wallet> {
  return {
    id: row.id, address: row.address, status: row.status, haltedReason: row.haltedReason, canSignDelegation,
    automaticGrantsWaitUntil: isoOrNull(automaticGrantsWaitUntil), createdAt: iso(row.createdAt),
  }
}

/** `operatorNowMs`: the operator's clock, which the session's expiry is on (`WorkerDeps.operatorNow`). */
export function presentSession(row: SessionRow, operatorNowMs: number): z.output<typeof Session> {
  return {
    id: row.id, walletId: row.walletId, status: row.status, statusReason: row.statusReason, publicKey: row.publicKey,
    aclScope: [...row.aclScope], chosenScope: row.chosenScope ? [...row.chosenScope] : null, expiry: iso(row.expiry), expiresInSeconds: Math.max(0, row.expiryUnix - Math.floor(operatorNowMs / 1000)),
    delegationHash: row.delegationHash, walletSigner: row.walletSigner,
    createdAt: iso(row.createdAt), activatedAt: isoOrNull(row.activatedAt), revokedAt: isoOrNull(row.revokedAt), failedAt: isoOrNull(row.failedAt),
  }
}

export function presentOrder(row: OrderRow, intent: { clientRef: string | null; scheduleId: string | null } | null): z.output<typeof Order> {
  return {
    id: row.id, walletId: row.walletId, clientOrderId: row.clientOrderId, clientRef: intent?.clientRef ?? null, scheduleId: intent?.scheduleId ?? null,
    market: row.market, side: row.side === 0 ? 'buy' : 'sell', price: plain(row.price), size: plain(row.size), timeInForce: row.timeInForce === null ? null : tifNames[row.timeInForce],
    state: row.state, filled: plain(row.filled), averagePrice: row.averagePrice === null ? null : plain(row.averagePrice), fees: signedPlain(row.fees),
    venueOrderId: row.venueOrderId, sessionId: row.sessionId, cancelReason: row.cancelReason, replacedBy: row.replacedBy, rejectCode: row.rejectCode, rejectReason: row.rejectReason,
    adoptedAt: isoOrNull(row.adoptedAt), createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt),
  }
}

export function presentFill(row: FillRow): z.output<typeof Fill> {
  return { fillId: row.fillId, price: plain(row.price), size: plain(row.size), fee: signedPlain(row.fee), at: iso(row.at) }
}

const workStatus = { pending: 'queued', enqueued: 'queued', held: 'held', done: 'done', failed: 'failed' } as const

/** An outbox row and the requests signed for it (oldest first). */
export function presentWork(row: OutboxRow, signed: readonly RequestRow[]): z.output<typeof Work> {
  const status = workStatus[row.status]
  const accepted = signed.some((r) => r.status === 'accepted')
  return {
    outboxId: row.id, kind: row.kind, walletId: row.walletId, orderId: row.orderId, status, accepted,
    // A row queued again keeps the reason it was held for; only a settled or held row's reason is current.
    note: status === 'queued' || accepted ? null : row.lastError,
    requests: signed.map((r) => ({
      family: r.family, status: r.status, duplicate: r.duplicate, errorCode: r.errorCode, errorMessage: r.errorMessage,
      createdAt: iso(r.createdAt), sentAt: isoOrNull(r.sentAt), completedAt: isoOrNull(r.completedAt),
    })),
    createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt),
  }
}

export function presentSchedule(row: ScheduleRow): z.output<typeof Schedule> {
  return {
    id: row.id, walletId: row.walletId, targets: Object.fromEntries(Object.entries(row.targets).map(([asset, weight]) => [asset, plain(weight)])),
    cron: row.cron, timeZone: row.timeZone, toleranceBand: plain(row.toleranceBand), minTradeNotional: plain(row.minTradeNotional),
    limitOffsetBps: row.limitOffsetBps, maxNotionalPerRun: row.maxNotionalPerRun === null ? null : plain(row.maxNotionalPerRun),
    status: row.status, version: row.version, activeSince: iso(row.activeSince), createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt),
    deletedAt: isoOrNull(row.deletedAt),
  }
}

export function presentScheduleRun(row: ScheduleRunRow): z.output<typeof ScheduleRun> {
  const records = (value: readonly object[] | null) => (value === null ? null : value.map((item) => ({ ...item }) as Record<string, unknown>))
  return {
    id: row.id, scheduleId: row.scheduleId, slotAt: iso(row.slotAt), scheduleVersion: row.scheduleVersion, status: row.status, stage: row.stage,
    reason: row.reason, detail: row.detail, coalesced: row.coalesced, portfolioValue: row.portfolioValue === null ? null : plain(row.portfolioValue),
    before: records(row.before), after: records(row.after), legs: records(row.legs) ?? [], skippedLegs: records(row.skippedLegs) ?? [],
    adjustments: records(row.adjustments) ?? [], cancelledOrderIds: row.cancelledOrderIds, notes: row.notes, error: row.error,
    startedAt: iso(row.startedAt), finishedAt: isoOrNull(row.finishedAt),
  }
}

export function presentPolicy(row: PolicyRow): z.output<typeof Policy> {
  return { walletId: row.walletId, sessionId: row.sessionId, rules: row.rules, updatedAt: iso(row.updatedAt) }
}
