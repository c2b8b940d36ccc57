/**
 * The API checks schedule timings on one thread, first come first served. A tenant may have two
 * checks waiting or under way at once; one more is refused 429 at once, so one tenant sending new
 * crons as fast as it can does not queue every other tenant's schedules behind its own.
 */
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src/api/errors.js'
import { TIMING_CHECKS_PER_TENANT, tenantTimingChecks } from '../../src/api/tenantTimingChecks.js'
import type { ScheduleTiming } from '../../src/core/rebalance/scheduleTimingProblem.js'
import { apiHarnessForFile, tradingWallet } from './support/apiHarness.js'

const timing: ScheduleTiming = { cron: '0 9 * * *', timeZone: 'UTC', fromMs: Date.parse('2026-12-01T00:00:00Z') }

describe('a tenant\'s timing checks', () => {
  it('are two at once at most: a third is refused 429 at once, another tenant\'s still goes, and a check answered frees its place', async () => {
    const answers: (() => void)[] = []
    const checker = { problem: () => new Promise<undefined>((resolve) => { answers.push(() => resolve(undefined)) }) }
    const checksOf = tenantTimingChecks(checker)
    const a = checksOf('tenant-a')
    const first = a.problem(timing)
    const second = checksOf('tenant-a').problem(timing)
    const refused = await a.problem(timing).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ApiError)
    expect(refused).toMatchObject({ statusCode: 429, code: 'SCHEDULE.CHECKS_BUSY', field: 'cron', headers: { 'retry-after': '1' } })
    expect(answers).toHaveLength(2)
    const other = checksOf('tenant-b').problem(timing)
    expect(answers).toHaveLength(3)
    answers[0]!()
    await first
    const third = a.problem(timing)
    expect(answers).toHaveLength(4)
    for (const answer of answers.slice(1)) answer()
    expect(await Promise.all([second, other, third])).toEqual([undefined, undefined, undefined])
    expect(TIMING_CHECKS_PER_TENANT).toBe(2)
  })

  it('a refused or failed check frees its place too', async () => {
    const checksOf = tenantTimingChecks({ problem: async () => { throw new Error('thread died') } }, 1)
    await expect(checksOf('tenant-a').problem(timing)).rejects.toThrow('thread died')
    await expect(checksOf('tenant-a').problem(timing)).rejects.toThrow('thread died')
  })
})

describe('through the API', () => {
  const file = apiHarnessForFile()

  it('a burst of edits with new crons from one tenant gets 429s past its two checks, while another tenant\'s edit is answered', async () => {
    const { api, tenant } = file
    const other = await api.tenant()
    const schedule = async (owner: typeof tenant) => {
      const { wallet } = await tradingWallet(api, owner)
      const created = await owner.request('POST', `/v1/wallets/${wallet.id}/schedules`, { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 })
      expect(created.statusCode, created.body).toBe(201)
      return created.json<{ id: string }>().id
    }
    const [mine, theirs] = [await schedule(tenant), await schedule(other)]
    // Crons and zones never checked in this process: each stepped in full on the thread (0.1-1 s).
    const zones = ['Europe/Rome', 'America/Halifax', 'Asia/Beirut', 'Pacific/Auckland', 'America/Santiago', 'Europe/Kyiv']
    const burst = zones.map((timeZone, i) => tenant.request('PATCH', `/v1/schedules/${mine}`, { cron: `${21 + i} 3 * * *`, timeZone }))
    const theirEdit = other.request('PATCH', `/v1/schedules/${theirs}`, { cron: '41 3 * * *', timeZone: 'Europe/Vilnius' })
    const answered = await Promise.all(burst)
    const statuses = answered.map((response) => response.statusCode)
    expect(statuses.every((status) => status === 200 || status === 429), statuses.join()).toBe(true)
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(TIMING_CHECKS_PER_TENANT)
    const busy = answered.filter((response) => response.statusCode === 429)
    expect(busy.length).toBeGreaterThanOrEqual(1)
    for (const response of busy) {
      expect(response.headers['retry-after']).toBe('1')
      expect(response.json()).toMatchObject({ error: { code: 'SCHEDULE.CHECKS_BUSY', field: 'cron', rule: 'at most 2 schedule timing checks of a tenant at once' } })
    }
    expect((await theirEdit).statusCode).toBe(200)
  })
})
