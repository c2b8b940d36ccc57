/**
 * A `Retry-After` header in milliseconds from `nowMs`: delay-seconds, or an HTTP-date (RFC 9110
 * §10.2.3; a date already past is 0). Undefined when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | string[] | null | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (!text) return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // IMF-fixdate (and the obsolete RFC 850 and asctime forms): a weekday first, a time of day.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(text) || !/ \d{2}:\d{2}:\d{2}( |$)/.test(text)) return undefined
  // Every HTTP-date is in GMT, asctime's too, which does not say so.
  const at = Date.parse(text.endsWith(' GMT') ? text : `${text} GMT`)
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined
}
