import { hashRequestBytes as newHash } from './src/core/eip712/hashRequest.js'
import { hashRequestBytes as oldHash } from './abtmp/old/core/eip712/hashRequest.js'
import { buildRequest } from './src/core/requests/buildRequest.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
const domain = { name: 'Deputy Sandbox', version: '1' as const, chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }
const order = { delegation: `0x${'9f'.repeat(32)}` as const, wallet: '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23' as const, market: 'ETH-USD', side: 0 as const, price: 2_000_500_000_000_000_000_000n, size: 1_500_000_000_000_000_000n, timeInForce: 0 as const, clientOrderId: '0x000102030405060708090a0b0c0d0e0f' as const, deadline: 1_700_000_060_000n }
let nonce = 1n
const reqs = Array.from({ length: 64 }, () => buildRequest('Order', { ...order, nonce: ++nonce }))
const sk = secp256k1.utils.randomSecretKey()
const digest = newHash(domain, reqs[0]!)
if (Buffer.compare(digest, oldHash(domain, reqs[0]!)) !== 0) throw new Error('differ')
function time(f: (i: number) => unknown, ms = 400) { let n = 0; const t0 = performance.now(); while (performance.now() - t0 < ms) { for (let i = 0; i < 64; i++) f(i); n += 64 } return (performance.now() - t0) * 1000 / n }
const build = (i: number) => buildRequest('Order', { ...order, nonce: BigInt(i) })
const rows: number[][] = []
for (let r = 0; r < 8; r++) {
  const row = [time((i) => oldHash(domain, reqs[i]!)), time((i) => newHash(domain, reqs[i]!)), time(build), time(() => secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' }), 800)]
  rows.push(row)
  console.log(`old hash ${row[0]!.toFixed(2)}us  new hash ${row[1]!.toFixed(2)}us  buildRequest ${row[2]!.toFixed(2)}us  sign ${row[3]!.toFixed(1)}us   new/sign ${(row[1]! / row[3]! * 100).toFixed(2)}%`)
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!
console.log('median', [0, 1, 2, 3].map((k) => med(rows.map((r) => r[k]!)).toFixed(2)).join(' '))
