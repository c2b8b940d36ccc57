import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

/**
 * An address that refuses connections until `open()`, which starts a TCP relay
 * there to the real server at `targetUrl` (plain bytes both ways: the
 * operator's event stream, the Postgres protocol): for starting a process
 * before its operator or its database answers, or (`close()`, then `open()`
 * again) for taking a server away from a running one, or (`hang()`) for one
 * that takes connections and never answers. `url` is `targetUrl` with the
 * relay's host and port.
 */
export async function lateRelay(targetUrl: string) {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let hanging = false
  const relay = createServer((socket) => {
    if (hanging) {
      // Held open, read and never answered: what a client sends is on the wire until its own timeout.
      sockets.add(socket)
      socket.on('error', () => socket.destroy())
      socket.on('close', () => sockets.delete(socket))
      socket.resume()
      return
    }
    const upstream = connect(Number(target.port), target.hostname)
    for (const s of [socket, upstream]) {
      sockets.add(s)
      s.on('error', () => { socket.destroy(); upstream.destroy() })
      s.on('close', () => sockets.delete(s))
    }
    socket.pipe(upstream).pipe(socket)
  })
  let listening = false
  return {
    url: targetUrl.replace(target.host, `127.0.0.1:${port}`),
    /** Starts relaying (again, after `close`); does nothing while relaying. */
    async open(): Promise<void> {
      hanging = false
      if (listening) return
      await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve))
      listening = true
    },
    /** Cuts every relayed connection and refuses new ones, until `open`. */
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy()
      if (!listening) return
      listening = false
      await new Promise((resolve) => relay.close(resolve))
    },
    /** Cuts every relayed connection, then takes new ones and never answers them, until `open` or `close`. */
    async hang(): Promise<void> {
      hanging = true
      for (const socket of sockets) socket.destroy()
      if (listening) return
      await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve))
      listening = true
    },
  }
}
