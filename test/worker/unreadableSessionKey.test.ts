/**
 * A session key this process cannot unseal (sealed under a master key DEPUTY_MASTER_KEY no longer
 * holds: a key rotation finished too early) is its wallet's problem: the worker still starts, and
 * every other wallet is reconciled and trades.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { createKeyring } from '../../src/keys/Keyring.js'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { sessionKeyAad } from '../../src/runtime/sessions/sealedSessionKey.js'
import { sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker | undefined
beforeAll(async () => { h = await createHarness() })
afterAll(async () => {
  await worker?.close()
  await h?.close()
})

describe('a session key sealed under a master key the worker does not hold', () => {
  it('fails only its wallet: the worker starts, and the other wallets are reconciled and trade', async () => {
    const healthy = await h.wallet()
    const { session } = await h.wallet()
    const retired = createKeyring(generateMasterKey('retired'))
    await h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(retired, SessionKey.generate().exportSecretForEncryption(), sessionKeyAad(session.id)) })
      .where(eq(sessions.id, session.id))

    const timeout = new Promise<'start-up still waiting'>((resolve) => setTimeout(() => resolve('start-up still waiting'), 10_000).unref())
    const started = await Promise.race([h.startWorker({ streams: false }).then((w) => { worker = w; return 'started' as const }), timeout])
    expect(started).toBe('started')
    expect(await reconcile(worker!.deps, { orphans: 'adopt' })).toEqual({ wallets: 1, repairs: 0, failures: 1 })

    const { order } = await placeLimitOrder(h.db, worker!.markets, { walletId: healthy.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
    await worker!.relay()
    await eventually(async () => (await rows(h.db).order(order.id)).state === 'open')
  })
})
