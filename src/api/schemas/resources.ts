import { z } from 'zod'
import { requestStatuses } from '../../store/schema/index.js'
import { amount, families, isoTime, uuid } from './common.js'

export const Wallet = z.object({
  id: uuid,
  address: z.string().describe('EIP-55 checksummed address'),
  status: z.enum(['active', 'halted', 'awaiting_delegation']),
  haltedReason: z.string().nullable(),
  /** Whether this API process holds a signer for the wallet (can grant and rotate sessions). */
  canSignDelegation: z.boolean(),
  automaticGrantsWaitUntil: isoTime.nullable().describe(
    "automatic session grants (rotation before expiry, replacing a refused session) wait until then: from the second of the wallet's sessions that failed within an hour (see the sessions' failedAt and statusReason), 30 s doubling to 15 min. Null: not waiting. A grant asked through the API is not held back",
  ),
  createdAt: isoTime,
}).meta({ id: 'Wallet' })

export const Session = z.object({
  id: uuid,
  walletId: uuid,
  status: z.enum(['pending', 'delegated', 'active', 'rotating', 'revoked', 'expired', 'quarantined']),
  statusReason: z.string().nullable(),
  publicKey: z.string().describe('33-byte compressed SEC1 hex'),
  aclScope: z.array(z.enum([...families, 'Unrestricted'])).describe('the scope granted: what the session may sign'),
  chosenScope: z.array(z.enum([...families, 'Unrestricted'])).nullable()
    .describe("the scope the user chose (`families`, `needs` or `unrestricted` on a grant or a rotation), carried from session to session: the worker's routine rotations never ask for less. Null: the worker chose the scope (the default), and its rotations narrow it to what the wallet's work needs"),
  expiry: isoTime,
  expiresInSeconds: z.number().int(),
  delegationHash: z.string().nullable(),
  walletSigner: z.string(),
  createdAt: isoTime,
  activatedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable().describe('when it ended at the operator (revoked there, or refused by it); null on a revoked grant whose signed delegation session maintenance has yet to revoke there, and on a quarantined session (SignerMismatch: its key in doubt) not yet revoked there with the wallet\'s signature'),
  failedAt: isoTime.nullable().describe("when it failed: its grant failed (the wallet signer, the pre-live checks), or the operator refused it while it was the wallet's active session"),
}).meta({ id: 'Session' })

export const Fill = z.object({
  fillId: z.string(),
  price: amount,
  size: amount,
  fee: amount.describe('quote units; negative when the operator paid a maker rebate'),
  at: isoTime,
}).meta({ id: 'Fill' })

