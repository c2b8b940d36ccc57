/**
 * Conformance helpers: requests are built and signed with viem directly from
 * PROTOCOL.md (struct definitions written out here, not Deputy's builders), so
 * the sandbox is checked against the document rather than against itself.
 */
import { type Address, type Hex, encodeAbiParameters, hashTypedData, keccak256, toHex } from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/startSandbox.js'

export const types = {
  Delegation: [
    { name: 'wallet', type: 'address' },
    { name: 'sessionPublicKey', type: 'bytes' },
    { name: 'aclScope', type: 'string[]' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  Order: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'side', type: 'uint8' },
    { name: 'price', type: 'uint256' },
    { name: 'size', type: 'uint256' },
    { name: 'timeInForce', type: 'uint8' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  ModifyOrder: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'price', type: 'uint256' },
    { name: 'size', type: 'uint256' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  CancelOrder: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  CancelAll: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  Read: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
  Revocation: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
} as const
type Family = 'Order' | 'ModifyOrder' | 'CancelOrder' | 'CancelAll'

const payloadAbi = [
  { type: 'address' }, { type: 'bytes' }, { type: 'string[]' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes' },
] as const

export const E18 = 10n ** 18n
/** "2000.5" → 2000500000000000000000n (PROTOCOL.md §4). */
export function units(decimal: string): bigint {
  const [whole, fraction = ''] = decimal.split('.')
  return BigInt(whole!) * E18 + BigInt(fraction.padEnd(18, '0'))
}

export function account(label: string): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(toHex(`deputy-sandbox-test:${label}`)))
}

/** The 33-byte compressed SEC1 form of a viem account's public key. */
export function compressedKey(signer: PrivateKeyAccount): Hex {
  const uncompressed = signer.publicKey
  const odd = BigInt(`0x${uncompressed.slice(-2)}`) & 1n
  return `0x${odd ? '03' : '02'}${uncompressed.slice(4, 68)}`
}

export type Domain = Sandbox['domain']

export type Session = {
  wallet: PrivateKeyAccount
  key: PrivateKeyAccount
  address: Address
  payload: Hex
  hash: Hex
  expiry: bigint
  domain: Domain
  /** The sandbox clock: default deadlines and expiries follow it, so `advanceClock` does not break later requests. */
  now(): number
  nextNonce(): bigint
}

/** What a session needs from the sandbox it talks to. */
export type Venue = { domain: Domain; now(): number }

export async function delegate(
  venue: Venue,
  wallet: PrivateKeyAccount,
  key: PrivateKeyAccount,
  options: { aclScope?: string[]; expiry?: bigint; nonce?: bigint; signingDomain?: Domain } = {},
): Promise<Session> {
  const { domain } = venue
  const message = {
    wallet: wallet.address,
    sessionPublicKey: compressedKey(key),
    aclScope: options.aclScope ?? ['Unrestricted'],
    expiry: options.expiry ?? BigInt(Math.floor(venue.now() / 1000) + 3600),
    nonce: options.nonce ?? 1n,
  }
  const walletSignature = await wallet.signTypedData({ domain: options.signingDomain ?? domain, types, primaryType: 'Delegation', message })
  const payload = encodeAbiParameters(payloadAbi, [message.wallet, message.sessionPublicKey, message.aclScope, message.expiry, message.nonce, walletSignature])
  const hash = hashTypedData({ domain, types, primaryType: 'Delegation', message })
  let nonce = BigInt(Date.now()) * 1000n
  return { wallet, key, address: wallet.address, payload, hash, expiry: message.expiry, domain, now: () => venue.now(), nextNonce: () => ++nonce }
}

export type WireBody = { family: Family; delegation: Hex; message: Record<string, string | number>; signature: Hex }

/** Signs one request with the session key and returns the JSON body of POST /v1/requests. */
export async function signed(session: Session, family: Family, fields: Record<string, unknown>, signer: PrivateKeyAccount = session.key): Promise<WireBody> {
  const message = { delegation: session.hash, wallet: session.address, nonce: session.nextNonce(), deadline: BigInt(session.now() + 30_000), ...fields }
  const signature = await signer.signTypedData({ domain: session.domain, types, primaryType: family, message } as never)
  const wire: Record<string, string | number> = {}
  // PROTOCOL.md §5: every uint as a decimal string (uint8 side and timeInForce too).
  for (const [key, value] of Object.entries(message)) wire[key] = typeof value === 'bigint' || typeof value === 'number' ? value.toString() : (value as string)
  return { family, delegation: session.payload, message: wire, signature }
}

let cloidCounter = 0
export function cloid(): Hex {
  return toHex(++cloidCounter + Math.floor(Math.random() * 1e9) * 1000, { size: 16 })
}

export function order(fields: { market?: string; side?: 0 | 1; price?: string; size?: string; timeInForce?: 0 | 1 | 2; clientOrderId?: Hex } = {}) {
  return {
    market: fields.market ?? 'ETH-USD',
    side: fields.side ?? 0,
    price: units(fields.price ?? '2000'),
    size: units(fields.size ?? '0.01'),
    timeInForce: fields.timeInForce ?? 0,
    clientOrderId: fields.clientOrderId ?? cloid(),
  }
}

/** Response bodies are checked by assertions, not by types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

/** GET a public path and parse its JSON. */
export async function getJson(sandbox: Sandbox, path: string): Promise<Json> {
  return (await fetch(`${sandbox.url}${path}`)).json()
}

export type Response<T = Record<string, unknown>> = { status: number; body: T; headers: Headers }

export async function post<T = Json>(sandbox: Sandbox, path: string, body: unknown): Promise<Response<T>> {
  const response = await fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as T, headers: response.headers }
}

