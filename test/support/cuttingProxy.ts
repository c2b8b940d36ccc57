import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

/**
 * A TCP relay in front of a real Postgres that can cut a connection at a chosen
 * statement: after `cutAt('begin')`, the first connection that sends a message
 * containing that text has both its sockets destroyed instead of forwarding it,
 * as a server restart or a proxy timeout would at that moment. `url` is
 * `targetUrl` with the relay's port.
 */
export async function cuttingProxy(targetUrl: string) {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let armed: Buffer | undefined
  let cuts = 0
  const relay = createServer((client) => {
    const server = connect(Number(target.port), target.hostname)
    for (const s of [client, server]) {
      sockets.add(s)
      s.on('error', () => { client.destroy(); server.destroy() })
      s.on('close', () => { sockets.delete(s); client.destroy(); server.destroy() })
    }
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk.toString('latin1').toLowerCase().includes(armed.toString('latin1'))) {
        armed = undefined
        cuts++
        client.destroy()
        server.destroy()
        return
      }
      server.write(chunk)
    })
    server.pipe(client)
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  const url = new URL(targetUrl)
  url.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`
  return {
    url: url.toString(),
    /** Cuts the next connection that sends `statement` (matched case-insensitively). */
    cutAt(statement: string): void { armed = Buffer.from(statement.toLowerCase(), 'latin1') },
    /** How many connections were cut so far. */
    get cuts(): number { return cuts },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => relay.close(resolve))
    },
  }
}
