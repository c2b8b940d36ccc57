import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

/**
 * A TCP relay to the real server at `targetUrl` that `freeze()` turns silent without closing
 * anything: connections already relayed stay open and nothing more crosses them either way, and
 * new ones are taken and never answered. That is a server that hangs (a stopped process, a
 * blackholed route) rather than one that is down: no error and no close ever reaches the client.
 * `url` is `targetUrl` with the relay's host and port.
 */
export async function freezingRelay(targetUrl: string) {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let frozen = false
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('error', () => socket.destroy())
    socket.on('close', () => sockets.delete(socket))
  }
  // Half-open allowed: a frozen server does not answer a client's FIN with its own.
  const relay = createServer({ allowHalfOpen: true }, (client) => {
    track(client)
    if (frozen) {
      client.resume()
      return
    }
    const upstream = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true })
    track(upstream)
    client.on('close', () => { if (!frozen) upstream.destroy() })
    upstream.on('close', () => { if (!frozen) client.destroy() })
    client.on('data', (chunk: Buffer) => { if (!frozen) upstream.write(chunk) })
    upstream.on('data', (chunk: Buffer) => { if (!frozen) client.write(chunk) })
    client.on('end', () => { if (!frozen) upstream.end() })
    upstream.on('end', () => { if (!frozen) client.end() })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  return {
    url: targetUrl.replace(target.host, `127.0.0.1:${(relay.address() as AddressInfo).port}`),
    /** From now on, nothing crosses the relay and nothing it holds is closed. */
    freeze(): void { frozen = true },
    /** Destroys every connection and stops listening. */
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => relay.close(resolve))
    },
  }
}
