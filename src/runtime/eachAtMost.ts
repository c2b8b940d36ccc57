/**
 * Runs `each` on every item, at most `limit` at once, starting them in order: a slow item holds up
 * its own lane, not the items behind it. `stop` is asked before each item starts; once it answers
 * true no further item starts. Resolves when every item started has settled; if one threw, no
 * further item starts and the first error is thrown once the others started have settled.
 */
export async function eachAtMost<T>(items: readonly T[], limit: number, each: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
  let next = 0
  let failed: { error: unknown } | undefined
  const lane = async () => {
    while (next < items.length && !failed && !stop()) {
      const item = items[next++] as T
      try {
        await each(item)
      } catch (error) {
        failed ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  if (failed) throw failed.error
}
