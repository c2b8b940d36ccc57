import type { Logger } from 'pino'
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
 * The operator's EIP-712 domain as this worker knows it: read once at start-up (`waitForOperator`),
 * and read again only when the operator refuses a signature (never on the common path). Concurrent
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
      const info = await withinDeadline(options.venue.info(), options.timeoutMs ?? DOMAIN_READ_TIMEOUT_MS)
      to = { name: info.name, version: info.version, chainId: info.chainId, verifyingContract: info.verifyingContract }
    } catch (error) {
      options.log.warn({ err: error }, 'could not read the operator\'s EIP-712 domain after it refused a signature; nothing concluded, the work waits')
      return 'unconfirmed'
    }
    checkedAt = now()
    if (sameDomain(to, options.domain)) {
      if (change) options.log.warn({ domain: describeDomain(to) }, 'the operator answers the EIP-712 domain this worker signs with again; signing again')
      change = undefined
      return 'sameDomain'
    }
    if (!change || !sameDomain(change.to, to)) {
      options.log.fatal({ from: describeDomain(options.domain), to: describeDomain(to) },
        'OPERATOR_DOMAIN_CHANGED: the operator verifies over another EIP-712 domain; nothing is signed with the old one (requests, reads, grants wait); restart the worker to adopt the new one')
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
    /** The operator refused a signature: does it still verify over the signing domain? */
    async explainRefusal(): Promise<RefusalCause> {
      if (change && now() - checkedAt < recheckMs) return 'domainChanged'
      return read()
    },
  }
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
    code: 'OPERATOR_DOMAIN_CHANGED',
    message: `the operator's EIP-712 domain changed from ${describeDomain(from)} to ${describeDomain(to)}: this worker signs nothing over the old one, and the wallet's work waits (no session is quarantined or revoked for it); restart the worker to adopt the new domain (its delegations are then granted anew), or restore the operator's`,
    details: { fromChainId: from.chainId, fromVerifyingContract: from.verifyingContract, toChainId: to.chainId, toVerifyingContract: to.verifyingContract },
  }
}

/** The readiness check's detail while the domain differs. */
export function domainChangedDetail({ from, to }: DomainChange): string {
  return `the operator's EIP-712 domain changed from chainId ${from.chainId} (${from.verifyingContract}) to chainId ${to.chainId} (${to.verifyingContract}): nothing is signed; restart the worker to adopt it`
}
