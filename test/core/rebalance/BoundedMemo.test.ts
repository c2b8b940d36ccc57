import { expect, it } from 'vitest'
import { BoundedMemo } from '../../../src/core/rebalance/BoundedMemo.js'

it('keeps at most max answers, dropping the least recently used first', () => {
  const memo = new BoundedMemo<string>(3)
  let computed = 0
  const ask = (key: string) => memo.get(key, () => { computed++; return `answer ${key}` })
  for (const key of ['a', 'b', 'c']) ask(key)
  expect(ask('a')).toBe('answer a') // kept, and now the most recently used
  expect(computed).toBe(3)
  ask('d') // drops b, the least recently used
  expect(memo.size).toBe(3)
  ask('a')
  ask('c')
  expect(computed).toBe(4)
  ask('b')
  expect(computed).toBe(5)
  for (let i = 0; i < 100; i++) ask(`key ${i}`)
  expect(memo.size).toBe(3)
})

it('keeps no answer for a computation that throws', () => {
  const memo = new BoundedMemo<number>(3)
  expect(() => memo.get('x', () => { throw new Error('no answer') })).toThrow('no answer')
  expect(memo.size).toBe(0)
  expect(memo.get('x', () => 7)).toBe(7)
})
