import type { Logger } from 'pino'
import { BaseError } from '../core/errors/BaseError.js'
import type { OperatorDomain } from '../core/eip712/types.js'
import type { VenueClient } from '../venue/createVenueClient.js'
import { withinDeadline } from './withinDeadline.js'

/** The domain this process signs with, and the other one the operator now answers. */
export type DomainChange = { from: OperatorDomain; to: OperatorDomain }

/**
 * Why the operator refused a signature (SignerMismatch, SessionUnauthorized), as far as its domain tells:
 * - `sameDomain`: it verifies over the domain this process signs with; the refusal is about the session.
 * - `domainChanged`: it verifies over another one; every signature of this process is refused alike.
 * - `unconfirmed`: its `GET /v1/info` did not answer in time (or failed); nothing can be concluded.
 */
export type RefusalCause = 'sameDomain' | 'domainChanged' | 'unconfirmed'

/** How long the re-read of `GET /v1/info` after a refusal may take. */
export const DOMAIN_READ_TIMEOUT_MS = 5_000
/** While the domain differs, it is read again at most this often (to see it come back). */
export const DOMAIN_RECHECK_MS = 5_000

export type OperatorDomainWatch = ReturnType<typeof createOperatorDomainWatch>

/**
 * The operator's EIP-712 domain as this process (the worker, or the API) knows it: read once at
 * start-up (`waitForOperator`), and read again only when the operator refuses a signature (never on
 * the common path), or seen in a read made anyway (`observe`: the API's readiness check). Concurrent
 * refusals (every job of every wallet at once after a chain migration) share one read, bounded by
 * `DOMAIN_READ_TIMEOUT_MS`. Once the operator answers another domain, `changed()` says so until it
 * answers the signing domain again (re-read at most every `DOMAIN_RECHECK_MS` while asked): this
 * process never adopts another domain in place (README, "Operator domain change"); a restart does.
 */
export function createOperatorDomainWatch(options: {
  venue: Pick<VenueClient, 'info'>
  domain: OperatorDomain
  log: Logger
  now?: () => number
  timeoutMs?: number
  recheckMs?: number
}) {
  const now = options.now ?? Date.now
  const recheckMs = options.recheckMs ?? DOMAIN_RECHECK_MS
  let change: DomainChange | undefined
  let checkedAt = -Infinity
  let reading: Promise<RefusalCause> | undefined

  async function readOnce(): Promise<RefusalCause> {
    let to: OperatorDomain
    try {
      to = domainOf(await withinDeadline(options.venue.info(), options.timeoutMs ?? DOMAIN_READ_TIMEOUT_MS))
    } catch (error) {
      options.log.warn({ err: error }, 'could not read the operator\'s EIP-712 domain; nothing concluded (after a refused signature, the work waits)')
      return 'unconfirmed'
    }
    return record(to)
  }

  /** What the operator answered just now (`GET /v1/info`), whoever read it. */
  function record(to: OperatorDomain): RefusalCause {
    checkedAt = now()
    if (sameDomain(to, options.domain)) {
      if (change) options.log.warn({ domain: describeDomain(to) }, 'the operator answers the EIP-712 domain this process signs with again; signing again')
      change = undefined
      return 'sameDomain'
    }
    if (!change || !sameDomain(change.to, to)) {
      options.log.fatal({ from: describeDomain(options.domain), to: describeDomain(to) },
        'OPERATOR_DOMAIN_CHANGED: the operator verifies over another EIP-712 domain; nothing is signed with the old one (requests, reads, grants, revocations wait or are refused); restart Deputy to adopt the new one')
    }
    change = { from: options.domain, to }
    return 'domainChanged'
  }

  /** One read at a time, shared by every caller meanwhile. */
  function read(): Promise<RefusalCause> {
    reading ??= readOnce().finally(() => { reading = undefined })
    return reading
  }

  return {
    /** The domain every signature of this process is made over. */
    signing: options.domain,
    /** The change last seen, with no request; undefined while the operator answers the signing domain. */
    changed(): DomainChange | undefined {
      return change
    },
    /**
     * The change, if the operator still answers another domain: no request unless one was seen
     * (then at most one read per `DOMAIN_RECHECK_MS`, to see it come back).
     */
    async stillChanged(): Promise<DomainChange | undefined> {
      if (!change) return undefined
      if (now() - checkedAt >= recheckMs) await read()
      return change
    },
    /**
     * Before a wallet signs a Delegation (rare, and worthless over a stale domain): the change, read
     * now (one shared, bounded read; an unreadable answer concludes nothing and answers undefined,
     * so the grant goes on and meets the operator as before).
     */
    async confirm(): Promise<DomainChange | undefined> {
      await read()
      return change
    },
    /** The operator refused a signature: does it still verify over the signing domain? */
    async explainRefusal(): Promise<RefusalCause> {
      if (change && now() - checkedAt < recheckMs) return 'domainChanged'
      return read()
    },
    /**
     * The operator's `GET /v1/info` as read by someone else (the API's readiness check reads it
     * anyway): recorded as this watch's own read would be, so a change is seen, or seen gone, with
     * no request of its own. Answers the change, if any.
     */
    observe(info: OperatorDomain): DomainChange | undefined {
      record(domainOf(info))
      return change
    },
  }
}

