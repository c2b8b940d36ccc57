/**
 * A compromise revokes the wallet's sessions at the operator all at once: an operator slow to answer
 * one revocation (here held on the wire) must not keep the others' keys valid at the operator, where
 * an attacker holding them can still trade, until it answers (up to OPERATOR_TIMEOUT_MS each).
 */
import { expect, it } from 'vitest'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { activeWallet, eventually, grant, operatorDelegation, rows } from './support/lifecycle.js'

// A held revocation must stay on the wire for the whole test, not time out.
const t = gatedWorkerForFile({ operatorTimeoutMs: 60_000, maintenanceIntervalMs: 3_600_000 })

it('sends every session\'s revocation while the first one is still on the wire', async () => {
  const r = rows(t.h.db)
  const w = await activeWallet(t.h)
  // Rotated twice: the older sessions still live at the operator in their grace period.
  const second = (await grant(t.h, w)).session
  const third = (await grant(t.h, w)).session
  const live = [w.session, second, third]
  expect((await Promise.all(live.map((s) => r.session(s.id)))).map((s) => s.status).sort()).toEqual(['active', 'rotating', 'rotating'])
  const payloads = new Set(live.map((s) => s.delegatedPayload!.toLowerCase()))
  const held = t.gate.holdRevocations((delegation) => payloads.has(delegation.toLowerCase()))
  const compromise = compromiseWallet(t.worker.deps, t.h.keyring, { walletId: w.wallet.id, reason: 'session keys found in a log' })
  // Every revocation reaches the operator while none has been answered yet.
  const arrived = await eventually(async () => held.held.length === live.length).catch(() => false)
  const heldAtOnce = held.held.length
  held.release()
  const outcome = await compromise.catch((error: unknown) => error)
  expect({ arrived, heldAtOnce, outcome }).toEqual({ arrived: true, heldAtOnce: live.length, outcome: { revoked: live.length } })
  expect(live.map((s) => operatorDelegation(t.h.sandbox, s.delegationHash)?.revoked)).toEqual([true, true, true])
})