/** The three read headers, signed by `signer` (the session key by default). */
export async function readHeaders(session: Session, options: { deadline?: bigint; signer?: PrivateKeyAccount } = {}): Promise<Record<string, string>> {
  const deadline = options.deadline ?? BigInt(session.now() + 30_000)
  const signature = await (options.signer ?? session.key).signTypedData({ domain: session.domain, types, primaryType: 'Read', message: { delegation: session.hash, deadline } })
  return { 'x-delegation': session.payload, 'x-read-deadline': deadline.toString(), 'x-read-signature': signature }
}

export async function read<T = Json>(sandbox: Sandbox, session: Session, path: string, headers?: Record<string, string>): Promise<Response<T>> {
  const response = await fetch(`${sandbox.url}${path}`, { headers: headers ?? (await readHeaders(session)) })
  return { status: response.status, body: (await response.json()) as T, headers: response.headers }
}

export async function revocation(session: Session, signer: PrivateKeyAccount, deadline = BigInt(session.now() + 30_000)) {
  const signature = await signer.signTypedData({ domain: session.domain, types, primaryType: 'Revocation', message: { delegation: session.hash, deadline } })
  return { delegation: session.payload, deadline: deadline.toString(), signature }
}

export function testSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, quiet: true, ...options })
}

/** A funded session with an Unrestricted delegation. */
export async function fundedSession(sandbox: Sandbox, label: string, options: Parameters<typeof delegate>[3] = {}): Promise<Session> {
  const session = await delegate(sandbox, account(`${label}:wallet`), account(`${label}:session`), options)
  sandbox.fund(session.address, 'USD', '1000000')
  sandbox.fund(session.address, 'ETH', '100')
  sandbox.fund(session.address, 'BTC', '10')
  return session
}

export type StreamEvent = { id: string; data: { seq: string; type: string; wallet: string; at: number; clientOrderId?: string; orderId?: string; data: Record<string, unknown> } }

/**
 * Opens GET /v1/events and collects frames until `until` says enough (or the
 * stream ends). Returns the events and whether the server ended the stream.
 */
export async function collectEvents(
  sandbox: Sandbox,
  session: Session,
  options: { query?: string; headers?: Record<string, string>; until: (events: StreamEvent[]) => boolean; onOpen?: () => Promise<void> | void },
): Promise<{ events: StreamEvent[]; ended: boolean; status: number }> {
  const controller = new AbortController()
  const response = await fetch(`${sandbox.url}/v1/events${options.query ?? ''}`, {
    headers: { ...(await readHeaders(session)), ...options.headers },
    signal: controller.signal,
  })
  const events: StreamEvent[] = []
  if (response.status !== 200) return { events, ended: true, status: response.status }
  await options.onOpen?.()
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let ended = false
  try {
    while (!options.until(events)) {
      const chunk = await reader.read()
      if (chunk.done) {
        ended = true
        break
      }
      buffer += chunk.value
      let split
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, split)
        buffer = buffer.slice(split + 2)
        const id = /^id: (.*)$/m.exec(frame)?.[1]
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) })
      }
    }
  } catch {
    ended = true
  } finally {
    controller.abort()
  }
  return { events, ended, status: 200 }
}
