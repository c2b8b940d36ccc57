/**
 * The dotted path of the first key that appears twice in one object of `text`, which must be valid
 * JSON (parse it first); undefined when every object's keys are distinct. JSON.parse keeps the last
 * of a repeated key's values: `{"size":"0.1","size":"100"}` would place 100, where a proxy or a log
 * reader that keeps the first sees 0.1. Keys are compared decoded (`"a"` and `"\u0061"` repeat).
 * Iterative, so no nesting depth overflows the stack.
 */
export function repeatedJsonKey(text: string): string | undefined {
  // One frame per open object or array: an object's keys so far, and the key whose value is being read.
  const frames: { keys: Set<string> | undefined; key: string; index: number }[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      const end = stringEnd(text, i)
      const frame = frames[frames.length - 1]
      if (expectKey && frame?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (frame.keys.has(key)) return pathOf(frames, key)
        frame.keys.add(key)
        frame.key = key
        expectKey = false
      }
      i = end
    } else if (c === '{') {
      frames.push({ keys: new Set(), key: '', index: 0 })
      expectKey = true
    } else if (c === '[') {
      frames.push({ keys: undefined, key: '', index: 0 })
    } else if (c === '}' || c === ']') {
      frames.pop()
      expectKey = false
    } else if (c === ',') {
      const frame = frames[frames.length - 1]
      if (frame?.keys) expectKey = true
      else if (frame) frame.index++
    }
  }
  return undefined
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
  return i
}

function pathOf(frames: readonly { keys: Set<string> | undefined; key: string; index: number }[], key: string): string {
  const outer = frames.slice(0, -1).map((frame) => (frame.keys ? frame.key : String(frame.index)))
  return [...outer, key].join('.')
}
