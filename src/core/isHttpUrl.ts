/**
 * Whether `value` is an http(s) URL with a host. `new URL` alone (and zod's `.url()`) accepts
 * `localhost:8787`, read as the scheme `localhost:` with no host, which a client then retries as an
 * unreachable address instead of refusing it.
 */
export function isHttpUrl(value: string): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
}
