import { type SQL, and, eq, gte, inArray, isNotNull, isNull, ne, or, sql } from 'drizzle-orm'
import { type PolicyFacts, type PolicyRules, evaluatePolicy } from '../../core/policy/evaluatePolicy.js'
import { parsePolicyRules } from '../../core/policy/parsePolicyRules.js'
import { ONE, formatAmount, parseAmount } from '../../core/money/decimal.js'
import type { Db } from '../../store/Database.js'
import { lockWalletPolicy } from '../../store/repositories/lockWallet.js'
import { orders, outbox, policies, requests } from '../../store/schema/index.js'
import type { VenueClient } from '../../venue/createVenueClient.js'
import type { PolicyCheck } from '../deps.js'

/**
 * The worker's local policy hook: loads the wallet's and the session's rules,
 * gathers only the facts those rules need, and answers the refusing rule (the
 * caller records it) or null. Marks are cached for a second per market.
 */
export function createPolicyCheck(options: { db: Db; venue: VenueClient; now: () => number }) {
  const marks = new Map<string, { at: number; mark: bigint }>()
  async function mark(market: string): Promise<bigint> {
    const cached = marks.get(market)
    if (cached && options.now() - cached.at < 1_000) return cached.mark
    const ticker = await options.venue.ticker(market)
    const value = parseAmount('mark', ticker.mark)
    marks.set(market, { at: options.now(), mark: value })
    return value
  }
  type RuleSets = { scope: string; rules: PolicyRules }[]
  const ruleSetsOf = async (db: Db, check: PolicyCheck): Promise<RuleSets> => {
    const rows = await db.select().from(policies)
      .where(and(eq(policies.walletId, check.walletId), or(isNull(policies.sessionId), eq(policies.sessionId, check.sessionId))))
    return rows.map((row) => ({ scope: row.sessionId ? 'session' : 'wallet', rules: parsePolicyRules(row.rules) }))
  }
  const counts = (sets: RuleSets) => sets.some(({ rules }) => rules.maxOpenOrders !== undefined || rules.maxDailyNotional !== undefined || rules.maxRequestsPerMinute !== undefined)
  return async (check: PolicyCheck): Promise<string | null> => {
    if (check.noStoredRules) return null
    // Read without a lock to choose the lock and to read the mark before taking it: the rules the
    // check applies are read again under the lock.
    const ruleSets = await ruleSetsOf(options.db, check)
    if (ruleSets.length === 0) return null
    const placing = check.family === 'Order' || check.family === 'ModifyOrder'
    const refusalOf = async (db: Db, sets: RuleSets, markValue: bigint | undefined): Promise<string | null> => {
      for (const { scope, rules } of sets) {
        const refusal = evaluatePolicy(rules, await factsFor(db, rules, check, markValue))
        if (refusal) return `${scope} policy ${refusal.rule}: ${refusal.message}`
      }
      return null
    }
    // Cancels are never refused and count towards nothing.
    if (!placing) return refusalOf(options.db, ruleSets, undefined)
    const needsMark = (sets: RuleSets) => check.price !== undefined && sets.some(({ rules }) => rules.priceBandBps !== undefined)
    // Read over HTTP before the wallet's policy lock is taken, never while it is held.
    let markValue = needsMark(ruleSets) ? await mark(check.market) : undefined
    // Decided under the wallet's policy lock (`lockWalletPolicy`), which a policy change holds until
    // it commits, with the rules read under it: a change answered before this decides applies to it,
    // one that was waiting for the lock included; and a change waits for the checks under way, whose
    // placements (and modifies) let through count from their check (policy_passed_at), so the checks
    // after it count them under its rules. Under limits that count the wallet's other work on its way
    // the lock is exclusive, one check at a time per wallet: a burst checked together goes out
    // exactly up to the limit, neither past it nor short of it. Otherwise shared.
    let exclusive = counts(ruleSets)
    for (;;) {
      // At most three rounds: one more for a counting limit, one for a price band, added meanwhile.
      const decided = await options.db.transaction(async (tx) => {
        await lockWalletPolicy(tx, check.walletId, exclusive ? 'exclusive' : 'shared')
        const current = await ruleSetsOf(tx, check)
        if (!exclusive && counts(current)) return 'exclusive' as const
        if (markValue === undefined && needsMark(current)) return 'mark' as const
        const refusal = await refusalOf(tx, current, markValue)
        if (!refusal && check.orderId) {
          await tx.update(orders).set({ policyPassedAt: sql`now()`, updatedAt: sql`${orders.updatedAt}` }).where(eq(orders.id, check.orderId))
        }
        // A modify counts at its own notional from its own check, not from any check of its order.
        if (!refusal && check.family === 'ModifyOrder' && check.outboxId) {
          await tx.update(outbox).set({ policyPassedAt: sql`now()`, updatedAt: sql`${outbox.updatedAt}` }).where(eq(outbox.id, check.outboxId))
        }
        return { refusal }
      })
      if (decided === 'exclusive') exclusive = true
      else if (decided === 'mark') markValue = await mark(check.market)
      else return decided.refusal
    }
  }
}

