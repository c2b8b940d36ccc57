import { VenueError, VenueTransportError } from '../core/errors/venue.js'
import { parseSide } from '../core/orders/parseSide.js'
import type { Hex } from 'viem'
import { httpJson, httpTarget } from './httpJson.js'
import { parseVenueInfo } from './parseVenueInfo.js'
import type { ReadAuth, Receipt, VenueBalance, VenueFill, VenueInfo, VenueMarket, VenueOrder, VenueTicker } from './types.js'

export type VenueClientOptions = { baseUrl: string; timeoutMs?: number }

/** The operator's HTTP API (PROTOCOL.md §5–§6). Event streaming lives in `streamEvents`. */
export function createVenueClient({ baseUrl, timeoutMs = 10_000 }: VenueClientOptions) {
  const http = httpTarget({ baseUrl, timeoutMs })
  let remeasure: (() => Promise<void>) | undefined
  const read = async <T>(auth: ReadAuth, path: string): Promise<T> => {
    try {
      return await httpJson<T>(http, path, { headers: await auth() })
    } catch (error) {
      // Its deadline refused (past, or too far ahead): this host's clock may have stepped since the
      // operator's was measured. Measured again, and read once more with a deadline on the new offset.
      if (!remeasure || !(error instanceof VenueError && (error.venueCode === 'DeadlineExpired' || error.venueCode === 'InvalidRequest'))) throw error
      await remeasure().catch(() => { throw error })
      return httpJson<T>(http, path, { headers: await auth() })
    }
  }
  return {
    baseUrl,
    /**
     * How a signed read refused for its deadline measures the operator's clock again (the process's
     * operator clock, made after this client since it measures through it).
     */
    remeasureClockWith(resync: () => Promise<void>): void {
      remeasure = resync
    },
    info: async (): Promise<VenueInfo> => parseVenueInfo(await httpJson<unknown>(http, '/v1/info')),
    // PROTOCOL.md lists the fields, not the envelope: accept a bare array or `{ markets }`.
    markets: async (): Promise<VenueMarket[]> => {
      const body = await httpJson<{ markets: VenueMarket[] } | VenueMarket[]>(http, '/v1/markets')
      return Array.isArray(body) ? body : body.markets
    },
    ticker: (market: string) => httpJson<VenueTicker>(http, `/v1/markets/${encodeURIComponent(market)}/ticker`),
    /**
     * Sends a signed request. `body` is the exact JSON text that was persisted
     * before sending, so a resend after a lost response is byte-identical.
     */
    submit: async (body: string): Promise<Receipt> => {
      const answer = await httpJson<{ receipt?: Receipt } | null | undefined>(http, '/v1/requests', { method: 'POST', body })
      // A 2xx without a receipt (an empty body, say, from a proxy): the operator took the request, and
      // may have acted on it. Its outcome is unknown, never a refusal (a stop would close it as unsent).
      if (typeof answer?.receipt !== 'object' || answer.receipt === null) throw new VenueTransportError('/v1/requests: answered 2xx without a receipt')
      // `accepted` is the only status a receipt has (PROTOCOL.md §5); any other is not read as one.
      const { status } = answer.receipt as { status?: unknown }
      if (status !== 'accepted') throw new VenueTransportError(`/v1/requests: answered 2xx with a receipt whose status is ${JSON.stringify(status)?.slice(0, 40)}, not "accepted"`)
      return answer.receipt
    },
    revoke: (body: { delegation: Hex; signature: Hex; deadline: string }) =>
      httpJson<unknown>(http, '/v1/sessions/revoke', { method: 'POST', body: JSON.stringify(body) }),
    openOrders: async (auth: ReadAuth) => (await read<{ orders: VenueOrder[] }>(auth, '/v1/orders?status=open')).orders.map(withSide),
    allOrders: async (auth: ReadAuth) => (await read<{ orders: VenueOrder[] }>(auth, '/v1/orders?status=all')).orders.map(withSide),
    order: async (auth: ReadAuth, clientOrderId: Hex) => withSide(await read<VenueOrder>(auth, `/v1/orders/${clientOrderId}`)),
    fills: async (auth: ReadAuth, since = 0n) => (await read<{ fills: VenueFill[] }>(auth, `/v1/fills?since=${since}`)).fills.map(withSide),
    balances: async (auth: ReadAuth) => (await read<{ balances: VenueBalance[] }>(auth, '/v1/balances')).balances,
  }
}
export type VenueClient = ReturnType<typeof createVenueClient>

/**
 * PROTOCOL.md names `side` without fixing its encoding: the sandbox reads answer
 * "buy" | "sell", the signed structs use 0 | 1. Reads are normalized to 0 | 1 here,
 * row by row; a side that is neither is null (`parseSide`), never read as a buy, and
 * does not fail the rest of the list. The other fields are as the operator sent them: a caller
 * applying a read checks it first (`orderReadProblem`, `fillReadProblem`).
 */
function withSide<T extends { side: unknown }>(item: T): T & { side: 0 | 1 | null } {
  // Not an object at all (a null in the list): left as it is for the caller's check of each read
  // (`orderReadProblem`), rather than failing the whole list here.
  if (typeof item !== 'object' || item === null) return item as T & { side: null }
  let side: 0 | 1 | null
  try {
    side = parseSide('side', item.side)
  } catch {
    side = null
  }
  return { ...item, side }
}
