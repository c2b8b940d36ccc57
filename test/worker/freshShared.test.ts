import { describe, expect, it } from 'vitest'
import { freshShared } from '../../src/runtime/freshShared.js'

/** A run that waits to be let go, numbered in the order runs started. */
function gatedRuns() {
  const started: { finish: (fail?: Error) => void }[] = []
  const run = () => new Promise<number>((resolve, reject) => {
    const n = started.length + 1
    started.push({ finish: (fail) => (fail ? reject(fail) : resolve(n)) })
  })
  return { started, run }
}
const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('freshShared', () => {
  it('a call while a run is under way is answered by the next run, which every such call shares', async () => {
    const { started, run } = gatedRuns()
    const shared = freshShared(run)
    const first = shared()
    const during = Array.from({ length: 5 }, () => shared())
    expect(started).toHaveLength(1)
    started[0]!.finish()
    expect(await first).toBe(1)
    await turn()
    expect(started).toHaveLength(2)
    // A call arriving while the second run is under way waits for a third, begun after it.
    const later = shared()
    started[1]!.finish()
    expect(await Promise.all(during)).toEqual([2, 2, 2, 2, 2])
    await turn()
    expect(started).toHaveLength(3)
    started[2]!.finish()
    expect(await later).toBe(3)
    // Idle again: a call starts a run at once.
    const alone = shared()
    expect(started).toHaveLength(4)
    started[3]!.finish()
    expect(await alone).toBe(4)
  })

  it('a failed run fails the calls sharing it; the queued run still starts, and the next call after starts another', async () => {
    const { started, run } = gatedRuns()
    const shared = freshShared(run)
    const first = shared()
    const queued = shared()
    started[0]!.finish(new Error('postgres down'))
    await expect(first).rejects.toThrow('postgres down')
    await turn()
    expect(started).toHaveLength(2)
    started[1]!.finish(new Error('still down'))
    await expect(queued).rejects.toThrow('still down')
    const next = shared()
    expect(started).toHaveLength(3)
    started[2]!.finish()
    expect(await next).toBe(3)
  })
})

it('a call made as a run settles, before the queued run starts, shares the queued run: never two at once', async () => {
  let concurrent = 0
  let most = 0
  let runs = 0
  const shared = freshShared(async () => {
    runs++
    concurrent++
    most = Math.max(most, concurrent)
    await new Promise((resolve) => setTimeout(resolve, 5))
    concurrent--
    return runs
  })
  const first = shared()
  const queued = shared()
  // Called from the first run's own continuation: `running` is cleared, the queued run not started yet.
  const fromContinuation = first.then(() => shared())
  expect(await Promise.all([first, queued, fromContinuation])).toEqual([1, 2, 2])
  expect(most).toBe(1)
  expect(runs).toBe(2)
})
