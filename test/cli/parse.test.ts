/**
 * The CLI's option parsers: a value is read in decimal digits only (`Number()` would also read
 * `0x10` as 16, `1e9` as a billion and a blank as 0), or refused as a usage error naming the rule.
 */
import { InvalidArgumentError } from 'commander'
import { expect, it } from 'vitest'
import { parseDuration, parseInteger, parseSeconds, parseUnixSeconds } from '../../src/cli/parse.js'

it('reads --timeout as a positive number of seconds in decimal, and refuses anything else', () => {
  expect([' 30', '2.5', '0.1'].map(parseSeconds)).toEqual([30, 2.5, 0.1])
  for (const value of ['0x10', '1e3', 'Infinity', '', ' ', '0', '-5', '5s', '.5']) {
    expect(() => parseSeconds(value), JSON.stringify(value)).toThrow(new InvalidArgumentError('must be a positive number of seconds, in decimal digits (e.g. 30 or 2.5)'))
  }
})

it('reads --ownership-deadline as whole unix seconds in decimal, and refuses anything else', () => {
  expect(parseUnixSeconds('1796490491')).toBe(1796490491)
  for (const value of ['0x10', '1e9', '', '1796490491.5', '-1', 'soon']) {
    expect(() => parseUnixSeconds(value), JSON.stringify(value)).toThrow(/^must be a unix time in whole seconds, in decimal digits$/)
  }
})

it('reads integers and durations in decimal digits only', () => {
  expect([parseInteger('-3'), parseDuration('90m'), parseDuration('7d')]).toEqual([-3, 5400, 604800])
  for (const value of ['0x10', '1e2', '']) {
    expect(() => parseInteger(value), value).toThrow(InvalidArgumentError)
    expect(() => parseDuration(value), value).toThrow(InvalidArgumentError)
  }
})
