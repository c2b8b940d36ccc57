/** `partFloors`' HTTP peer: answers every POST with a receipt-sized JSON body, and tells its parent the port. */
import { createServer } from 'node:http'

const receipt = JSON.stringify({ receipt: { status: 'accepted', clientOrderId: `0x${'ef'.repeat(16)}`, orderId: 'o-1', duplicate: false, seq: '1', acceptedAt: 1 } })
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'))
    res.setHeader('content-type', 'application/json')
    res.end(receipt)
  })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 })
})
process.on('disconnect', () => process.exit(0))
