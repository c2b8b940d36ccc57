/**
 * Text Postgres cannot store: U+0000 (refused in text and jsonb) and a lone UTF-16 surrogate, which
 * JSON allows (`"\ud800"`) but UTF-8 cannot hold (jsonb refuses it, text stores U+FFFD).
 */
// eslint-disable-next-line no-control-regex -- U+0000 is the character this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g')

export const NUL_RULE = 'must not contain the NUL character (U+0000): Postgres cannot store it'
export const SURROGATE_RULE = 'must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff alone): it is not text Postgres can store'

/** The rule `text` breaks, if it holds text Postgres cannot store. */
export function unstorableTextRule(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)
  if (!found) return undefined
  return found[0] === '\u0000' ? NUL_RULE : SURROGATE_RULE
}

/** `value` (a parsed JSON value) with every unstorable character, in strings and keys, replaced by U+FFFD. */
export function toStorableText(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE_ALL, '\ufffd')
  if (Array.isArray(value)) return value.map(toStorableText)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key.replace(UNSTORABLE_ALL, '\ufffd'), toStorableText(child)]))
  }
  return value
}

/** JSON text may carry unstorable text only as an escape, of U+0000 or of a surrogate: the cheap test before `toStorableText`. */
const UNSTORABLE_ESCAPE = /\\u(0000|[dD][89a-fA-F])/

/** `JSON.parse(text)`, with every unstorable character replaced by U+FFFD (the walk only when an escape is there). */
export function parseStorableJson(text: string): unknown {
  const parsed: unknown = JSON.parse(text)
  return UNSTORABLE_ESCAPE.test(text) ? toStorableText(parsed) : parsed
}
