/**
 * A real HTTP hop between the worker and the sandbox that forwards everything
 * and can leave chosen events out of the SSE stream, once each, the way a
 * lossy intermediary would. It records every stream's `since`, so a test can
 * see the consumer come back for what it missed.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export type EventProxy = {
  url: string
  /** `since` of every `GET /v1/events` in arrival order. */
  streamsOpened: number[]
  /** Leaves the wallet's event with this seq out of the next stream that carries it. */
  skipOnce(wallet: string, seq: number): void
  /** Seqs that were left out. */
  skipped: number[]
  /**
   * Every stream carries the wallet's event with this seq as a frame whose data is not JSON (a
   * bare `NaN` for its time, as an operator serializing with Python's json.dumps sends), until
   * `uncorrupt` is called.
   */
  corrupt(wallet: string, seq: number): void
  uncorrupt(): void
  /**
   * Every stream opened from now on starts with a frame of this data that is no event (no SSE id,
   * no seq: a greeting), until called with undefined.
   */
  greetStreams(data: string | undefined): void
  /**
   * Every stream open now forwards nothing more and stays open, as a connection does whose far
   * end vanished without closing it (streams opened afterwards flow as usual).
   */
  silenceOpenStreams(): void
  close(): Promise<void>
}

export async function startEventProxy(target: string): Promise<EventProxy> {
  const toSkip = new Set<string>()
  const toCorrupt = new Set<string>()
  // Streams opened up to this count are silenced.
  let silencedUpTo = 0
  let greeting: string | undefined
  const proxy: Omit<EventProxy, 'url' | 'close'> = {
    streamsOpened: [],
    skipped: [],
    skipOnce: (wallet, seq) => void toSkip.add(`${wallet.toLowerCase()}:${seq}`),
    corrupt: (wallet, seq) => void toCorrupt.add(`${wallet.toLowerCase()}:${seq}`),
    uncorrupt: () => toCorrupt.clear(),
    greetStreams: (data) => { greeting = data },
    silenceOpenStreams: () => { silencedUpTo = proxy.streamsOpened.length },
  }

  const server = createServer((request, response) => {
    forward(request, response).catch(() => response.destroy())
  })
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const upstreamAbort = new AbortController()
    response.on('close', () => upstreamAbort.abort())
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value
    const upstream = await fetch(new URL(request.url ?? '/', target), {
      method: request.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, signal: upstreamAbort.signal,
    })
    const isStream = (request.url ?? '').startsWith('/v1/events') && upstream.ok
    if (isStream) proxy.streamsOpened.push(Number(new URL(request.url!, target).searchParams.get('since') ?? 0))
    const streamNumber = proxy.streamsOpened.length
    response.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([name]) => name !== 'content-length' && name !== 'transfer-encoding')))
    if (!upstream.body) return void response.end()
    if (isStream && greeting !== undefined) response.write(`data: ${greeting}\n\n`)
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
      if (isStream && streamNumber <= silencedUpTo) continue
      if (!isStream) {
        response.write(chunk)
        continue
      }
      buffer += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end + 2)
        buffer = buffer.slice(end + 2)
        const seq = Number(/^id: (\d+)$/m.exec(frame)?.[1])
        const wallet = /"wallet":"(0x[0-9a-fA-F]{40})"/.exec(frame)?.[1]?.toLowerCase()
        if (toSkip.delete(`${wallet}:${seq}`)) {
          proxy.skipped.push(seq)
          continue
        }
        response.write(toCorrupt.has(`${wallet}:${seq}`) ? frame.replace(/"at":\d+/, '"at":NaN') : frame)
      }
    }
    response.end()
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    ...proxy,
    url,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
