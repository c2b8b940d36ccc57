/**
 * A real HTTP hop between the worker and the sandbox that forwards everything
 * (SSE streams included) and can hold chosen signed requests, or event streams
 * opening, until a test lets them through: a request the worker has already signed and sent, still on the
 * wire while something else happens (a kill switch, a rotation, a compromise).
 */
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The parsed body of `POST /v1/requests`. */
export type WireRequest = { family: string; message: Record<string, unknown> }

export type Gate = {
  /** Resolves when the first matching request is held. */
  arrived: Promise<WireRequest>
  /** Lets every held request (and later matching ones) through. */
  release(): void
  /**
   * Answers every held request with `answer` instead of forwarding it (the operator never sees it),
   * and lets later matching ones through: a refusal of a request that was on the wire.
   */
  refuse(answer: { status: number; body: unknown }): void
}

export type GateProxy = {
  url: string
  /** Holds every `POST /v1/requests` that `matches`, until the gate is released. */
  hold(matches: (request: WireRequest) => boolean): Gate
  /** Holds every event stream opening (`GET /v1/events`), until the gate is released. */
  holdStreams(): { arrived: Promise<void>; release(): void }
  /**
   * Holds every session revocation (`POST /v1/sessions/revoke`) whose delegation `matches`, until the
   * gate is released; `held` lists the delegations held so far, in the order they arrived.
   */
  holdRevocations(matches: (delegation: string) => boolean): { held: readonly string[]; release(): void }
  /** Holds every `GET` whose path starts with `prefix` (a ticker read, say), until the gate is released. */
  holdReads(prefix: string): { arrived: Promise<void>; release(): void }
  close(): Promise<void>
}

export async function startGateProxy(target: string): Promise<GateProxy> {
  const upstream = new URL(target)
  const gates = new Set<{ matches: (request: WireRequest) => boolean; held: (request: WireRequest) => void; open: Promise<Answer | void> }>()
  const streamGates = new Set<{ held: () => void; open: Promise<void> }>()
  const readGates = new Set<{ prefix: string; held: () => void; open: Promise<void> }>()
  const revocationGates = new Set<{ matches: (delegation: string) => boolean; held: (delegation: string) => void; open: Promise<void> }>()

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => outgoing.destroy())
  })
  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of incoming) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    if (incoming.method === 'POST' && incoming.url === '/v1/requests') {
      let parsed: WireRequest | undefined
      try {
        parsed = JSON.parse(body.toString('utf8')) as WireRequest
      } catch {
        parsed = undefined
      }
      for (const gate of parsed ? [...gates] : []) {
        if (!gate.matches(parsed!)) continue
        gate.held(parsed!)
        const answer = await gate.open
        if (answer) {
          outgoing.writeHead(answer.status, { 'content-type': 'application/json' })
          outgoing.end(JSON.stringify(answer.body))
          return
        }
      }
    }
    if (incoming.method === 'POST' && incoming.url === '/v1/sessions/revoke') {
      let delegation: string | undefined
      try {
        delegation = String((JSON.parse(body.toString('utf8')) as { delegation?: unknown }).delegation)
      } catch {
        delegation = undefined
      }
      for (const gate of delegation === undefined ? [] : [...revocationGates]) {
        if (!gate.matches(delegation!)) continue
        gate.held(delegation!)
        await gate.open
      }
    }
    if (incoming.method === 'GET' && incoming.url?.startsWith('/v1/events')) {
      for (const gate of [...streamGates]) {
        gate.held()
        await gate.open
      }
    }
    if (incoming.method === 'GET') {
      for (const gate of [...readGates]) {
        if (!incoming.url?.startsWith(gate.prefix)) continue
        gate.held()
        await gate.open
      }
    }
    const forwarded = httpRequest({
      host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url,
      headers: { ...incoming.headers, host: upstream.host, 'content-length': String(body.length) },
    }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(outgoing)
    })
    forwarded.on('error', () => outgoing.destroy())
    outgoing.on('close', () => forwarded.destroy())
    forwarded.end(body)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: (matches) => holdIn<WireRequest, typeof gates, Answer>(gates, (held, open) => ({ matches, held, open })),
    holdStreams: () => holdIn(streamGates, (held, open) => ({ held, open })),
    holdRevocations: (matches) => {
      const held: string[] = []
      const gate = holdIn<string, typeof revocationGates>(revocationGates, (arrived, open) => ({ matches, held: (d) => { held.push(d); arrived(d) }, open }))
      return { held, release: gate.release }
    },
    holdReads: (prefix) => holdIn(readGates, (held, open) => ({ prefix, held, open })),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** An answer the gate gives a held request itself, instead of forwarding it. */
type Answer = { status: number; body: unknown }

/** A gate added to `set` (made by `make` with its `held` and `open`), and the test's handle on it. */
function holdIn<A, S extends Set<unknown>, R = void>(set: S, make: (held: (value: A) => void, open: Promise<R | void>) => S extends Set<infer G> ? G : never): { arrived: Promise<A>; release: () => void; refuse: (answer: R) => void } {
  let open!: (answer: R | void) => void
  let held!: (value: A) => void
  const opened = new Promise<R | void>((resolve) => { open = resolve })
  const arrived = new Promise<A>((resolve) => { held = resolve })
  const gate = make(held, opened)
  set.add(gate)
  return {
    arrived,
    release: () => {
      set.delete(gate)
      open()
    },
    refuse: (answer) => {
      set.delete(gate)
      open(answer)
    },
  }
}
