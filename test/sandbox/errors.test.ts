import { type Hex, decodeAbiParameters, encodeAbiParameters, hashTypedData } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import { type Session, account, cloid, compressedKey, delegate, fundedSession, getJson, order, post, read, revocation, signed, testSandbox, types, units } from './helpers.js'

let sandbox: Sandbox
let session: Session

beforeAll(async () => {
  sandbox = await testSandbox()
  session = await fundedSession(sandbox, 'errors')
})
afterAll(() => sandbox.close())

function walletSignatureOf(payload: Hex): Hex {
  return decodeAbiParameters([{ type: 'address' }, { type: 'bytes' }, { type: 'string[]' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes' }], payload)[5]
}

async function expectError(body: unknown, status: number, code: string) {
  const response = await post(sandbox, '/v1/requests', body)
  expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } })
  expect(response.status).toBe(status)
  return response
}

describe('one test per error code, with the exact status (PROTOCOL.md §5)', () => {
  it('400 InvalidRequest: schema, encoding, unknown market, tick, lot, deadline too far', async () => {
    const good = await signed(session, 'Order', order())
    await expectError({ ...good, message: { ...good.message, price: undefined } }, 400, 'InvalidRequest')
    await expectError({ ...good, message: { ...good.message, price: '1e21' } }, 400, 'InvalidRequest')
    await expectError({ ...good, message: { ...good.message, extra: '1' } }, 400, 'InvalidRequest')
    await expectError({ ...good, family: 'Withdraw' }, 400, 'InvalidRequest')
    await expectError({ ...good, signature: '0x1234' }, 400, 'InvalidRequest')
    await expectError({ ...good, message: { ...good.message, side: '2' } }, 400, 'InvalidRequest')
    // uint8 fields too are decimal strings on the wire (PROTOCOL.md §5), not JSON numbers.
    await expectError({ ...good, message: { ...good.message, side: 1 } }, 400, 'InvalidRequest')
    await expectError(await signed(session, 'Order', order({ market: 'DOGE-USD' })), 400, 'InvalidRequest')
    await expectError(await signed(session, 'Order', order({ price: '2000.005' })), 400, 'InvalidRequest')
    await expectError(await signed(session, 'Order', order({ size: '0.0001' })), 400, 'InvalidRequest')
    await expectError(await signed(session, 'Order', { ...order(), deadline: BigInt(sandbox.now() + sandbox.maxDeadlineMs + 5_000) }), 400, 'InvalidRequest')
  })

  it('400 for a deadline too far comes before every signature check (table order)', async () => {
    const stranger = account('errors:stranger')
    const body = await signed(session, 'Order', { ...order(), deadline: BigInt(sandbox.now() + 3_600_000) }, stranger)
    await expectError({ ...body, delegation: '0xdead' }, 400, 'InvalidRequest')
  })

  it('401 SessionUnauthorized: malformed payload, bad wallet signature, expired, revoked', async () => {
    const body = await signed(session, 'Order', order())
    await expectError({ ...body, delegation: '0x1234' }, 401, 'SessionUnauthorized')
    await expectError({ ...body, delegation: `${session.payload}00` }, 401, 'SessionUnauthorized')

    const otherDomain = { ...sandbox.domain, chainId: 1 }
    const wrongDomain = await delegate(sandbox, account('errors:w2'), account('errors:k2'), { signingDomain: otherDomain })
    await expectError(await signed(wrongDomain, 'Order', order()), 401, 'SessionUnauthorized')

    // The delegation names wallet w3, but its signature was made by another key.
    const named = await delegate(sandbox, account('errors:w3'), account('errors:k3'))
    const forged = await delegate(sandbox, account('errors:not-w3'), account('errors:k3'))
    const forgedPayload = encodeAbiParameters(
      [{ type: 'address' }, { type: 'bytes' }, { type: 'string[]' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes' }],
      [named.address, compressedKey(account('errors:k3')), ['Unrestricted'], named.expiry, 1n, walletSignatureOf(forged.payload)],
    )
    await expectError({ ...(await signed(named, 'Order', order())), delegation: forgedPayload }, 401, 'SessionUnauthorized')
    await expectError(await signed(named, 'Order', order()), 422, 'InsufficientBalance')

    const expired = await delegate(sandbox, account('errors:w4'), account('errors:k4'), { expiry: BigInt(Math.floor(sandbox.now() / 1000) - 10) })
    await expectError(await signed(expired, 'Order', order()), 401, 'SessionUnauthorized')

    const revoked = await fundedSession(sandbox, 'errors:revoked')
    expect((await post(sandbox, '/v1/sessions/revoke', await revocation(revoked, revoked.wallet))).status).toBe(200)
    await expectError(await signed(revoked, 'Order', order()), 401, 'SessionUnauthorized')
  })

  it('401 SignerMismatch: the request signature does not recover to sessionPublicKey', async () => {
    await expectError(await signed(session, 'Order', order(), account('errors:other-key')), 401, 'SignerMismatch')
    // The wallet itself is not the session key either.
    await expectError(await signed(session, 'Order', order(), session.wallet), 401, 'SignerMismatch')
    // A signature bound to another delegation's fields does not verify.
    const body = await signed(session, 'Order', order())
    await expectError({ ...body, message: { ...body.message, size: units('0.02').toString() } }, 401, 'SignerMismatch')
  })

  it('401 SessionUnauthorized for a wallet-signed delegation whose sessionPublicKey is not a point on secp256k1, however often it is sent', async () => {
    // 0x02 ‖ x with no y on the curve: 33 bytes and the right prefix, but no key has it. Past
    // fastVerifyAfter (8 uses) the verifier built its table from it and threw: a 500.
    const offCurve: Hex = `0x02${'11'.repeat(32)}`
    const wallet = account('errors:w-off-curve')
    const message = { wallet: wallet.address, sessionPublicKey: offCurve, aclScope: ['Unrestricted'], expiry: BigInt(Math.floor(sandbox.now() / 1000) + 3600), nonce: 1n }
    const walletSignature = await wallet.signTypedData({ domain: sandbox.domain, types, primaryType: 'Delegation', message })
    const payload = encodeAbiParameters(
      [{ type: 'address' }, { type: 'bytes' }, { type: 'string[]' }, { type: 'uint64' }, { type: 'uint64' }, { type: 'bytes' }],
      [message.wallet, offCurve, message.aclScope, message.expiry, message.nonce, walletSignature],
    )
    const offCurveSession = { ...(await delegate(sandbox, wallet, account('errors:k-off-curve'))), payload, hash: hashTypedData({ domain: sandbox.domain, types, primaryType: 'Delegation', message }) }
    for (let i = 0; i < 10; i++) {
      const response = await expectError(await signed(offCurveSession, 'Order', order()), 401, 'SessionUnauthorized')
      expect(response.body.error.message).toMatch(/sessionPublicKey/)
    }
    expect((await read(sandbox, offCurveSession, '/v1/balances')).status).toBe(401)
  })

  it('401 SessionUnauthorized comes before SignerMismatch', async () => {
    const expired = await delegate(sandbox, account('errors:w5'), account('errors:k5'), { expiry: 1n })
    await expectError(await signed(expired, 'Order', order(), account('errors:wrong')), 401, 'SessionUnauthorized')
  })

  it('403 SessionAclViolation: family not in aclScope', async () => {
    const narrow = await delegate(sandbox, account('errors:w6'), account('errors:k6'), { aclScope: ['CancelOrder', 'CancelAll'] })
    await expectError(await signed(narrow, 'Order', order()), 403, 'SessionAclViolation')
    await expectError(await signed(narrow, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: cloid(), price: units('1'), size: units('1') }), 403, 'SessionAclViolation')
  })

  it('409 NonceReused: a nonce already seen', async () => {
    const first = await signed(session, 'Order', order({ price: '1000' }))
    expect((await post(sandbox, '/v1/requests', first)).status).toBe(200)
    const again = await signed(session, 'Order', { ...order({ price: '1000' }), nonce: BigInt(first.message.nonce!) })
    await expectError(again, 409, 'NonceReused')
  })

  it('410 DeadlineExpired: deadline in the past; NonceReused is checked before it', async () => {
    await expectError(await signed(session, 'Order', { ...order(), deadline: BigInt(sandbox.now() - 1_000) }), 410, 'DeadlineExpired')
    const accepted = await signed(session, 'Order', order({ price: '1000' }))
    expect((await post(sandbox, '/v1/requests', accepted)).status).toBe(200)
    const both = await signed(session, 'Order', { ...order(), nonce: BigInt(accepted.message.nonce!), deadline: BigInt(sandbox.now() - 1_000) })
    await expectError(both, 409, 'NonceReused')
  })

  it('404 UnknownOrder: Modify / Cancel of a cloid that is not open', async () => {
    await expectError(await signed(session, 'CancelOrder', { market: 'ETH-USD', clientOrderId: cloid() }), 404, 'UnknownOrder')
    await expectError(await signed(session, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: cloid(), price: units('1900'), size: units('1') }), 404, 'UnknownOrder')
    const filled = order()
    expect((await post(sandbox, '/v1/requests', await signed(session, 'Order', filled))).status).toBe(200)
    await expectError(await signed(session, 'CancelOrder', { market: 'ETH-USD', clientOrderId: filled.clientOrderId }), 404, 'UnknownOrder')
  })

  it('422 InsufficientBalance and PostOnlyWouldCross', async () => {
    const poor = await delegate(sandbox, account('errors:w7'), account('errors:k7'))
    await expectError(await signed(poor, 'Order', order()), 422, 'InsufficientBalance')
    await expectError(await signed(session, 'Order', order({ side: 1, size: '1000' })), 422, 'InsufficientBalance')
    await expectError(await signed(session, 'Order', order({ price: '2000', timeInForce: 2 })), 422, 'PostOnlyWouldCross')
    await expectError(await signed(session, 'Order', order({ side: 1, price: '1999', timeInForce: 2 })), 422, 'PostOnlyWouldCross')
  })

  it('429 RateLimited per session key, with Retry-After in seconds', async () => {
    const limited = await testSandbox({ rateLimit: { perSecond: 0.5, burst: 2 } })
    try {
      const a = await fundedSession(limited, 'errors:limited-a')
      const b = await fundedSession(limited, 'errors:limited-b')
      for (let i = 0; i < 2; i++) expect((await post(limited, '/v1/requests', await signed(a, 'Order', order({ price: '1000' })))).status).toBe(200)
      const response = await post(limited, '/v1/requests', await signed(a, 'Order', order({ price: '1000' })))
      expect(response.status).toBe(429)
      expect(response.body).toMatchObject({ error: { code: 'RateLimited' } })
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      // Another session key has its own bucket.
      expect((await post(limited, '/v1/requests', await signed(b, 'Order', order({ price: '1000' })))).status).toBe(200)
    } finally {
      await limited.close()
    }
  })

  it('503 Unavailable from fault injection has no effect: the same bytes succeed afterwards', async () => {
    const body = await signed(session, 'Order', order({ price: '1000' }))
    sandbox.setFaults({ errorRate: 1 })
    try {
      await expectError(body, 503, 'Unavailable')
    } finally {
      sandbox.setFaults({ errorRate: 0 })
    }
    const response = await post(sandbox, '/v1/requests', body)
    expect(response.status).toBe(200)
    expect(response.body.receipt.duplicate).toBe(false)
  })

  it('never answers a malformed body with anything but a 4xx', async () => {
    for (const raw of ['', 'null', '[]', '"x"', '{"family":1}', '{"family":"Order","message":null}', '{', '\u0000']) {
      const response = await fetch(`${sandbox.url}/v1/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw })
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: { code: 'InvalidRequest' } })
    }
    const text = await fetch(`${sandbox.url}/v1/requests`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    expect(text.status).toBe(400)
  })
})

describe('POST /sandbox/domain (a chain migration, a new verifying contract)', () => {
  it('changes the domain /v1/info answers and verifies against: a known delegation\'s requests signed over the old one are refused SignerMismatch, a new payload over the old one SessionUnauthorized', async () => {
    const migrating = await testSandbox()
    try {
      const before = await fundedSession(migrating, 'domain:before')
      expect((await post(migrating, '/v1/requests', await signed(before, 'Order', order({ price: '1000' })))).status).toBe(200)
      const old = migrating.domain

      const changed = await post(migrating, '/sandbox/domain', { chainId: 8453, verifyingContract: '0x00000000000000000000000000000000000000aa' })
      expect(changed.status).toBe(200)
      expect(changed.body.domain).toEqual({ ...old, chainId: 8453, verifyingContract: '0x00000000000000000000000000000000000000AA' })
      const info = await getJson(migrating, '/v1/info')
      expect(info).toMatchObject({ chainId: 8453, verifyingContract: '0x00000000000000000000000000000000000000AA', domain: changed.body.domain })
      expect(migrating.domain).toEqual(changed.body.domain)

      const refused = await post(migrating, '/v1/requests', await signed(before, 'Order', order({ price: '1000' })))
      expect([refused.status, refused.body.error.code]).toEqual([401, 'SignerMismatch'])
      expect((await read(migrating, before, '/v1/balances')).body.error.code).toBe('SignerMismatch')
      // The same delegation, its requests signed over the new domain: known, it still acts.
      expect((await post(migrating, '/v1/requests', await signed({ ...before, domain: migrating.domain }, 'Order', order({ price: '1000' })))).status).toBe(200)
      // A payload first seen now is verified over the new domain.
      const late = await delegate(migrating, account('domain:late-w'), account('domain:late-k'), { signingDomain: old })
      expect((await post(migrating, '/v1/requests', await signed(late, 'Order', order()))).body.error.code).toBe('SessionUnauthorized')

      expect((await post(migrating, '/sandbox/domain', { chainId: 0 })).status).toBe(400)
      expect((await post(migrating, '/sandbox/domain', { verifyingContract: '0x12' })).status).toBe(400)
      expect((await post(migrating, '/sandbox/domain', { version: '2' })).status).toBe(400)
      expect(migrating.setDomain({ chainId: old.chainId, verifyingContract: old.verifyingContract })).toEqual(old)
      expect((await post(migrating, '/v1/requests', await signed(before, 'Order', order({ price: '1000' })))).status).toBe(200)
    } finally {
      await migrating.close()
    }
  })
})
