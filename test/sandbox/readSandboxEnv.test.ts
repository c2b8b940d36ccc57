import { describe, expect, it } from 'vitest'
import { readSandboxEnv } from '../../src/sandbox/readSandboxEnv.js'

describe('readSandboxEnv (npm run sandbox, deputy sandbox)', () => {
  it('reads nothing set as the defaults', () => {
    expect(readSandboxEnv({})).toEqual({
      host: '127.0.0.1', port: 8787, domain: {}, maxDeadlineMs: 60_000,
      fees: { takerBps: 5, makerBps: 2 }, rateLimit: { perSecond: 100, burst: 200 }, logLevel: 'info',
    })
  })

  it('reads each variable', () => {
    expect(readSandboxEnv({
      SANDBOX_HOST: '0.0.0.0', SANDBOX_PORT: '0', SANDBOX_CHAIN_ID: '1', SANDBOX_DOMAIN_NAME: 'Test',
      SANDBOX_VERIFYING_CONTRACT: '0x1111111111111111111111111111111111111111', SANDBOX_MAX_DEADLINE_MS: '5000',
      SANDBOX_MAKER_SIZE: '0.02', SANDBOX_TAKER_FEE_BPS: '10', SANDBOX_MAKER_FEE_BPS: '-3',
      SANDBOX_RATE_LIMIT_PER_SECOND: '0', SANDBOX_LOG_LEVEL: 'silent',
    })).toEqual({
      host: '0.0.0.0', port: 0, domain: { name: 'Test', chainId: 1, verifyingContract: '0x1111111111111111111111111111111111111111' },
      maxDeadlineMs: 5000, makerSize: '0.02', fees: { takerBps: 10, makerBps: -3 }, rateLimit: false, logLevel: 'silent',
    })
  })

  // Each bad value stops start-up with a message naming the variable and its rule, not a library's
  // error about an option field ("ETH-USD.makerSize", "options.port", "default level:loud").
  it.each([
    ['SANDBOX_PORT', '70000', /0 to 65535/],
    ['SANDBOX_PORT', '0x10', /whole number/],
    ['SANDBOX_CHAIN_ID', '0', /at least 1/],
    ['SANDBOX_VERIFYING_CONTRACT', '0x12', /20-byte hex address/],
    ['SANDBOX_MAX_DEADLINE_MS', '0', /at least 1/],
    ['SANDBOX_MAKER_SIZE', 'abc', /positive decimal/],
    ['SANDBOX_MAKER_SIZE', '0', /positive decimal/],
    ['SANDBOX_TAKER_FEE_BPS', '20000', /0 to 10000/],
    ['SANDBOX_MAKER_FEE_BPS', '-10', /-5 \(a rebate at most the taker fee\) to 10000/],
    ['SANDBOX_RATE_LIMIT_BURST', '0', /at least 1/],
    ['SANDBOX_LOG_LEVEL', 'loud', /one of fatal, error, warn, info, debug, trace, silent/],
    ['SANDBOX_HOST', '  ', /must not be blank/],
  ])('%s=%j is refused naming the variable and the rule', (name, value, rule) => {
    expect(() => readSandboxEnv({ [name]: value })).toThrow(new RegExp(`^${name}: .*${rule.source}`))
  })
})
