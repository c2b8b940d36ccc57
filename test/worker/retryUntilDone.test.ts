import { getEventListeners } from 'node:events'
import { expect, it } from 'vitest'
import { retryUntilDone } from '../../src/runtime/retryUntilDone.js'

it('leaves no listener on the caller\'s signal once its waits are over, however many retries it took', async () => {
  const stopping = new AbortController()
  let tries = 0
  const waits: number[] = []
  const answer = await retryUntilDone(async () => {
    if (++tries <= 20) throw new Error(`down (${tries})`)
    return 'up'
  }, { onFailure: (_error, retryInMs) => waits.push(retryInMs), firstDelayMs: 1, maxDelayMs: 2, signal: stopping.signal })
  expect(answer).toBe('up')
  expect(waits).toHaveLength(20)
  expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0)
})

it('stopped while it waits, throws the signal\'s reason without another try', async () => {
  const stopping = new AbortController()
  let tries = 0
  const running = retryUntilDone(async () => { tries++; throw new Error('down') }, {
    onFailure: () => setTimeout(() => stopping.abort(new Error('stopping')), 5), firstDelayMs: 60_000, signal: stopping.signal,
  })
  await expect(running).rejects.toThrow('stopping')
  expect(tries).toBe(1)
})
