import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AclAction, RequestFamily } from '../../src/core/acl/actions.js'
import { covers } from '../../src/core/acl/covers.js'
import { narrowestScope } from '../../src/core/acl/narrowestScope.js'
import { routineScope } from '../../src/core/acl/routineScope.js'
import { scopeAdding } from '../../src/core/acl/scopeAdding.js'
import { isValidScope, scopeProblems } from '../../src/core/acl/validateScope.js'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { CANONICAL_FAMILIES, allValidScopes, thrown } from './support/arbitraries.js'

const familyArb = fc.constantFrom(...CANONICAL_FAMILIES)

describe('covers', () => {
  it('has the expected answer for a few spelled-out cases', () => {
    expect(covers(['Order'], 'Order')).toBe(true)
    expect(covers(['Order'], 'ModifyOrder')).toBe(false)
    expect(covers(['ModifyOrder', 'CancelOrder'], 'CancelOrder')).toBe(true)
    expect(covers(['ModifyOrder', 'CancelOrder'], 'CancelAll')).toBe(false)
    expect(covers(['CancelAll'], 'CancelOrder')).toBe(false)
    expect(covers(['Unrestricted'], 'CancelAll')).toBe(true)
    expect(covers([], 'Order')).toBe(false)
  })

  it('for every valid scope and family: Unrestricted covers all, otherwise exactly the families listed', () => {
    const scopes = allValidScopes()
    expect(scopes).toHaveLength(16)
    for (const scope of scopes) {
      for (const family of CANONICAL_FAMILIES) {
        const expected = scope[0] === 'Unrestricted' || (scope as string[]).includes(family)
        expect(covers(scope, family), `${JSON.stringify(scope)} / ${family}`).toBe(expected)
      }
    }
  })
})

