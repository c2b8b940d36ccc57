import { InvalidArgumentError } from 'commander'

/*
 * Option parsers: a malformed value is a usage error (exit 2) that names the
 * option, before anything is sent.
 */

const families = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll']

/** "Order,CancelOrder" → ["Order", "CancelOrder"]. */
export function parseFamilies(value: string): string[] {
  const list = value.split(',').map((item) => item.trim()).filter(Boolean)
  const unknown = list.filter((item) => !families.includes(item))
  if (!list.length || unknown.length) throw new InvalidArgumentError(`families are a comma-separated list of ${families.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`)
  return list
}

/** "3600", "90m", "12h", "7d" → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('a duration is a number of seconds, or a number with s, m, h or d (e.g. 7d)')
  const scale = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd' | undefined ?? 's']
  return Number(match[1]) * scale
}

/** "ETH=0.5,USD=0.5" → { ETH: "0.5", USD: "0.5" }. */
export function parseTargets(value: string): Record<string, string> {
  const targets: Record<string, string> = {}
  for (const pair of value.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [asset, weight, extra] = pair.split('=')
    if (!asset || !weight || extra !== undefined) throw new InvalidArgumentError('targets are ASSET=WEIGHT pairs, comma-separated (e.g. ETH=0.5,USD=0.5)')
    // A repeated asset would silently replace the first weight (ETH=0.6,ETH=0.5,USD=0.5 sums to 1).
    if (Object.hasOwn(targets, asset.trim())) throw new InvalidArgumentError(`asset ${asset.trim()} is named twice; give each asset one weight`)
    targets[asset.trim()] = weight.trim()
  }
  if (!Object.keys(targets).length) throw new InvalidArgumentError('name at least one ASSET=WEIGHT target')
  return targets
}

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('must be an integer')
  return Number(value)
}

/** A positive number of seconds, in decimal (`Number()` alone would also read `0x10`, `1e9` and `Infinity`). */
export function parseSeconds(value: string): number {
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN
  if (!(seconds > 0)) throw new InvalidArgumentError('must be a positive number of seconds, in decimal digits (e.g. 30 or 2.5)')
  return seconds
}

/** A unix time in whole seconds, in decimal digits. */
export function parseUnixSeconds(value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError('must be a unix time in whole seconds, in decimal digits')
  return Number(value)
}