/**
 * Whether an order counts towards the wallet's limits: one on its way (`submitting`) only once the
 * policy let it through, or once its Order request was signed (before policy_passed_at existed).
 * One claimed but not checked yet is checked after, counting this one.
 */
const counted = or(ne(orders.state, 'submitting'), isNotNull(orders.policyPassedAt), orderSigned())!

/** SQL condition: an Order request was signed for the order (since `start`, when given). */
function orderSigned(start?: SQL): SQL {
  const since = start ? sql` and ${requests.createdAt} >= ${start}` : sql``
  return sql`exists (select 1 from ${requests} where ${requests.orderId} = ${orders.id} and ${requests.family} = 'Order'${since})`
}

/**
 * The notional (price × size) of a ModifyOrder of the order on its way, or null: one unfinished
 * (queued, enqueued or held) that its own check let through (its outbox row's policy_passed_at) or
 * that was signed (also one let through while the wallet had no policy). Its order's row keeps the
 * old price and size until the operator accepts it (in the transaction that finishes the outbox
 * row), so meanwhile the order counts at the greater of the two: two modifies checked before either
 * is accepted would otherwise each count the other's order at its old notional. One not checked yet
 * does not count, though its order was checked since it was queued (its placement, checked after the
 * user modified the order on its way): held for a scope change or a session, it may wait for hours,
 * and counted it refused the wallet's other orders for a notional it may never be let through with.
 */
const modifyOnItsWayNotional = sql`(select max((m.payload->>'price')::numeric * (m.payload->>'size')::numeric) from ${outbox} m
  where m.order_id = ${orders.id} and m.kind = 'ModifyOrder' and m.status in ('pending', 'enqueued', 'held')
  and (m.policy_passed_at is not null or exists (select 1 from ${requests} q where q.outbox_id = m.id)))`

/**
 * The start of the UTC day on Postgres's clock, which dates the orders and requests it is compared
 * with: on this worker's, one running ahead into the next day (as it is in the seconds before
 * midnight) would count none of today's orders, and one running behind yesterday's too.
 */
const startOfDay = sql`(date_trunc('day', clock_timestamp() at time zone 'UTC') at time zone 'UTC')`

