import { createWriteStream } from 'node:fs'
import { createNonceGenerator } from '../../src/core/requests/createNonceGenerator.js'
import { shortDeadlineMs } from '../../src/core/requests/shortDeadlineMs.js'
import { shortestLifetimeSeconds } from '../../src/core/sessions/lifetimeBounds.js'
import type { Keyring } from '../../src/keys/Keyring.js'
import { createLogger } from '../../src/logger.js'
import type { WorkerDeps } from '../../src/runtime/deps.js'
import { createOperatorClock } from '../../src/runtime/operatorClock.js'
import { createSessionRateLimits } from '../../src/runtime/sessionRateLimits.js'
import { createSessionSigners } from '../../src/runtime/sessionSigners.js'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { rotateSession } from '../../src/runtime/sessions/rotateSession.js'
import { waitForOperator } from '../../src/runtime/waitForOperator.js'
import type { Db } from '../../src/store/Database.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import type { DrillWallet } from './environment.js'
import { sleep } from './workerProcess.js'

/** The worker's default rotation lead (SESSION_ROTATE_LEAD_SECONDS): a rotation keeps the session's lifetime, at least twice it. */
const ROTATE_LEAD_SECONDS = 6 * 3600

export type RotationReport = {
  rotations: number
  /** Rotated-out sessions the drill revoked at the operator soon after (as `POST /v1/sessions/:id/revoke` does). */
  revokedByDrill: number
  /** Rotations that failed (the operator's faults): the wallet keeps its session until the next one. */
  failed: number
}

/**
 * Rotates each wallet's session `perWallet` times at random moments within `overMs`, as the API's
 * rotate route does (`rotateSession`, reason onDemand, the lifetime kept): a process of its own, as
 * the API is, sharing only Postgres and the operator with the workers. The rotated-out session is
 * `rotating`: requests signed with it finish, and the worker's session maintenance revokes it at the
 * operator once the grace has passed; about half of them the drill revokes itself after a few
 * seconds instead, as the API's revoke route does (a user revoking the old session), while work
 * signed with it may still be on the wire. Either way the operator cancels the session's open orders
 * (`sessionRevoked`), and the workers place again those still wanted under the current session.
 * Only Postgres and the operator see it: the workers learn of the new session from Postgres.
 */
export async function runSessionRotations(options: {
  db: Db; keyring: Keyring; operatorUrl: string; wallets: DrillWallet[]; perWallet: number; overMs: number
  random: () => number; logFile: string; stopped: () => boolean
}): Promise<RotationReport> {
  const report: RotationReport = { rotations: 0, revokedByDrill: 0, failed: 0 }
  if (options.perWallet <= 0) return report
  const log = createLogger('info', 'drill-rotations', createWriteStream(options.logFile, { flags: 'a' }))
  const venue = createVenueClient({ baseUrl: options.operatorUrl })
  const { info, domain, offsetMs } = await waitForOperator(venue, log)
  const operatorClock = createOperatorClock(venue, Date.now, offsetMs, log)
  venue.remeasureClockWith(operatorClock.resync)
  const deps: WorkerDeps = {
    db: options.db, venue, domain, maxDeadlineMs: info.maxDeadlineMs, now: Date.now, operatorNow: operatorClock.now, resyncOperatorClock: operatorClock.resync, log,
    sessions: createSessionSigners({ db: options.db, keyring: options.keyring, domain, now: operatorClock.now, readDeadlineMs: shortDeadlineMs(info.maxDeadlineMs, 30_000) }),
    nonces: createNonceGenerator(operatorClock.now), rateLimits: createSessionRateLimits(Date.now), alert: (event) => log.warn(event, 'alert'),
  }
  // Each wallet's moments, drawn up front so a seed replays them.
  const plans = options.wallets.map((wallet) => ({
    wallet,
    steps: Array.from({ length: options.perWallet }, () => ({ atMs: options.random() * options.overMs, revokeAfterMs: options.random() < 0.5 ? 500 + options.random() * 7_500 : undefined }))
      .sort((a, b) => a.atMs - b.atMs),
  }))
  const started = Date.now()
  const revocations: Promise<void>[] = []
  await Promise.all(plans.map(async ({ wallet, steps }) => {
    for (const step of steps) {
      await sleep(Math.max(0, started + step.atMs - Date.now()))
      if (options.stopped()) return
      let previous
      try {
        ({ previous } = await rotateSession({
          deps, keyring: options.keyring, walletSigner: wallet.signer, walletId: wallet.walletId, reason: 'onDemand',
          lifetimeSeconds: 24 * 3600, keepLifetime: { minSeconds: shortestLifetimeSeconds(ROTATE_LEAD_SECONDS) },
        }))
        report.rotations++
      } catch (error) {
        report.failed++
        log.warn({ err: error, walletId: wallet.walletId }, 'rotation failed')
        continue
      }
      if (step.revokeAfterMs === undefined) continue
      revocations.push((async () => {
        await sleep(step.revokeAfterMs!)
        // The operator's faults (503, an answer dropped) fail some attempts: asked again, as a user would.
        for (const session of previous) {
          for (let attempt = 1; attempt <= 20 && !options.stopped(); attempt++) {
            try {
              await revokeAtOperator(deps, options.keyring, session, 'revoked by the drill after a rotation')
              report.revokedByDrill++
              break
            } catch (error) {
              log.warn({ err: error, sessionId: session.id, attempt }, 'revocation failed; trying again')
              await sleep(250)
            }
          }
        }
      })())
    }
  }))
  await Promise.all(revocations)
  return report
}
