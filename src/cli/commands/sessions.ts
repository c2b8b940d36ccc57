import { type Command, Option } from 'commander'
import { clientAction } from '../context.js'
import { relative, shortId, table } from '../output.js'
import { parseDuration, parseFamilies } from '../parse.js'
import type { SessionDto } from '../types.js'

type GrantOptions = { families?: string[]; unrestricted?: boolean; lifetime?: number }

const grantBody = (options: GrantOptions) => ({
  ...(options.families ? { families: options.families } : {}),
  ...(options.unrestricted ? { unrestricted: true } : {}),
  ...(options.lifetime !== undefined ? { lifetimeSeconds: options.lifetime } : {}),
})

/** The scope the user chose, which the worker's rotations keep; `-` when the worker chose it. */
const chosen = (s: SessionDto) => (s.chosenScope ? s.chosenScope.join(',') : '-')

export const sessionLine = (s: SessionDto) => `session ${s.id}  ${s.status}  scope ${s.aclScope.join(',')}  chosen ${chosen(s)}  expires ${s.expiry} (${relative(s.expiresInSeconds)})`

export function sessionTable(sessions: readonly SessionDto[]): string {
  return table(['SESSION', 'WALLET', 'STATUS', 'SCOPE', 'CHOSEN', 'EXPIRES'], sessions.map((s) => [shortId(s.id), shortId(s.walletId), s.status, s.aclScope.join(','), chosen(s), s.status === 'active' || s.status === 'rotating' ? relative(s.expiresInSeconds) : s.expiry]))
}

function withGrantOptions(command: Command): Command {
  return command
    .option('--families <list>', 'request families the session may sign (Order,ModifyOrder,CancelOrder,CancelAll)', parseFamilies)
    .option('--unrestricted', 'ask for the Unrestricted scope')
    .option('--lifetime <duration>', 'how long the delegation lasts, e.g. 7d or 12h (default: the API\'s SESSION_LIFETIME_SECONDS, 7d unless set; rotate: the current one\'s); at least twice the worker\'s rotation lead, 12h with the default lead', parseDuration)
}

export function sessionCommands(program: Command): void {
  const session = program.command('session').description('delegated session keys')
  withGrantOptions(session.command('grant <walletId>').description('new session key, Delegation signed by the wallet, pre-live checks, activation'))
    .action(clientAction(async ({ api, out }, options: GrantOptions, walletId: string) => {
      out.progress(`granting a session for wallet ${walletId}: generating a key and asking the wallet to sign the Delegation…`)
      const granted = await api.post<{ session: SessionDto; replaced: string[] }>(`/v1/wallets/${encodeURIComponent(walletId)}/sessions`, grantBody(options))
      out.result(granted, () => `${sessionLine(granted.session)}${granted.replaced.length ? `\nreplaced ${granted.replaced.join(', ')} (rotating out)` : ''}`)
    }))
  withGrantOptions(session.command('rotate <walletId>').description('replace the active session with a new one (default: the same scope)'))
    .action(clientAction(async ({ api, out }, options: GrantOptions, walletId: string) => {
      out.progress(`rotating the session of wallet ${walletId}…`)
      const rotated = await api.post<{ session: SessionDto; replaced: string[] }>(`/v1/wallets/${encodeURIComponent(walletId)}/sessions/rotate`, grantBody(options))
      out.result(rotated, () => `${sessionLine(rotated.session)}\nreplaced ${rotated.replaced.join(', ') || '(none)'}`)
    }))
  session.command('revoke <sessionId>').description('revoke at the operator (its open orders are cancelled there)')
    .option('--reason <text>', 'why, for the audit log')
    .action(clientAction(async ({ api, out }, options: { reason?: string }, sessionId: string) => {
      out.progress(`revoking session ${sessionId} at the operator…`)
      const revoked = await api.post<SessionDto>(`/v1/sessions/${encodeURIComponent(sessionId)}/revoke`, options.reason ? { reason: options.reason } : {})
      out.result(revoked, () => sessionLine(revoked))
    }))
  session.command('list <walletId>').description("a wallet's sessions, newest first")
    .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'delegated', 'active', 'rotating', 'revoked', 'expired', 'quarantined']))
    .option('--limit <n>', 'at most this many, the newest (default 100, at most 500)')
    .action(clientAction(async ({ api, out }, options: { status?: string; limit?: string }, walletId: string) => {
      const { sessions } = await api.get<{ sessions: SessionDto[] }>(`/v1/wallets/${encodeURIComponent(walletId)}/sessions`, { status: options.status, limit: options.limit })
      out.result(sessions, () => sessionTable(sessions))
    }))
}