async function factsFor(db: Db, rules: PolicyRules, check: PolicyCheck, mark: bigint | undefined): Promise<PolicyFacts> {
  const facts: PolicyFacts = { family: check.family as PolicyFacts['family'], market: check.market, price: check.price, size: check.size }
  if (check.family === 'CancelOrder' || check.family === 'CancelAll') return facts
  if (rules.priceBandBps !== undefined && check.price !== undefined) facts.mark = mark
  if (rules.maxDailyNotional !== undefined) {
    // The order being checked is already `submitting` (or open, for a modify): its notional is the
    // request's, added by the rule. Earlier orders of its intent (a session's end cancelled them and
    // this re-places the rest) count only for what they filled: the remainder is this request. So
    // does any order placed again (`replaced_by`): its remainder is its replacement's, counted there.
    // Any other order with a modify on its way counts at the greater of its notional and the modify's.
    const [own] = check.orderId ? await db.select({ intentId: orders.intentId }).from(orders).where(eq(orders.id, check.orderId)) : []
    const sameIntent = own?.intentId ? sql`${orders.intentId} = ${own.intentId}` : sql`false`
    const onlyFilled = sql`(${sameIntent} or ${orders.replacedBy} is not null)`
    const [row] = await db.select({ total: sql<string>`coalesce(sum(case when ${onlyFilled} then ${orders.filledNotional} * 1e-36 else greatest(${orders.price} * ${orders.size}, ${modifyOnItsWayNotional}) end), 0)` }).from(orders)
      .where(and(eq(orders.walletId, check.walletId), placedSince(startOfDay), inArray(orders.state, ['submitting', 'unknown', 'open', 'partially_filled', 'filled', 'cancelled']), counted,
        check.orderId ? ne(orders.id, check.orderId) : undefined))
    facts.dailyNotional = parseAmount('dailyNotional', ceil18(row?.total ?? '0'))
  }
  if (rules.maxOpenOrders !== undefined) {
    // Orders on their way to the operator count too (as for maxDailyNotional): the worker submits a
    // wallet's orders together, and each is checked while the others are not open yet.
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(orders)
      .where(and(eq(orders.walletId, check.walletId), inArray(orders.state, ['submitting', 'unknown', 'open', 'partially_filled']), counted,
        check.orderId ? ne(orders.id, check.orderId) : undefined))
    facts.openOrders = row?.n ?? 0
  }
  if (rules.maxRequestsPerMinute !== undefined) {
    // On Postgres's clock, which dates the requests (their created_at): on this worker's, a clock
    // running ahead would count a shorter minute (one a minute ahead, none), and let more through.
    // Work let through this minute and not signed yet counts too (its order's policy_passed_at with
    // no request since): a job's request is signed after its check, and the jobs checked meanwhile
    // would not see it. One statement, so a request committed between two reads is counted once.
    const since = sql`clock_timestamp() - interval '1 minute'`
    const signed = sql`(select count(*) from ${requests} where ${requests.walletId} = ${check.walletId} and ${requests.createdAt} >= ${since})`
    const passed = sql`(select count(*) from ${orders} where ${orders.walletId} = ${check.walletId}
      and ${orders.state} in ('submitting', 'unknown', 'open', 'partially_filled') and ${orders.policyPassedAt} >= ${since}
      ${check.orderId ? sql`and ${orders.id} <> ${check.orderId}` : sql``}
      and not exists (select 1 from ${requests} where ${requests.orderId} = ${orders.id} and ${requests.createdAt} >= ${orders.policyPassedAt}))`
    const [row] = await db.execute<{ n: number }>(sql`select (${signed} + ${passed})::int as n`).then((result) => result.rows)
    facts.requestsLastMinute = row?.n ?? 0
  }
  return facts
}

/**
 * An order placed at the operator since `start`: created since, or created before and sent since
 * (queued while the wallet had no session, held overnight): on its way now, or with its Order
 * request signed since. An order open since before `start` is not.
 */
function placedSince(start: SQL): SQL {
  return or(gte(orders.createdAt, start), and(gte(orders.updatedAt, start), or(inArray(orders.state, ['submitting', 'unknown']), orderSigned(start))))!
}

/** price × size (and the filled notional) in SQL has 36 decimals; the policy compares at 18, rounding up (never under a limit). */
function ceil18(value: string): string {
  const [whole = '0', fraction = ''] = value.split('.')
  const cut = BigInt(whole) * ONE + BigInt(fraction.slice(0, 18).padEnd(18, '0'))
  return formatAmount(/[1-9]/.test(fraction.slice(18)) ? cut + 1n : cut)
}
