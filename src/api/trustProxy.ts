import { isIP } from 'node:net'

/** proxy-addr's names for the private ranges, as Fastify's `trustProxy` takes them. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

const isRange = (entry: string): boolean => {
  if (NAMED_RANGES.has(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  // No /0: every address a proxy (proxy-addr refuses it, and it would believe any client).
  return /^[1-9]\d{0,2}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

const RULE = 'must be comma-separated addresses or CIDR ranges of the proxies in front of the API (or loopback, linklocal, uniquelocal)'

/**
 * `TRUST_PROXY` read into Fastify's `trustProxy`: the proxies whose X-Forwarded-For is believed
 * (`10.0.0.0/8, 192.168.1.7, loopback`). Answers the rule it breaks instead. `true` (believe any
 * peer) is refused: any client could then name itself with an X-Forwarded-For of its choosing. So
 * is a number of hops, which Fastify 5 no longer believes (it cannot tell the nearest peer is a proxy).
 */
export function parseTrustProxy(value: string): { trustProxy: string[] } | { rule: string } {
  const entries = value.split(',').map((entry) => entry.trim())
  return entries.every(isRange) ? { trustProxy: entries } : { rule: RULE }
}
