import { expect, it } from 'vitest'
import { throttledErrorLog } from '../../src/runtime/throttledErrorLog.js'
import { capturedLog } from '../support/capturedLog.js'

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' })

it('logs a failure once, counts its repeats within the window, and reports the count with the next line after it', () => {
  const { log, entries } = capturedLog()
  let now = 0
  const onError = throttledErrorLog(log, 'submit worker error', { windowMs: 30_000, now: () => now })
  for (; now < 30_000; now += 500) onError(refused())
  expect(entries()).toMatchObject([{ msg: 'submit worker error', err: { code: 'ECONNREFUSED' } }])
  expect(entries()[0]).not.toHaveProperty('repeats')
  onError(refused())
  expect(entries()).toHaveLength(2)
  expect(entries()[1]).toMatchObject({ msg: 'submit worker error', repeats: 59 })
})

it('logs a different failure at once, even while another one is being counted', () => {
  const { log, entries } = capturedLog()
  const onError = throttledErrorLog(log, 'submit worker error', { now: () => 1_000 })
  onError(refused())
  onError(refused())
  onError(new Error('ERR Error running script: @user_script:12: wrong number of arguments'))
  expect(entries().map((line) => line.err!.message))
    .toEqual(['connect ECONNREFUSED 127.0.0.1:6390', 'ERR Error running script: @user_script:12: wrong number of arguments'])
})

it('logs at the level asked, with the fields of the occurrence it logs (the first wallet), whichever wallet repeats it', () => {
  const { log, entries } = capturedLog()
  let now = 0
  const onError = throttledErrorLog(log, 'event stream error; reconnecting', { level: 'warn', now: () => now })
  onError(refused(), { walletId: 'w1' })
  onError(refused(), { walletId: 'w2' })
  now = 30_000
  onError(refused(), { walletId: 'w3' })
  expect(entries()).toMatchObject([{ level: 40, walletId: 'w1' }, { level: 40, walletId: 'w3', repeats: 1 }])
})
