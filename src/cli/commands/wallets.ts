import type { Command } from 'commander'
import { clientAction } from '../context.js'
import { shortId, table } from '../output.js'
import { parseUnixSeconds } from '../parse.js'
import type { AuditPageDto, WalletDto } from '../types.js'

const walletLine = (w: WalletDto) => `wallet ${w.id}  ${w.address}  ${w.status}${w.canSignDelegation ? '' : '  (no signer in the API process)'}`

export function walletCommands(program: Command): void {
  const wallet = program.command('wallet').description('register and list wallets')
  wallet.command('create')
    .description('register a wallet by address, or create a development wallet (no --address)')
    .option('--address <address>', 'an existing wallet address')
    .option('--custody-wallet-id <id>', 'its Privy wallet id (with --address and the ownership signature)')
    .option('--ownership-deadline <unix-seconds>', "the WalletRegistration's deadline (with --custody-wallet-id)", parseUnixSeconds)
    .option('--ownership-signature <hex>', "the wallet's signature of its WalletRegistration (with --custody-wallet-id; docs/privy.md)")
    .action(clientAction(async ({ api, out }, options: { address?: string; custodyWalletId?: string; ownershipDeadline?: number; ownershipSignature?: string }) => {
      const ownership = options.ownershipDeadline !== undefined || options.ownershipSignature !== undefined
        // One without the other is passed as given: the API's refusal names the missing field.
        ? { ownership: { deadline: options.ownershipDeadline, signature: options.ownershipSignature } }
        : {}
      const body = options.address ? { address: options.address, ...(options.custodyWalletId ? { custodyWalletId: options.custodyWalletId } : {}), ...ownership } : { generate: true }
      const created = await api.post<WalletDto>('/v1/wallets', body)
      out.result(created, () => walletLine(created))
    }))
  wallet.command('list').description("the tenant's wallets").action(clientAction(async ({ api, out }) => {
    const wallets = await api.getAll<WalletDto>('/v1/wallets', 'wallets')
    out.result(wallets, () => table(['WALLET', 'ADDRESS', 'STATUS', 'SIGNER'], wallets.map((w) => [w.id, w.address, w.status, w.canSignDelegation ? 'yes' : 'no'])))
  }))

  wallet.command('audit <walletId>').description("a wallet's audit trail, newest first (sessions, repairs, refusals, halts)")
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--before <id>', 'only entries older than this one (the NEXT line of the previous page)')
    .option('--action <action>', 'only this action, e.g. session.revoked')
    .option('--actor <actor>', 'only this actor: worker, reconciler, api, scheduler')
    .action(clientAction(async ({ api, out }, options: { limit?: string; before?: string; action?: string; actor?: string }, walletId: string) => {
      const page = await api.get<AuditPageDto>(`/v1/wallets/${encodeURIComponent(walletId)}/audit`, options)
      out.result(page, () => {
        const rows = table(['ID', 'AT', 'ACTOR', 'ACTION', 'DETAILS'], page.entries.map((e) => [e.id, e.at, e.actor, e.action, oneLine(e.details)]))
        return page.nextBefore ? `${rows}\nNEXT --before ${page.nextBefore}` : rows
      })
    }))

  const tenant = program.command('tenant').description('tenants and API keys (admin: DEPUTY_ADMIN_TOKEN)')
  tenant.command('create <name>').description('create a tenant; prints its API key once')
    .option('--label <label>', 'label of the first API key')
    .action(clientAction(async ({ api, out }, options: { label?: string }, name: string) => {
      const created = await api.admin().post<{ tenant: { id: string; name: string }; apiKey: { id: string; key: string } }>('/admin/tenants', { name, ...(options.label ? { keyLabel: options.label } : {}) })
      out.result(created, () => `tenant ${created.tenant.id} (${created.tenant.name})\nAPI key (shown once): ${created.apiKey.key}`)
    }))
  tenant.command('list').description('every tenant').action(clientAction(async ({ api, out }) => {
    const tenants = await api.admin().getAll<{ id: string; name: string; activeKeys: number; createdAt: string }>('/admin/tenants', 'tenants')
    out.result(tenants, () => table(['TENANT', 'NAME', 'KEYS', 'CREATED'], tenants.map((t) => [t.id, t.name, t.activeKeys, t.createdAt])))
  }))
  tenant.command('key <tenantId>').description('create another API key for a tenant; prints it once')
    .option('--label <label>', 'a label for the key')
    .action(clientAction(async ({ api, out }, options: { label?: string }, tenantId: string) => {
      const created = await api.admin().post<{ id: string; key: string }>(`/admin/tenants/${encodeURIComponent(tenantId)}/keys`, options.label ? { label: options.label } : {})
      out.result(created, () => `API key ${shortId(created.id)} (shown once): ${created.key}`)
    }))
}

/** An entry's details on one line, cut at 120 characters (--json prints them whole). */
function oneLine(details: Record<string, unknown>): string {
  const text = JSON.stringify(details)
  return text.length > 120 ? `${text.slice(0, 119)}…` : text
}
