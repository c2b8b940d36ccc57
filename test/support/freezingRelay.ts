import { type AddressInfo, type Socket, connect, createServer } from 'node:net'

/**
 * A TCP relay to the real server at `targetUrl` that `freeze()` turns silent without closing
 * anything: its connections stay open (new ones are taken too) and what either side sends is held,
 * not delivered, until `thaw()` delivers it and relays again. That is a server that hangs (a stopped
 * process, a blackholed route) rather than one that is down: no error and no close reaches the
 * client. `url` is `targetUrl` with the relay's host and port.
 */
export async function freezingRelay(targetUrl: string) {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  const held: (() => void)[] = []
  let frozen = false
  let accepted = 0
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('error', () => socket.destroy())
    socket.on('close', () => sockets.delete(socket))
  }
  /** Runs `step` now, or at `thaw()` after what was held before it. */
  const relayed = (step: () => void) => { if (frozen) held.push(step); else step() }
  // Half-open allowed: a frozen server does not answer a client's FIN with its own.
  const relay = createServer({ allowHalfOpen: true }, (client) => {
    accepted++
    const upstream = connect({ port: Number(target.port), host: target.hostname, allowHalfOpen: true })
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      track(from)
      from.on('data', (chunk: Buffer) => relayed(() => to.write(chunk)))
      from.on('end', () => relayed(() => to.end()))
      from.on('close', () => relayed(() => to.destroy()))
    }
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  return {
    url: targetUrl.replace(target.host, `127.0.0.1:${(relay.address() as AddressInfo).port}`),
    /** How many connections it took so far (frozen or not). */
    get accepted(): number { return accepted },
    /** From now on nothing crosses the relay, and nothing it holds is closed. */
    freeze(): void { frozen = true },
    /**
     * Destroys every connection taken so far (each client sees its connection fail), leaving the relay
     * as it is: frozen, the clients' new connections are taken and never answered (a paused server).
     */
    cut(): void {
      for (const socket of sockets) socket.destroy()
    },
    /** Delivers what was held, in order, and relays again. */
    thaw(): void {
      frozen = false
      for (const step of held.splice(0)) step()
    },
    /** Destroys every connection and stops listening. */
    async close(): Promise<void> {
      held.length = 0
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => relay.close(resolve))
    },
  }
}
