import type { Logger } from 'pino'
import type { Hex } from 'viem'
import type { RequestFamily } from '../../core/acl/actions.js'
import { covers } from '../../core/acl/covers.js'
import { decodeDelegatedPayload } from '../../core/delegation/decodeDelegatedPayload.js'
import { VenueError } from '../../core/errors/venue.js'
import type { OperatorDomain, RequestMessages, VenueRequest } from '../../core/eip712/types.js'
import { buildRequest } from '../../core/requests/buildRequest.js'
import { createNonceGenerator } from '../../core/requests/createNonceGenerator.js'
import { deriveClientOrderId } from '../../core/requests/deriveClientOrderId.js'
import type { Keyring } from '../../keys/Keyring.js'
import { signWireRequest } from '../../keys/signWireRequest.js'
import type { SessionRow } from '../../store/schema/index.js'
import type { VenueClient } from '../../venue/createVenueClient.js'
import type { MarketRules } from '../intake/marketRules.js'
import { unsealSessionKey } from './sealedSessionKey.js'
import { errorMessage } from '../../core/errors/errorMessage.js'
import { shortDeadlineMs } from '../../core/requests/shortDeadlineMs.js'
import { deadlineRefused } from '../submission/remeasureOperatorClock.js'
import { OperatorDomainChangedError, type OperatorDomainWatch } from '../operatorDomain.js'

export type LiveProbeOptions = {
  venue: VenueClient; keyring: Keyring; domain: OperatorDomain; markets: MarketRules; operatorNow: () => number; maxDeadlineMs?: number
  /** Measures the operator's clock again when it refuses a probe's deadline (`WorkerDeps.resyncOperatorClock`). */
  resyncOperatorClock?: () => Promise<void>
  /** Asked when the operator refuses a probe's signature (`WorkerDeps.operatorDomain`): a changed domain is no problem of the session. */
  operatorDomain?: Pick<OperatorDomainWatch, 'explainRefusal' | 'changed'>
  log?: Logger
}

/**
 * The operator guide's live probe, run on a delegated session before it goes
 * live: one low-risk request must be accepted (an IOC buy of one lot at one
 * tick, which cannot fill; or, for a session that cannot place orders, a
 * cancel or modify of an order that does not exist, or for a kill-switch-only one a CancelAll
 * whose deadline has passed, which must pass authorization and take no effect), and
 * one deliberately out-of-scope request, its deadline passed too, must be refused as a session
 * authorization failure (`SessionAclViolation`), which the operator checks before the deadline:
 * one that does not enforce the scope refuses it as expired, and it never takes effect. Answers every problem found. A signature refused
 * (SignerMismatch, SessionUnauthorized) while the operator verifies over another EIP-712 domain than
 * the probe signs with is no problem of the session: `OperatorDomainChangedError` is thrown instead.
 */
