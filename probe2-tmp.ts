import { hashRequestBytes } from './src/core/eip712/hashRequest.js'
import { buildRequest } from './src/core/requests/buildRequest.js'
const domain = { name: 'Deputy Sandbox', version: '1' as const, chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }
const order = { delegation: `0x${'9f'.repeat(32)}` as const, wallet: '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23' as const, market: 'ETH-USD', side: 0 as const, price: 2_000_500_000_000_000_000_000n, size: 1_500_000_000_000_000_000n, timeInForce: 0 as const, clientOrderId: '0x000102030405060708090a0b0c0d0e0f' as const, deadline: 1_700_000_060_000n }
let nonce = 1n
const t0 = performance.now()
for (let i = 0; i < 100000; i++) hashRequestBytes(domain, buildRequest('Order', { ...order, nonce: ++nonce }))
console.log(((performance.now() - t0) * 1000 / 100000).toFixed(2), 'us')
