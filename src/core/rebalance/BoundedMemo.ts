/**
 * Answers of a pure computation by key, the `max` most recently used kept (the least recently used
 * goes first). Schedule checks ask the same questions over and over (each step of a walk through a
 * clock change, each validation of a common cron) and an answer costs far more than a lookup; the
 * bound keeps a long-running process from growing with every cron and zone it is ever asked about.
 */
export class BoundedMemo<V> {
  readonly #answers = new Map<string, V>()

  constructor(readonly max: number) {}

  /** Answers kept now (at most `max`). */
  get size(): number {
    return this.#answers.size
  }

  /** The answer kept for `key`, else `compute()`'s, then kept. A throw is not kept. */
  get(key: string, compute: () => V): V {
    if (this.#answers.has(key)) {
      const answer = this.#answers.get(key) as V
      // Map keeps insertion order: set again, it is the most recently used.
      this.#answers.delete(key)
      this.#answers.set(key, answer)
      return answer
    }
    const answer = compute()
    if (this.#answers.size >= this.max) this.#answers.delete(this.#answers.keys().next().value as string)
    this.#answers.set(key, answer)
    return answer
  }
}
