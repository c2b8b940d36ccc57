import { createNonceGenerator } from '../../../src/core/requests/createNonceGenerator.js'
import type { WorkerDeps } from '../../../src/runtime/deps.js'
import { createSessionSigners } from '../../../src/runtime/sessionSigners.js'
import { createVenueClient } from '../../../src/venue/createVenueClient.js'
import type { Harness } from './harness.js'

/**
 * Deps that sign with the wallets' session keys and send to the sandbox itself, not through any
 * relay or worker: another client of the operator (for `sendWithSessionKey`), placing orders only
 * a reconciliation finds.
 */
export async function directSender(h: Harness): Promise<WorkerDeps> {
  const venue = createVenueClient({ baseUrl: h.sandbox.url })
  const { maxDeadlineMs } = await venue.info()
  const now = () => h.sandbox.now()
  return {
    db: h.db, venue, domain: h.sandbox.domain, maxDeadlineMs, now, operatorNow: now, log: h.log,
    sessions: createSessionSigners({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, now }),
    nonces: createNonceGenerator(now),
  } as WorkerDeps
}
