import type { Command } from 'commander'
import { clientAction } from '../context.js'
import { CliError, exitCodes } from '../errors.js'
import { shortId, table } from '../output.js'
import { parseInteger, parseTargets } from '../parse.js'
import type { ScheduleDto, ScheduleRunDto } from '../types.js'

const targetsText = (targets: Record<string, string>) => Object.entries(targets).map(([asset, weight]) => `${asset}=${weight}`).join(',')
const scheduleLine = (s: ScheduleDto) => `schedule ${s.id}  ${s.status}  "${s.cron}" ${s.timeZone}  targets ${targetsText(s.targets)}  v${s.version}`

export function scheduleTable(schedules: readonly ScheduleDto[]): string {
  return table(['SCHEDULE', 'WALLET', 'STATUS', 'CRON', 'ZONE', 'TARGETS'], schedules.map((s) => [shortId(s.id), shortId(s.walletId), s.status, s.cron, s.timeZone, targetsText(s.targets)]))
}

export function scheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('rebalancing schedules')
  schedule.command('add <walletId>').description('create a schedule that rebalances the wallet to target weights')
    .requiredOption('--targets <pairs>', 'target weights, e.g. ETH=0.5,USD=0.5 (they sum to 1)', parseTargets)
    .requiredOption('--cron <expression>', 'when to run, e.g. "0 9 * * 1"')
    .option('--tz <zone>', 'IANA time zone of the cron', 'UTC')
    .option('--tolerance <band>', 'weight drift tolerated before an asset trades', '0.02')
    .option('--min-trade <notional>', 'smallest leg worth placing, in USD', '10')
    .option('--offset-bps <bps>', 'limit price offset from the mark, in basis points', parseInteger, 10)
    .option('--max-notional <notional>', 'most notional one run may trade')
    .action(clientAction(async ({ api, out }, o: { targets: Record<string, string>; cron: string; tz: string; tolerance: string; minTrade: string; offsetBps: number; maxNotional?: string }, walletId: string) => {
      const created = await api.post<ScheduleDto>(`/v1/wallets/${encodeURIComponent(walletId)}/schedules`, {
        targets: o.targets, cron: o.cron, timeZone: o.tz, toleranceBand: o.tolerance, minTradeNotional: o.minTrade, limitOffsetBps: o.offsetBps,
        ...(o.maxNotional ? { maxNotionalPerRun: o.maxNotional } : {}),
      })
      out.result(created, () => scheduleLine(created))
    }))
  schedule.command('edit <scheduleId>').description('change a schedule: the options given replace its stored values (the whole spec is checked again)')
    .option('--targets <pairs>', 'target weights, e.g. ETH=0.6,USD=0.4 (they sum to 1)', parseTargets)
    .option('--cron <expression>', 'when to run')
    .option('--tz <zone>', 'IANA time zone of the cron')
    .option('--tolerance <band>', 'weight drift tolerated before an asset trades')
    .option('--min-trade <notional>', 'smallest leg worth placing, in USD')
    .option('--offset-bps <bps>', 'limit price offset from the mark, in basis points', parseInteger)
    .option('--max-notional <notional>', 'most notional one run may trade; "none" removes the cap')
    .option('--expect-version <n>', 'refuse the edit unless the schedule is still at this version', parseInteger)
    .action(clientAction(async ({ api, out }, o: { targets?: Record<string, string>; cron?: string; tz?: string; tolerance?: string; minTrade?: string; offsetBps?: number; maxNotional?: string; expectVersion?: number }, scheduleId: string) => {
      const patch = {
        targets: o.targets, cron: o.cron, timeZone: o.tz, toleranceBand: o.tolerance, minTradeNotional: o.minTrade, limitOffsetBps: o.offsetBps,
        maxNotionalPerRun: o.maxNotional === 'none' ? null : o.maxNotional,
      }
      const changes = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined))
      if (Object.keys(changes).length === 0) throw new CliError(exitCodes.usage, 'nothing to change: give at least one of --targets, --cron, --tz, --tolerance, --min-trade, --offset-bps, --max-notional', { code: 'CLI.USAGE' })
      const edited = await api.patch<ScheduleDto>(`/v1/schedules/${encodeURIComponent(scheduleId)}`, { ...changes, ...(o.expectVersion === undefined ? {} : { expectedVersion: o.expectVersion }) })
      out.result(edited, () => scheduleLine(edited))
    }))
  schedule.command('list').description('active and paused schedules')
    .option('--wallet <walletId>', 'only this wallet')
    .action(clientAction(async ({ api, out }, options: { wallet?: string }) => {
      const schedules = await api.getAll<ScheduleDto>('/v1/schedules', 'schedules', { walletId: options.wallet })
      out.result(schedules, () => scheduleTable(schedules))
    }))
  schedule.command('pause <scheduleId>').description('stop a schedule firing and cancel its working orders')
    .option('--keep-orders', 'leave its working orders resting (they may still fill)')
    .action(clientAction(async ({ api, out }, options: { keepOrders?: boolean }, scheduleId: string) => {
      const query = options.keepOrders ? '?cancelOpenOrders=false' : ''
      const paused = await api.post<ScheduleDto & { cancelledOrderIds: string[] }>(`/v1/schedules/${encodeURIComponent(scheduleId)}/pause${query}`, {})
      out.result(paused, () => `${scheduleLine(paused)}\ncancelled ${paused.cancelledOrderIds.length} working order(s)`)
    }))
  schedule.command('resume <scheduleId>').description('resume a paused schedule from its next slot')
    .action(clientAction(async ({ api, out }, _options: object, scheduleId: string) => {
      const resumed = await api.post<ScheduleDto>(`/v1/schedules/${encodeURIComponent(scheduleId)}/resume`, {})
      out.result(resumed, () => scheduleLine(resumed))
    }))
  schedule.command('remove <scheduleId>').description("delete a schedule and cancel its working orders")
    .option('--keep-orders', 'leave its working orders alone')
    .action(clientAction(async ({ api, out }, options: { keepOrders?: boolean }, scheduleId: string) => {
      const removed = await api.delete<{ schedule: ScheduleDto; cancelledOrderIds: string[] }>(`/v1/schedules/${encodeURIComponent(scheduleId)}`, options.keepOrders ? { cancelOpenOrders: 'false' } : {})
      out.result(removed, () => `${scheduleLine(removed.schedule)}\ncancelled ${removed.cancelledOrderIds.length} working order(s)`)
    }))
  schedule.command('runs <scheduleId>').description("a schedule's run log, latest first")
    .option('--limit <n>', 'at most this many (default 100)')
    .action(clientAction(async ({ api, out }, options: { limit?: string }, scheduleId: string) => {
      const { runs } = await api.get<{ runs: ScheduleRunDto[] }>(`/v1/schedules/${encodeURIComponent(scheduleId)}/runs`, { limit: options.limit })
      out.result(runs, () => table(['SLOT', 'STATUS', 'REASON', 'LEGS', 'DETAIL'], runs.map((r) => [r.slotAt, r.status, r.reason, r.legs.length, r.detail])))
    }))
}