describe('narrowestScope', () => {
  it('returns the families asked for, deduplicated, in canonical order, and nothing more', () => {
    expect(narrowestScope({ families: ['CancelAll', 'Order', 'CancelAll'] })).toEqual(['Order', 'CancelAll'])
    expect(narrowestScope({ families: new Set<RequestFamily>(['CancelOrder', 'ModifyOrder']) })).toEqual(['ModifyOrder', 'CancelOrder'])
    fc.assert(
      fc.property(fc.array(familyArb, { minLength: 1, maxLength: 12 }), (families) => {
        const scope = narrowestScope({ families })
        expect(scopeProblems(scope)).toEqual([])
        expect(scope).not.toContain('Unrestricted')
        expect(new Set(scope)).toEqual(new Set(families))
        for (const family of families) expect(covers(scope, family)).toBe(true)
        // Minimal: dropping any action leaves some asked-for family uncovered.
        for (const action of scope) {
          const smaller = scope.filter((a) => a !== action)
          expect(families.every((family) => covers(smaller, family))).toBe(false)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('returns Unrestricted only when asked for explicitly', () => {
    expect(narrowestScope({ families: [...CANONICAL_FAMILIES] })).toEqual([...CANONICAL_FAMILIES])
    expect(narrowestScope({ families: [...CANONICAL_FAMILIES], unrestricted: false })).toEqual([...CANONICAL_FAMILIES])
    expect(narrowestScope({ families: ['Order'], unrestricted: true })).toEqual(['Unrestricted'])
  })

  it.each([
    [[], false, /at least one request family/],
    [['Trade'], false, /"Trade" is not a request family/],
    [['Order', 'Unrestricted'], false, /"Unrestricted" is not a request family/],
    [['order'], true, /"order" is not a request family/],
  ])('rejects families %j (unrestricted %s) naming `families`', (families, unrestricted, rule) => {
    const error = thrown(() => narrowestScope({ families: families as RequestFamily[], unrestricted }))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe('families')
    expect((error as ValidationError).rule).toMatch(rule)
  })
})

describe('scopeProblems', () => {
  it('accepts every valid scope', () => {
    for (const scope of allValidScopes()) {
      expect(scopeProblems(scope)).toEqual([])
      expect(isValidScope(scope)).toBe(true)
    }
  })

  it.each([
    [[], ['aclScope: must not be empty']],
    [['Trade'], ['aclScope: unknown action(s) "Trade"']],
    [['Order', 'order'], ['aclScope: unknown action(s) "order"']],
    [['Order', 'Order'], ['aclScope: must not contain duplicates']],
    [['CancelAll', 'Order'], ['aclScope: must be in canonical order Order, ModifyOrder, CancelOrder, CancelAll']],
    [['Unrestricted', 'Order'], ['aclScope: "Unrestricted" must stand alone']],
    [['Unrestricted', 'Unrestricted'], ['aclScope: must not contain duplicates', 'aclScope: "Unrestricted" must stand alone']],
  ])('%j → %j', (scope, problems) => {
    expect(scopeProblems(scope)).toEqual(problems)
    expect(isValidScope(scope)).toBe(false)
  })

  it('reports every problem at once', () => {
    const problems = scopeProblems(['Unrestricted', 'Trade', 'CancelAll', 'Order', 'Order'])
    expect(problems).toHaveLength(4)
    expect(problems).toContainEqual(expect.stringMatching(/unknown action\(s\) "Trade"/))
    expect(problems).toContainEqual(expect.stringMatching(/duplicates/))
    expect(problems).toContainEqual(expect.stringMatching(/"Unrestricted" must stand alone/))
    expect(problems).toContainEqual(expect.stringMatching(/canonical order/))
    for (const problem of problems) expect(problem).toMatch(/^aclScope: /)
  })

  it('reports any out-of-order arrangement of distinct families as non-canonical, and nothing else', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...CANONICAL_FAMILIES], { minLength: 2 }), (scope) => {
        const canonical = CANONICAL_FAMILIES.filter((family) => scope.includes(family))
        const inOrder = scope.every((family, i) => family === canonical[i])
        expect(scopeProblems(scope)).toEqual(inOrder ? [] : ['aclScope: must be in canonical order Order, ModifyOrder, CancelOrder, CancelAll'])
      }),
      { numRuns: 300 },
    )
  })

  it('names non-string actions without throwing (a bigint cannot be JSON-stringified)', () => {
    expect(scopeProblems([1n, null])).toEqual(['aclScope: unknown action(s) bigint 1, object null'])
  })

  it('does not throw on a value that is not an array', () => {
    expect(scopeProblems('Order' as unknown as AclAction[])).toEqual(['aclScope: must be an array of actions'])
  })
})

describe('scopeAdding', () => {
  it('is the narrowest canonical scope covering the scope and the families added; Unrestricted stays', () => {
    expect(scopeAdding(['Order', 'CancelOrder', 'CancelAll'], ['ModifyOrder'])).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect(scopeAdding(['CancelAll'], ['Order'])).toEqual(['Order', 'CancelAll'])
    expect(scopeAdding(['Order', 'CancelOrder'], ['Order'])).toEqual(['Order', 'CancelOrder'])
    expect(scopeAdding(['Unrestricted'], ['ModifyOrder'])).toEqual(['Unrestricted'])
    for (const scope of allValidScopes()) {
      for (const family of CANONICAL_FAMILIES) {
        const widened = scopeAdding(scope, [family])
        expect(isValidScope(widened)).toBe(true)
        expect(covers(widened, family)).toBe(true)
        for (const kept of CANONICAL_FAMILIES) if (covers(scope, kept)) expect(covers(widened, kept)).toBe(true)
      }
    }
  })
})

describe('routineScope', () => {
  const all: RequestFamily[] = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll']
  it('drops what nothing needs and the user did not choose; keeps the choice, the needs the scope covers and what is added', () => {
    const defaults: RequestFamily[] = ['Order', 'CancelOrder', 'CancelAll']
    expect(routineScope({ current: all, chosen: null, needed: defaults })).toEqual({ families: defaults, unrestricted: false })
    expect(routineScope({ current: all, chosen: null, needed: [...defaults, 'ModifyOrder'] })).toEqual({ families: all, unrestricted: false })
    expect(routineScope({ current: all, chosen: all, needed: defaults })).toEqual({ families: all, unrestricted: false })
    // The user's choice without CancelAll: not widened to the defaults.
    expect(routineScope({ current: ['Order', 'ModifyOrder', 'CancelOrder'], chosen: ['Order', 'CancelOrder'], needed: ['Order', 'CancelOrder'] })).toEqual({ families: ['Order', 'CancelOrder'], unrestricted: false })
    // Needs the current scope does not cover wait for a scope change; what is added is asked for.
    expect(routineScope({ current: ['Order', 'CancelOrder'], chosen: null, needed: defaults })).toEqual({ families: ['Order', 'CancelOrder'], unrestricted: false })
    expect(routineScope({ current: defaults, chosen: null, needed: defaults, adding: ['ModifyOrder'] })).toEqual({ families: all, unrestricted: false })
    expect(routineScope({ current: ['Unrestricted'], chosen: ['Unrestricted'], needed: defaults })).toEqual({ families: all, unrestricted: true })
  })

  it('never asks for a family the current scope lacks but for those added, and never drops a chosen or needed one it covers', () => {
    fc.assert(fc.property(fc.constantFrom(...allValidScopes()), fc.option(fc.constantFrom(...allValidScopes()), { nil: null }), fc.subarray(all), fc.subarray(all), (current, chosen, needed, adding) => {
      const { families, unrestricted } = routineScope({ current, chosen, needed, adding })
      expect(families.length).toBeGreaterThan(0)
      if (unrestricted) {
        expect(chosen).toEqual(['Unrestricted'])
        return
      }
      for (const family of families) expect(covers(current, family) || adding.includes(family) || covers(chosen ?? [], family)).toBe(true)
      for (const family of [...needed.filter((f) => covers(current, f)), ...adding, ...(chosen ?? []).filter((a): a is RequestFamily => a !== 'Unrestricted')]) expect(families).toContain(family)
    }))
  })
})
