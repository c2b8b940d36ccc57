/**
 * The operator as the tests see it: requests sent with a wallet's session key
 * outside the worker (another client, a human, a process that died after
 * sending), and the sandbox's own records, to compare with the database.
 */
import type { Hex } from 'viem'
import type { RequestFamily } from '../../../src/core/acl/actions.js'
import type { RequestMessages, VenueRequest } from '../../../src/core/eip712/types.js'
import { buildRequest } from '../../../src/core/requests/buildRequest.js'
import { toWireRequest } from '../../../src/core/requests/wire.js'
import { signRequest } from '../../../src/keys/signRequest.js'
import { signRevocation } from '../../../src/keys/signRevocation.js'
import type { WorkerDeps } from '../../../src/runtime/deps.js'
import { requestDeadline } from '../../../src/runtime/submission/signAndPersist.js'
import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import { delegationHash } from '../../../src/core/delegation/delegationHash.js'
import { delegationTypedData } from '../../../src/core/delegation/delegationTypedData.js'
import { encodeDelegatedPayload } from '../../../src/core/delegation/encodeDelegatedPayload.js'
import type { DelegationMessage } from '../../../src/core/eip712/types.js'
import { SessionKey } from '../../../src/keys/SessionKey.js'
import type { WalletSigner } from '../../../src/signers/WalletSigner.js'

type Bound = 'delegation' | 'wallet' | 'nonce' | 'deadline'
export type OperatorAnswer = { status: number; body: { receipt?: { duplicate: boolean; clientOrderId?: Hex; orderId?: string }; error?: { code: string; message: string } } }

/** POSTs a JSON body to the operator as-is. */
export async function postToOperator(baseUrl: string, path: string, body: string): Promise<OperatorAnswer> {
  const response = await fetch(new URL(path, baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: response.status, body: (await response.json()) as OperatorAnswer['body'] }
}

/** Signs one request with the wallet's active session key and sends it, bypassing the worker. */
export async function sendWithSessionKey<F extends RequestFamily>(
  deps: WorkerDeps,
  walletId: string,
  family: F,
  fields: Omit<RequestMessages[F], Bound>,
  options: { nonce?: bigint } = {},
): Promise<OperatorAnswer> {
  const session = await deps.sessions.active(walletId, 0)
  if (!session) throw new Error(`wallet ${walletId} has no active session`)
  const message = { ...fields, delegation: session.delegationHash, wallet: session.wallet, nonce: options.nonce ?? deps.nonces.next(), deadline: requestDeadline(deps) } as RequestMessages[F]
  const request = buildRequest(family, message) as VenueRequest
  const { signature } = signRequest(session.key, deps.domain, request)
  return postToOperator(deps.venue.baseUrl, '/v1/requests', JSON.stringify(toWireRequest(request, session.payload, signature)))
}

/**
 * Another app the user trades with: a session of the same wallet that Deputy never granted (its own
 * key, delegated by the wallet signer straight to the operator). Answers a sender of its requests.
 */
export async function anotherAppSession(deps: WorkerDeps, walletSigner: WalletSigner) {
  const key = SessionKey.generate()
  const delegation: DelegationMessage = {
    wallet: walletSigner.address, sessionPublicKey: key.publicKey, aclScope: ['Unrestricted'],
    expiry: BigInt(Math.floor(deps.operatorNow() / 1000) + 3600), nonce: BigInt(Math.floor(deps.operatorNow())),
  }
  const walletSignature = await walletSigner.signDelegation(delegationTypedData(deps.domain, delegation))
  const payload = encodeDelegatedPayload({ ...delegation, walletSignature })
  const hash = delegationHash(deps.domain, delegation)
  return async <F extends RequestFamily>(family: F, fields: Omit<RequestMessages[F], Bound>): Promise<OperatorAnswer> => {
    const message = { ...fields, delegation: hash, wallet: walletSigner.address, nonce: deps.nonces.next(), deadline: requestDeadline(deps) } as RequestMessages[F]
    const request = buildRequest(family, message) as VenueRequest
    const { signature } = signRequest(key, deps.domain, request)
    return postToOperator(deps.venue.baseUrl, '/v1/requests', JSON.stringify(toWireRequest(request, payload, signature)))
  }
}

/** Revokes the wallet's active delegation at the operator (signed by the session key), without telling the worker. */
export async function revokeBehindTheWorkersBack(deps: WorkerDeps, walletId: string): Promise<OperatorAnswer> {
  const session = await deps.sessions.active(walletId, 0)
  if (!session) throw new Error(`wallet ${walletId} has no active session`)
  const deadline = requestDeadline(deps)
  const { signature } = signRevocation(session.key, deps.domain, { delegation: session.delegationHash, deadline })
  return postToOperator(deps.venue.baseUrl, '/v1/sessions/revoke', JSON.stringify({ delegation: session.payload, deadline: deadline.toString(), signature }))
}

/** Every order the operator holds for a wallet (any status). */
export function operatorOrders(sandbox: Sandbox, address: string) {
  return [...(sandbox.state.wallets.get(address.toLowerCase())?.orders.values() ?? [])]
}

/** The operator's order with this cloid, if any. */
export function operatorOrder(sandbox: Sandbox, address: string, clientOrderId: string) {
  return sandbox.state.wallets.get(address.toLowerCase())?.orders.get(clientOrderId.toLowerCase())
}

/** The wallet's whole event log at the operator. */
export function operatorEvents(sandbox: Sandbox, address: string) {
  return sandbox.state.wallets.get(address.toLowerCase())?.events.since(0) ?? []
}

/** The wallet's fills at the operator. */
export function operatorFills(sandbox: Sandbox, address: string) {
  return sandbox.state.wallets.get(address.toLowerCase())?.fills ?? []
}