export function createLiveProbe(options: LiveProbeOptions) {
  return async (session: SessionRow): Promise<string[]> => {
    const key = unsealSessionKey(options.keyring, session)
    const nonces = createNonceGenerator(options.operatorNow)
    const market = [...options.markets.values()][0]
    if (!market) return ['live probe: the operator lists no market to probe']
    // `pastDeadline`: a deadline meant to be refused as past, sent as it is.
    const send = async <F extends RequestFamily>(family: F, fields: Omit<RequestMessages[F], 'delegation' | 'wallet' | 'nonce' | 'deadline'>, pastDeadline?: bigint) => {
      for (let attempt = 1; ; attempt++) {
        const deadline = pastDeadline ?? BigInt(Math.floor(options.operatorNow()) + shortDeadlineMs(options.maxDeadlineMs, 20_000))
        const message = { ...fields, delegation: session.delegationHash as Hex, wallet: walletOf(session) as Hex, nonce: nonces.next(), deadline } as RequestMessages[F]
        const request = buildRequest(family, message) as VenueRequest
        try {
          return await options.venue.submit(signWireRequest(key, options.domain, request, session.delegatedPayload as Hex))
        } catch (error) {
          await unlessDomainChanged(options, error)
          // The deadline refused as past or too far ahead: this host's clock stepped since the offset
          // was measured. Measured again and signed again once (a deadline meant to be past is not).
          if (attempt > 1 || pastDeadline !== undefined || !(await deadlineRefused(options, error, deadline))) throw error
        }
      }
    }
    const absent = deriveClientOrderId(session.id, 0, 'probe-absent')
    const problems: string[] = []

    // 1. A low-risk request, accepted.
    try {
      if (covers(session.aclScope, 'Order')) {
        await send('Order', { market: market.market, side: 0, price: market.tickSize, size: market.lotSize, timeInForce: 1, clientOrderId: deriveClientOrderId(session.id, 0, 'probe') })
      } else if (covers(session.aclScope, 'CancelOrder')) {
        await send('CancelOrder', { market: market.market, clientOrderId: absent }).catch(passedAuthorization)
      } else if (covers(session.aclScope, 'ModifyOrder')) {
        await send('ModifyOrder', { market: market.market, clientOrderId: absent, price: market.tickSize, size: market.lotSize }).catch(passedAuthorization)
      } else {
        // Kill switch only: a CancelAll whose deadline has passed, refused after the signatures and
        // the scope (PROTOCOL.md §5's order) and before it could cancel any of the wallet's orders.
        await send('CancelAll', { market: market.market }, PAST_DEADLINE).catch(passedAuthorization)
      }
    } catch (error) {
      if (error instanceof OperatorDomainChangedError) throw error
      problems.push(`live probe: a low-risk request was refused (${describe(error)})`)
    }

    // 2. A deliberately out-of-scope request, refused as a session authorization failure. Its
    // deadline has passed: PROTOCOL.md §5 checks the scope (403) before the deadline (410), so an
    // operator that enforces the scope still refuses it SessionAclViolation, and one that does not
    // refuses it DeadlineExpired (reported below) instead of carrying it out. With a live deadline,
    // the CancelAll would cancel the wallet's orders in that market there (those placed under
    // another session too), the Order would place one.
    const outside = (['ModifyOrder', 'CancelOrder', 'CancelAll', 'Order'] as const).find((family) => !covers(session.aclScope, family))
    if (outside) {
      const probe = {
        ModifyOrder: () => send('ModifyOrder', { market: market.market, clientOrderId: absent, price: market.tickSize, size: market.lotSize }, PAST_DEADLINE),
        CancelOrder: () => send('CancelOrder', { market: market.market, clientOrderId: absent }, PAST_DEADLINE),
        CancelAll: () => send('CancelAll', { market: market.market }, PAST_DEADLINE),
        Order: () => send('Order', { market: market.market, side: 0, price: market.tickSize, size: market.lotSize, timeInForce: 1, clientOrderId: absent }, PAST_DEADLINE),
      }[outside]
      try {
        await probe()
        problems.push(`live probe: an out-of-scope ${outside} was accepted: the operator does not enforce the delegation's scope`)
      } catch (error) {
        if (error instanceof OperatorDomainChangedError) throw error
        if (!(error instanceof VenueError && error.venueCode === 'SessionAclViolation')) {
          problems.push(`live probe: an out-of-scope ${outside} was not refused as SessionAclViolation (${describe(error)})`)
        }
      }
    }
    return problems
  }
}

/**
 * The deadline of the kill-switch-only probe and of every out-of-scope one: past on any clock (unix
 * ms 1). Set from the operator's clock as measured, a step of this host's clock forward since the
 * measurement would put it ahead at the operator, and the probe would be a CancelAll that cancels
 * the wallet's orders in that market.
 */
const PAST_DEADLINE = 1n

/** A refused signature explained by a change of the operator's domain (one shared read of /v1/info): thrown as that. */
async function unlessDomainChanged(options: LiveProbeOptions, error: unknown): Promise<void> {
  if (!(error instanceof VenueError && (error.venueCode === 'SignerMismatch' || error.venueCode === 'SessionUnauthorized'))) return
  if ((await options.operatorDomain?.explainRefusal()) !== 'domainChanged') return
  const change = options.operatorDomain?.changed()
  if (change) throw new OperatorDomainChangedError(change)
}

/**
 * UnknownOrder (and DeadlineExpired, for a deadline in the past) means the request passed the
 * signature, scope and nonce checks: that is all a probe that must take no effect asks.
 */
function passedAuthorization(error: unknown): void {
  if (!(error instanceof VenueError && (error.venueCode === 'UnknownOrder' || error.venueCode === 'DeadlineExpired'))) throw error
}

function describe(error: unknown): string {
  return error instanceof VenueError ? error.venueCode : errorMessage(error)
}

/** The delegated payload carries the wallet; decoding it avoids a database read. */
function walletOf(session: SessionRow): string {
  return decodeDelegatedPayload(session.delegatedPayload).wallet
}
