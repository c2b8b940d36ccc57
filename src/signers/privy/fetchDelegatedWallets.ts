import { z } from 'zod'
import { PrivyError } from './errors.js'
import { type DelegatedWallet, listDelegatedWallets } from './listDelegatedWallets.js'
import { encodePathSegment, type PrivyApi } from './PrivyApi.js'

const userShape = z.object({ id: z.string(), linked_accounts: z.array(z.unknown()) }).loose()

/** Fetches a Privy user (`GET /v1/users/{id}`, basic auth) and lists their delegated wallets. */
export async function fetchDelegatedWallets(api: PrivyApi, userId: string): Promise<DelegatedWallet[]> {
  const raw = await api.get(`/v1/users/${encodePathSegment(userId)}`, 'get user')
  const parsed = userShape.safeParse(raw)
  if (!parsed.success) {
    throw new PrivyError('Privy answered GET user without linked_accounts', {
      code: 'PRIVY.BAD_RESPONSE',
      retryable: false,
      hint: 'check PRIVY_API_URL points at Privy and the id is a Privy user id (did:privy:…).',
    })
  }
  return listDelegatedWallets(parsed.data)
}
