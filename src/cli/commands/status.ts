import type { Command } from 'commander'
import { clientAction } from '../context.js'
import { table } from '../output.js'
import type { StatusDto } from '../types.js'
import { orderTable } from './orders.js'
import { scheduleTable } from './schedules.js'
import { sessionTable } from './sessions.js'

const queueColumns = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const

/** The whole status as text: one titled table per concern. */
export function statusText(status: StatusDto): string {
  const sections: [string, string][] = [
    ['WALLETS', table(['WALLET', 'ADDRESS', 'STATUS', 'SIGNER'], status.wallets.map((w) => [w.id, w.address, w.status + (w.haltedReason ? ` (${w.haltedReason})` : ''), w.canSignDelegation ? 'yes' : 'no']))],
    ['SESSIONS', sessionTable(status.sessions)],
    ['WORKING ORDERS', orderTable(status.workingOrders)],
    ['SCHEDULES', scheduleTable(status.schedules)],
    ['QUEUES', status.queues === null
      ? `unavailable (${status.queuesUnavailable ?? 'Redis did not answer'})`
      : table(['QUEUE', ...queueColumns.map((c) => c.toUpperCase()), 'PAUSED'], Object.entries(status.queues).map(([name, q]) => [name, ...queueColumns.map((c) => q.counts[c] ?? 0), q.paused ? 'yes' : 'no']))],
  ]
  return sections.map(([title, body]) => `${title}\n${body}`).join('\n\n')
}

export function statusCommand(program: Command): void {
  program.command('status').description('sessions, working orders, schedules and queue health')
    .action(clientAction(async ({ api, out }) => {
      const status = await api.get<StatusDto>('/v1/status')
      out.result(status, () => statusText(status))
    }))
}