export const Order = z.object({
  id: uuid,
  walletId: uuid,
  clientOrderId: z.string().describe('bytes16 hex; the idempotency key at the operator'),
  clientRef: z.string().nullable(),
  scheduleId: uuid.nullable(),
  market: z.string(),
  side: z.enum(['buy', 'sell']),
  price: amount,
  size: amount,
  timeInForce: z.enum(['GTC', 'IOC', 'POST_ONLY']).nullable().describe(
    'null for an adopted order (adoptedAt): the operator\'s order reads do not say its time in force',
  ),
  state: z.enum(['pending', 'submitting', 'unknown', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
  filled: amount,
  averagePrice: amount.nullable(),
  fees: amount.describe('the fills\' fees together; negative when maker rebates outweigh them'),
  venueOrderId: z.string().nullable(),
  sessionId: uuid.nullable().describe(
    'the session whose key placed it (GET /v1/sessions/{id}); revoking that session, or its expiry, cancels it at the operator. Null until its placement is answered',
  ),
  cancelReason: z.string().nullable(),
  replacedBy: uuid.nullable().describe(
    'the order placed again for the same intent after this one\'s session ended (a rotation cancels the old session\'s orders at the operator); modify or cancel that one',
  ),
  rejectCode: z.string().nullable(),
  rejectReason: z.string().nullable(),
  adoptedAt: isoTime.nullable().describe(
    'when reconciliation adopted it (ORPHAN_POLICY): an order the operator listed open for the wallet that Deputy did not place, recorded from the operator\'s read (no intent, sessionId null); null for the orders Deputy placed',
  ),
  createdAt: isoTime,
  updatedAt: isoTime,
}).meta({ id: 'Order' })

export const Schedule = z.object({
  id: uuid,
  walletId: uuid,
  targets: z.record(z.string(), amount),
  cron: z.string(),
  timeZone: z.string(),
  toleranceBand: amount,
  minTradeNotional: amount,
  limitOffsetBps: z.number().int(),
  maxNotionalPerRun: amount.nullable(),
  status: z.enum(['active', 'paused', 'deleted']),
  version: z.number().int(),
  activeSince: isoTime,
  createdAt: isoTime,
  updatedAt: isoTime,
  deletedAt: isoTime.nullable(),
}).meta({ id: 'Schedule' })

export const ScheduleRun = z.object({
  id: uuid,
  scheduleId: uuid,
  slotAt: isoTime,
  scheduleVersion: z.number().int(),
  status: z.enum(['running', 'completed', 'skipped', 'awaiting_delegation', 'failed']),
  stage: z.string().nullable(),
  reason: z.string(),
  detail: z.string(),
  coalesced: z.number().int(),
  portfolioValue: amount.nullable(),
  before: z.array(z.record(z.string(), z.unknown())).nullable(),
  after: z.array(z.record(z.string(), z.unknown())).nullable(),
  legs: z.array(z.record(z.string(), z.unknown())),
  skippedLegs: z.array(z.record(z.string(), z.unknown())),
  adjustments: z.array(z.record(z.string(), z.unknown())),
  cancelledOrderIds: z.array(z.string()),
  notes: z.array(z.string()),
  error: z.string().nullable(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
}).meta({ id: 'ScheduleRun' })

export const Policy = z.object({
  walletId: uuid,
  sessionId: uuid.nullable(),
  rules: z.record(z.string(), z.unknown()),
  updatedAt: isoTime,
}).meta({ id: 'Policy' })

/** Work queued for the worker (an outbox row); it is sent to the operator asynchronously. */
export const Queued = z.object({
  outboxId: uuid.describe('GET /v1/work/{outboxId} tells what became of it'),
  status: z.literal('queued'),
}).meta({ id: 'Queued' })

/** One request signed for a piece of work, as the operator answered it (signature and bytes left out). */
export const WorkRequest = z.object({
  family: z.enum(families),
  status: z.enum(requestStatuses).describe('signed (persisted before it is sent; sent, or about to be), accepted, rejected, or unknown (sent, its answer lost: resent as the same bytes)'),
  duplicate: z.boolean().describe('the operator answered a resend of bytes it had accepted'),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: isoTime.describe('when it was signed'),
  sentAt: isoTime.nullable().describe('when its first send with a stored outcome began (an answer, a lost answer, a refusal); null before'),
  completedAt: isoTime.nullable().describe('when its answer was stored'),
}).meta({ id: 'WorkRequest' })

/** What became of queued work: a placement, modify, cancel or CancelAll. */
export const Work = z.object({
  outboxId: uuid,
  kind: z.enum(families),
  walletId: uuid,
  orderId: uuid.nullable(),
  status: z.enum(['queued', 'held', 'done', 'failed'])
    .describe('queued (waiting for the worker, or its turn behind earlier work of the order); held (no valid session: waits for a new one); done; failed (refused, never retried)'),
  accepted: z.boolean().describe('the operator accepted it'),
  note: z.string().nullable()
    .describe('why it is held, failed, or done without being sent (e.g. "order cancelled: modification not applied"); null while queued and once accepted'),
  requests: z.array(WorkRequest).describe('the requests signed for it, oldest first (a re-sign after NonceReused or a new session adds one)'),
  createdAt: isoTime,
  updatedAt: isoTime,
}).meta({ id: 'Work' })

export const OrderWithFills = Order.extend({
  fills: z.array(Fill),
  work: z.array(Work).describe('the work queued for this order (its placement, modifies and cancels), oldest first: what was accepted, and why the rest was not'),
}).meta({ id: 'OrderWithFills' })

export const AuditEntry = z.object({
  id: z.string().describe('increasing with each entry written'),
  at: isoTime,
  actor: z.string().describe('worker, reconciler, api, scheduler'),
  action: z.string().describe('e.g. session.activated, session.revoked, orphan.adopt, Order.rejected, wallet.halted'),
  details: z.record(z.string(), z.unknown()),
}).meta({ id: 'AuditEntry' })

export const AuditPage = z.object({
  entries: z.array(AuditEntry),
  nextBefore: z.string().nullable().describe('pass as before for the next (older) page; null on the last page'),
}).meta({ id: 'AuditPage' })
