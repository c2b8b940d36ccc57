import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

type Fault = { statement: Buffer; kind: 'cut' | 'stall' | 'partition' }

/**
 * A TCP relay in front of a real Postgres that faults a connection at a chosen
 * statement: the first connection that sends a message containing the armed
 * text (matched case-insensitively) is, instead of forwarded,
 *  - `cutAt`: closed both ways, as a server restart or a proxy timeout would;
 *  - `stallAt`: left open but silent both ways from then on, as a dead load
 *    balancer would (nothing tells the client); when the client closes its
 *    end, the relay closes the server's;
 *  - `partitionAt`: silent both ways as with `stallAt`, and the server's end
 *    stays open when the client closes its own, as across a network partition
 *    (nothing tells the server either), until the relay is closed.
 * `url` is `targetUrl` with the relay's port.
 */
export async function pgFaultProxy(targetUrl: string) {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let armed: Fault | undefined
  let faults = 0
  const relay = createServer((client) => {
    const server = connect(Number(target.port), target.hostname)
    let stalled = false
    let partitioned = false
    for (const s of [client, server]) {
      sockets.add(s)
      const closeBoth = () => {
        if (partitioned) return
        client.destroy()
        server.destroy()
      }
      s.on('error', closeBoth)
      s.on('close', () => { sockets.delete(s); closeBoth() })
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled) return
      if (armed && chunk.toString('latin1').toLowerCase().includes(armed.statement.toString('latin1'))) {
        const { kind } = armed
        armed = undefined
        faults++
        if (kind !== 'cut') {
          stalled = true
          partitioned = kind === 'partition'
          return
        }
        client.destroy()
        server.destroy()
        return
      }
      server.write(chunk)
    })
    server.on('data', (chunk: Buffer) => { if (!stalled) client.write(chunk) })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  const url = new URL(targetUrl)
  url.host = `127.0.0.1:${(relay.address() as AddressInfo).port}`
  const arm = (statement: string, kind: Fault['kind']) => { armed = { statement: Buffer.from(statement.toLowerCase(), 'latin1'), kind } }
  return {
    url: url.toString(),
    /** Closes the next connection that sends `statement`. */
    cutAt(statement: string): void { arm(statement, 'cut') },
    /** Silences, for good, the next connection that sends `statement`. */
    stallAt(statement: string): void { arm(statement, 'stall') },
    /** Silences the next connection that sends `statement`, and keeps its server end open after the client leaves. */
    partitionAt(statement: string): void { arm(statement, 'partition') },
    /** How many connections were faulted so far. */
    get faults(): number { return faults },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => relay.close(resolve))
    },
  }
}
