import { describe, expect, it } from 'vitest'
import { groupCommit } from '../../src/runtime/groupCommit.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('groupCommit', () => {
  it('runs the items handed over in one turn together, and answers each caller its own result', async () => {
    const runs: number[][] = []
    const double = groupCommit(async (items: number[]) => {
      runs.push(items)
      return items.map((n) => n * 2)
    })
    expect(await Promise.all([1, 2, 3].map(double))).toEqual([2, 4, 6])
    expect(runs).toEqual([[1, 2, 3]])
  })

  it('keeps one run in flight: items arriving meanwhile go together in the next run', async () => {
    const runs: number[][] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const echo = groupCommit(async (items: number[]) => {
      runs.push(items)
      if (runs.length === 1) await gate
      return items
    })
    const first = echo(1)
    await tick()
    const later = [2, 3, 4].map(echo)
    await tick()
    expect(runs).toEqual([[1]])
    release()
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4])
    expect(runs).toEqual([[1], [2, 3, 4]])
  })

  it('splits at most `max` items a run', async () => {
    const sizes: number[] = []
    const echo = groupCommit(async (items: number[]) => {
      sizes.push(items.length)
      return items
    }, 2)
    expect(await Promise.all([1, 2, 3, 4, 5].map(echo))).toEqual([1, 2, 3, 4, 5])
    expect(sizes).toEqual([2, 2, 1])
  })

  it('rejects every item of a run that throws, and runs the next items normally', async () => {
    let fail = true
    const echo = groupCommit(async (items: number[]) => {
      if (fail) throw new Error('shared write failed')
      return items
    })
    const failed = await Promise.allSettled([1, 2].map(echo))
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    expect(await echo(3)).toBe(3)
  })

  it('rejects the items of a run that throws before returning its promise, instead of throwing out of the event loop', async () => {
    const echo = groupCommit((items: number[]): Promise<number[]> => {
      if (items.includes(0)) throw new Error('thrown synchronously')
      return Promise.resolve(items)
    })
    await expect(echo(0)).rejects.toThrow('thrown synchronously')
    expect(await echo(1)).toBe(1)
  })

  it('rejects a run that answers the wrong number of results instead of answering callers wrongly', async () => {
    const broken = groupCommit(async (items: number[]) => items.slice(1))
    await expect(Promise.all([1, 2].map(broken))).rejects.toThrow(/1 results for 2 items/)
  })
})
