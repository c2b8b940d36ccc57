import type { Command } from 'commander'
import { clientAction } from '../context.js'
import { CliError, exitCodes } from '../errors.js'
import type { PolicyDto, WalletDto } from '../types.js'
import { type WaitOptions, waitForWork, waitOptions } from '../waitForWork.js'

export function killSwitchCommands(program: Command): void {
  waitOptions(program.command('halt <walletId>').description('kill switch: refuse new orders, drop unsent ones, CancelAll at the operator')
    .requiredOption('--reason <text>', 'why (kept in the audit log)'))
    .action(clientAction(async ({ api, out }, options: WaitOptions & { reason: string }, walletId: string) => {
      const halted = await api.post<{ wallet: WalletDto; cancelAllOutboxId: string; cancelledLocally: number }>(`/v1/wallets/${encodeURIComponent(walletId)}/halt`, { reason: options.reason })
      const line = (cancelAll: string) => `wallet ${halted.wallet.id} halted (${options.reason}); CancelAll ${cancelAll}, ${halted.cancelledLocally} unsent order(s) dropped`
      if (!options.wait) return out.result(halted, () => line('queued'))
      out.progress(`wallet halted; waiting for the operator to accept the CancelAll…`)
      // Halted here either way; exit 1 says the orders at the operator may still be live.
      const work = await waitForWork(api, out, halted.cancelAllOutboxId, options.timeout)
      if (!work.accepted) throw new CliError(exitCodes.failed, `wallet ${halted.wallet.id} is halted, but its CancelAll was not applied: ${work.note ?? work.status}`, { code: 'CANCEL_ALL.NOT_APPLIED' })
      out.result({ ...halted, cancelAll: work }, () => line('accepted by the operator'))
    }))
  program.command('compromise <walletId>').description("suspected compromise of the wallet's session keys: halt, CancelAll, revoke every session at the operator, alert")
    .requiredOption('--reason <text>', 'what was suspected (kept in the audit log and the alert)')
    .action(clientAction(async ({ api, out }, options: { reason: string }, walletId: string) => {
      const done = await api.post<{ wallet: WalletDto; revokedSessions: number }>(`/v1/wallets/${encodeURIComponent(walletId)}/compromise`, { reason: options.reason })
      out.result(done, () => `wallet ${done.wallet.id} halted (compromise: ${options.reason}); ${done.revokedSessions} session(s) revoked at the operator`)
    }))
  program.command('resume <walletId>').description('lift the kill switch')
    .action(clientAction(async ({ api, out }, _options: object, walletId: string) => {
      const resumed = await api.post<WalletDto>(`/v1/wallets/${encodeURIComponent(walletId)}/resume`, {})
      out.result(resumed, () => `wallet ${resumed.id} ${resumed.status}`)
    }))

  const policy = program.command('policy').description("a wallet's local trading limits")
  policy.command('set <walletId> <rules>').description('replace the policy; rules as JSON, e.g. \'{"maxOrderNotional":"5000","allowedMarkets":["ETH-USD"]}\'')
    .option('--session <sessionId>', "one session's policy instead of the wallet's")
    .action(clientAction(async ({ api, out }, options: { session?: string }, walletId: string, rules: string) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(rules)
      } catch {
        throw new CliError(exitCodes.usage, 'rules: must be a JSON object', { code: 'CLI.USAGE' })
      }
      const set = await api.put<PolicyDto>(`/v1/wallets/${encodeURIComponent(walletId)}/policy`, { rules: parsed, ...(options.session ? { sessionId: options.session } : {}) })
      out.result(set, () => `policy of wallet ${set.walletId}${set.sessionId ? ` (session ${set.sessionId})` : ''}: ${JSON.stringify(set.rules)}`)
    }))
  policy.command('get <walletId>').description('the current policy')
    .option('--session <sessionId>', "one session's policy")
    .action(clientAction(async ({ api, out }, options: { session?: string }, walletId: string) => {
      const got = await api.get<PolicyDto>(`/v1/wallets/${encodeURIComponent(walletId)}/policy`, { sessionId: options.session })
      out.result(got, () => JSON.stringify(got.rules, null, 2))
    }))
}
