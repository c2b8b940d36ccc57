/** How many of a session key's highest nonces the operator keeps (PROTOCOL.md §4). */
export const NONCE_WINDOW = 100

/**
 * The nonce rule for one session key: a nonce already seen, or lower than the
 * smallest of the 100 highest kept, is reused. Kept sorted ascending; 100
 * entries make a linear insert cheaper than any tree.
 */
export class NonceWindow {
  private readonly kept: bigint[] = []

  isReused(nonce: bigint): boolean {
    const kept = this.kept
    if (kept.length === NONCE_WINDOW && nonce < kept[0]!) return true
    return this.indexOf(nonce) >= 0
  }

  /** Records an accepted nonce; call only after `isReused` said false. */
  record(nonce: bigint): void {
    const kept = this.kept
    let at = kept.length
    while (at > 0 && kept[at - 1]! > nonce) at--
    kept.splice(at, 0, nonce)
    if (kept.length > NONCE_WINDOW) kept.shift()
  }

  private indexOf(nonce: bigint): number {
    // Nonces mostly arrive increasing, so scan from the top.
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const value = this.kept[i]!
      if (value === nonce) return i
      if (value < nonce) return -1
    }
    return -1
  }
}
