import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AclAction, RequestFamily } from '../../src/core/acl/actions.js'
import type { SignedDelegation } from '../../src/core/delegation/encodeDelegatedPayload.js'
import { type PreLiveParameters, preLiveProblems } from '../../src/core/delegation/preLiveProblems.js'

const NOW = 1_750_000_000
const HOUR = 3600
const DAY = 24 * HOUR
const key = `0x03${'5a'.repeat(32)}` as Hex

const delegation: SignedDelegation = {
  wallet: '0x8ba1f109551bD432803012645Ac136ddd64DBA72',
  sessionPublicKey: key,
  aclScope: ['Order', 'CancelOrder'],
  expiry: BigInt(NOW + 7 * DAY),
  nonce: 1n,
  walletSignature: `0x${'11'.repeat(65)}`,
}

function check(overrides: Omit<Partial<PreLiveParameters>, 'delegation'> & { delegation?: Partial<SignedDelegation> } = {}): string[] {
  const { delegation: patch, ...rest } = overrides
  return preLiveProblems({
    delegation: { ...delegation, ...patch },
    signingPublicKey: key,
    neededFamilies: ['Order', 'CancelOrder'],
    nowSeconds: NOW,
    ...rest,
  })
}

describe('preLiveProblems', () => {
  it('finds nothing wrong with a good delegation', () => {
    expect(check()).toEqual([])
    expect(check({ neededFamilies: ['CancelOrder', 'Order', 'Order'] })).toEqual([])
    expect(check({ signingPublicKey: key.toUpperCase().replace('0X', '0x') as Hex })).toEqual([])
  })

  it('accepts an Unrestricted delegation the user asked for', () => {
    expect(check({ delegation: { aclScope: ['Unrestricted'] }, unrestrictedRequested: true })).toEqual([])
  })

  it('reports an expired delegation, including one expiring this very second', () => {
    for (const expiry of [NOW - 1, NOW]) {
      const problems = check({ delegation: { expiry: BigInt(expiry) } })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(new RegExp(`^expiry: the delegation expired at ${expiry} \\(now ${NOW}\\)`))
    }
  })

  it('reports an expiry too close to automate, at the default and a custom margin', () => {
    expect(check({ delegation: { expiry: BigInt(NOW + HOUR - 1) } })).toEqual([`expiry: only ${HOUR - 1}s left; at least ${HOUR}s are needed to automate safely`])
    expect(check({ delegation: { expiry: BigInt(NOW + HOUR) } })).toEqual([])
    expect(check({ delegation: { expiry: BigInt(NOW + HOUR) }, minRemainingSeconds: 2 * HOUR })).toHaveLength(1)
  })

  it('reports an expiry beyond the automation window, at the default and a custom window', () => {
    expect(check({ delegation: { expiry: BigInt(NOW + 30 * DAY + 1) } })).toEqual([`expiry: ${30 * DAY + 1}s ahead exceeds the automation window of ${30 * DAY}s`])
    expect(check({ delegation: { expiry: BigInt(NOW + 30 * DAY) } })).toEqual([])
    expect(check({ maxLifetimeSeconds: DAY })).toEqual([`expiry: ${7 * DAY}s ahead exceeds the automation window of ${DAY}s`])
  })

  it('reports a session key that is not the one the worker signs with', () => {
    const problems = check({ signingPublicKey: `0x02${'5a'.repeat(32)}` })
    expect(problems).toEqual(['sessionPublicKey: does not match the key the worker signs with (the operator would answer SignerMismatch)'])
  })

  it('reports a family the work needs that the scope lacks', () => {
    expect(check({ neededFamilies: ['Order', 'CancelOrder', 'CancelAll'] })).toEqual(['aclScope: does not cover CancelAll (the operator would answer SessionAclViolation)'])
  })

  it('reports a family the scope grants beyond the need', () => {
    expect(check({ neededFamilies: ['Order'] })).toEqual(['aclScope: grants CancelOrder beyond what the work needs (Order)'])
  })

  it('reports an Unrestricted scope nobody asked for', () => {
    expect(check({ delegation: { aclScope: ['Unrestricted'] } })).toEqual(['aclScope: "Unrestricted" was not requested; ask for the narrowest scope'])
    expect(check({ delegation: { aclScope: ['Unrestricted'] }, unrestrictedRequested: false })).toHaveLength(1)
  })

  it('reports every problem at once', () => {
    const problems = check({
      delegation: { expiry: BigInt(NOW - 10), aclScope: ['Order', 'CancelAll'], walletSignature: '0x1234' },
      signingPublicKey: `0x02${'00'.repeat(32)}`,
      neededFamilies: ['Order', 'ModifyOrder'],
    })
    expect(problems).toHaveLength(5)
    expect(problems).toContainEqual(expect.stringMatching(/^walletSignature: .*65 bytes/))
    expect(problems).toContainEqual(expect.stringMatching(/^expiry: the delegation expired/))
    expect(problems).toContainEqual(expect.stringMatching(/^sessionPublicKey: does not match/))
    expect(problems).toContainEqual(expect.stringMatching(/^aclScope: does not cover ModifyOrder/))
    expect(problems).toContainEqual(expect.stringMatching(/^aclScope: grants CancelAll beyond/))
  })

  it('includes structural problems of the delegation', () => {
    const problems = check({ delegation: { aclScope: ['CancelOrder', 'Order'] as AclAction[] } })
    expect(problems).toEqual(['aclScope: must be in canonical order Order, ModifyOrder, CancelOrder, CancelAll'])
  })

  it('reports an unknown needed family instead of throwing', () => {
    const problems = check({ neededFamilies: ['Order', 'Trade' as RequestFamily] })
    expect(problems).toEqual(['neededFamilies: unknown request family Trade', 'aclScope: grants CancelOrder beyond what the work needs (Order)'])
  })
})