function domainOf(info: OperatorDomain): OperatorDomain {
  return { name: info.name, version: info.version, chainId: info.chainId, verifyingContract: info.verifyingContract }
}

export function sameDomain(a: OperatorDomain, b: OperatorDomain): boolean {
  return a.name === b.name && a.version === b.version && a.chainId === b.chainId && a.verifyingContract.toLowerCase() === b.verifyingContract.toLowerCase()
}

function describeDomain(domain: OperatorDomain): string {
  return `${domain.name} v${domain.version}, chainId ${domain.chainId}, verifyingContract ${domain.verifyingContract}`
}

/** The alert a wallet's waiting work raises (the sink sends it once an hour per wallet and change). */
export function domainChangedAlert(walletId: string, { from, to }: DomainChange) {
  return {
    walletId,
    code: 'OPERATOR_DOMAIN_CHANGED' as const,
    message: `the operator's EIP-712 domain changed from ${describeDomain(from)} to ${describeDomain(to)}: Deputy signs nothing over the old one, and the wallet's work waits (no session is quarantined or revoked for it; grants, rotations and revocations are refused); restart Deputy (worker and API) to adopt the new domain (its delegations are then granted anew), or restore the operator's`,
    details: { fromChainId: from.chainId, fromVerifyingContract: from.verifyingContract, toChainId: to.chainId, toVerifyingContract: to.verifyingContract },
  }
}

/** The rule a refused call names (the API's `rule`, the readiness check's detail). */
export const DOMAIN_CHANGED_RULE = 'restart Deputy to adopt the operator\'s new domain (or restore the operator\'s)'

/** Both domains, by what tells them apart in practice. */
export function describeChange({ from, to }: DomainChange): string {
  return `the operator's EIP-712 domain changed from chainId ${from.chainId} (${from.verifyingContract}) to chainId ${to.chainId} (${to.verifyingContract})`
}

/** The readiness check's detail while the domain differs. */
export function domainChangedDetail(change: DomainChange): string {
  return `${describeChange(change)}: nothing is signed over the old one; ${DOMAIN_CHANGED_RULE}`
}

/**
 * Something would be signed over the domain this process started with (a Delegation, a Revocation),
 * or the operator refused what was, while the operator verifies over another: refused without asking
 * a wallet or a session key to sign, since the operator would refuse the signature. The API answers
 * 503 (`OPERATOR.DOMAIN_CHANGED`); retryable, since the operator may answer the old domain again (a
 * misrouted deployment fixed), otherwise a restart adopts the new one.
 */
export class OperatorDomainChangedError extends BaseError {
  override name = 'OperatorDomainChangedError'
  readonly change: DomainChange
  readonly field = 'operatorDomain'
  readonly rule = DOMAIN_CHANGED_RULE
  constructor(change: DomainChange) {
    super(`${describeChange(change)} since Deputy started: nothing is signed over the old one (the operator would refuse the signature)`, {
      code: 'OPERATOR.DOMAIN_CHANGED', retryable: true, hint: DOMAIN_CHANGED_RULE,
    })
    this.change = change
  }
}
