/** The drill's halt explanations for a modify a halt kept from going out (pure: rows as the drill reads them). */
import { expect, it } from 'vitest'
import { haltsExplaining } from '../../bench/drill/outcome/halts.js'
import type { HaltRecord } from '../../bench/drill/killSwitches.js'
import type { OutboxRow } from '../../src/store/schema/index.js'

const haltedAt = Date.now()
const halt: HaltRecord = { walletId: 'w1', walletKey: '0xw1', haltAskedAt: haltedAt - 10, haltedAt, cancelAllOutboxId: 'c1', resumeRefusals: 0 }
const modify = (lastError: string, createdAt = new Date(haltedAt - 1_000)) =>
  ({ kind: 'ModifyOrder', status: 'done', walletId: 'w1', lastError, createdAt }) as unknown as OutboxRow

it('a modify queued before a halt and dropped for it counts as dropped by the halt: unsent, or signed and not resent', () => {
  const { droppedModify } = haltsExplaining([halt])
  expect(droppedModify(modify('wallet halted: modification not applied'))).toBe(true)
  // Signed before the halt, its answer never stored (a crash), not resent once the wallet was halted.
  expect(droppedModify(modify('not resent: wallet halted: modification not applied'))).toBe(true)
})

it('not one dropped for another reason, nor one queued after the halt', () => {
  const { droppedModify } = haltsExplaining([halt])
  expect(droppedModify(modify('not resent: a cancel was asked'))).toBe(false)
  expect(droppedModify(modify('wallet halted: modification not applied', new Date(haltedAt + 1_000)))).toBe(false)
})
