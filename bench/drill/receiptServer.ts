/** `partFloors`' HTTP peer on RECEIPT_SERVER_PORT: answers every POST with a receipt-sized JSON body. */
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
server.listen(Number(process.env.RECEIPT_SERVER_PORT), '127.0.0.1', () => console.log('receipt server ready'))
