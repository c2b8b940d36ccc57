import { describe, expect, it } from 'vitest'
import { repeatedJsonKey } from '../../../src/core/text/repeatedJsonKey.js'

describe('repeatedJsonKey', () => {
  it('names a key given twice in one object, by its path', () => {
    expect(repeatedJsonKey('{"size":"0.1","size":"100"}')).toBe('size')
    expect(repeatedJsonKey('{"targets":{"ETH":"0.5","USD":"0.2","ETH":"0.3"}}')).toBe('targets.ETH')
    expect(repeatedJsonKey('{"legs":[{"a":1},{"a":1,"b":[1,{"c":2,"c":3}]}]}')).toBe('legs.1.b.1.c')
  })

  it('compares keys decoded, not as written', () => {
    expect(repeatedJsonKey('{"price":"1","\\u0070rice":"2"}')).toBe('price')
  })

  it('answers undefined when every object has distinct keys, the same key in different objects included', () => {
    expect(repeatedJsonKey('{"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]}')).toBeUndefined()
    // Keys and values that look alike: a value equal to a key, quotes, commas and braces inside strings.
    expect(repeatedJsonKey('{"a":"a","b":"{\\"a\\":1,","c":["a","a"],"d\\"":"}"}')).toBeUndefined()
    expect(repeatedJsonKey('[{"a":1},{"a":1}]')).toBeUndefined()
    expect(repeatedJsonKey('"a"')).toBeUndefined()
    expect(repeatedJsonKey('{}')).toBeUndefined()
  })

  it('walks any depth without recursion', () => {
    const deep = `${'['.repeat(100_000)}{"a":1,"a":2}${']'.repeat(100_000)}`
    expect(repeatedJsonKey(deep)?.endsWith('.a')).toBe(true)
  })
})
