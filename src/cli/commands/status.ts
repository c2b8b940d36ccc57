import type { Command } from 'commander'
import { clientAction } from '../context.js'
import { table } from '../output.js'
import type { StatusDto } from '../types.js'
import { orderTable } from './orders.js'
import { scheduleTable } from './schedules.js'
import { sessionTable } from './sessions.js'

/** The whole status as text: one titled table per concern. */
export function statusText(status: StatusDto): string {
  const sections: [string, string][] = [
    ['WALLETS', table(['WALLET', 'ADDRESS', 'STATUS', 'SIGNER'], status.wallets.map((w) => [w.id, w.address, w.status + (w.haltedReason ? ` (${w.haltedReason})` : ''), w.canSignDelegation ? 'yes' : 'no']))],
    ['SESSIONS', sessionTable(status.sessions)],
    ['WORKING ORDERS', orderTable(status.workingOrders)],
    ['SCHEDULES', scheduleTable(status.schedules)],
    ['WORK', table(['QUEUED', 'HELD', 'FAILED'], [[status.work.queued, status.work.held, status.work.failed]])],
    ['QUEUES', status.queues === null
      ? `unavailable (${status.queuesUnavailable ?? 'Redis did not answer'})`
      : table(['QUEUE', 'PAUSED'], Object.entries(status.queues).map(([name, q]) => [name, q.paused ? 'yes' : 'no']))],
  ]
  return sections.map(([title, body]) => `${title}\n${body}`).join('\n\n')
}

export function statusCommand(program: Command): void {
  program.command('status').description('sessions, working orders, schedules, queued work, and whether the queues are paused')
    .action(clientAction(async ({ api, out }) => {
      const status = await api.get<StatusDto>('/v1/status')
      out.result(status, () => statusText(status))
    }))
}
