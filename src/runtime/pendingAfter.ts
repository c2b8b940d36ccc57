/**
 * Waits for every one of `parts` to settle, `ms` at most, and answers the names of those still
 * pending then (none: all settled in time). A part's failure counts as settled. The timer does not
 * keep the process alive.
 */
export async function pendingAfter(parts: Record<string, Promise<unknown> | undefined>, ms: number): Promise<string[]> {
  const pending = new Set<string>()
  const settling = Object.entries(parts).map(([name, part]) => {
    if (!part) return undefined
    pending.add(name)
    return part.then(() => undefined, () => undefined).finally(() => pending.delete(name))
  })
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(settling), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms).unref() })])
  clearTimeout(timer)
  return [...pending]
}
