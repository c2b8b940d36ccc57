/** The token of an `Authorization: Bearer <token>` header, or the password of `Basic` (browsers, Bull Board). */
export function presentedToken(header: string | undefined): { scheme: 'bearer' | 'basic'; token: string } | undefined {
  if (!header) return undefined
  const [scheme = '', ...rest] = header.trim().split(/\s+/)
  const value = rest.join(' ')
  if (!value) return undefined
  if (scheme.toLowerCase() === 'bearer') return { scheme: 'bearer', token: value }
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? undefined : { scheme: 'basic', token: decoded.slice(colon + 1) }
  }
  return undefined
}
