import { hashRequestBytes } from './src/core/eip712/hashRequest.js'
import { buildRequest } from './src/core/requests/buildRequest.js'
import { signRequest } from './src/keys/signRequest.js'
import { SessionKey } from './src/keys/SessionKey.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
const domain = { name: 'Deputy Sandbox', version: '1' as const, chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }
const order = { delegation: `0x${'9f'.repeat(32)}` as const, wallet: '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23' as const, market: 'ETH-USD', side: 0 as const, price: 2_000_500_000_000_000_000_000n, size: 1_500_000_000_000_000_000n, timeInForce: 0 as const, clientOrderId: '0x000102030405060708090a0b0c0d0e0f' as const, deadline: 1_700_000_060_000n }
const key = SessionKey.generate()
const secret = key.exportSecretForEncryption()
let nonce = 1n
const digest = hashRequestBytes(domain, buildRequest('Order', { ...order, nonce }))
function time(name: string, f: () => unknown, ms = 1500) { let n = 0; const t0 = performance.now(); while (performance.now() - t0 < ms) { for (let i = 0; i < 16; i++) f(); n += 16 } const dt = performance.now() - t0; return dt * 1000 / n }
const mode = process.argv[2]
if (mode === 'prof') { for (let i = 0; i < 3000; i++) signRequest(key, domain, buildRequest('Order', { ...order, nonce: ++nonce })) }
else for (let r = 0; r < 4; r++) {
  const a = time('sign', () => secp256k1.sign(digest, secret, { prehash: false, format: 'recovered' }))
  const h = time('hash', () => hashRequestBytes(domain, buildRequest('Order', { ...order, nonce: ++nonce })), 500)
  const b = time('full', () => signRequest(key, domain, buildRequest('Order', { ...order, nonce: ++nonce })))
  console.log(`sign ${a.toFixed(1)}us  hash+build ${h.toFixed(2)}us  full ${b.toFixed(1)}us  ratio ${(a / b).toFixed(3)}  predicted ${(a / (a + h)).toFixed(3)}`)
}
