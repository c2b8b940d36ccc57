import type { Hex } from 'viem'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToNumberBE } from '@noble/curves/utils.js'
import { type SignatureParts, parseSignature, recoverCompressed } from './signatures.js'

const { Point } = secp256k1
const Fn = Point.Fn

/** wNAF window for a busy session key's table: 8 costs ~50 ms once and about halves each check. */
const TABLE_WINDOW = 8

/**
 * Answers "does this signature recover to the session key?" for one key.
 *
 * The first uses recover the key (shared core helper) and compare. A key that
 * keeps signing gets a precomputed multiplication table, and its signatures are
 * then checked by computing R' = s⁻¹(h·G + r·Q) with both products from tables
 * and requiring R' = (r, y of v's parity). That holds exactly when recovery with
 * v yields Q (recovery computes Q = r⁻¹(s·R − h·G) from that same R), so the
 * answer is the protocol's, at less than half the cost of a recovery.
 */
export class SessionKeyVerifier {
  readonly publicKey: Hex
  private readonly fastAfter: number
  private uses = 0
  private table: ReturnType<typeof Point.fromHex> | undefined

  /** `publicKey`: 33-byte compressed, lowercase hex. `fastAfter`: uses before the table is built (0 = never). */
  constructor(publicKey: Hex, fastAfter: number) {
    this.publicKey = publicKey.toLowerCase() as Hex
    this.fastAfter = fastAfter
  }

  verify(digest: Uint8Array, signature: string): boolean {
    const parts = parseSignature(signature)
    if (!parts) return false
    if (this.table === undefined && this.fastAfter > 0 && ++this.uses >= this.fastAfter) {
      this.table = Point.fromHex(this.publicKey.slice(2)).precompute(TABLE_WINDOW, false)
    }
    return this.table ? this.verifyWithTable(this.table, digest, parts) : recoverCompressed(digest, parts.bytes) === this.publicKey
  }

  private verifyWithTable(table: ReturnType<typeof Point.fromHex>, digest: Uint8Array, { r, s, parity }: SignatureParts): boolean {
    const h = Fn.create(bytesToNumberBE(digest))
    const sInverse = Fn.inv(s)
    const point = Point.BASE.multiplyUnsafe(Fn.create(h * sInverse)).add(table.multiplyUnsafe(Fn.create(r * sInverse)))
    if (point.is0()) return false
    const { x, y } = point.toAffine()
    // v = 27/28 only encodes R.x = r (no overflow form), so x must equal r exactly.
    return x === r && Number(y & 1n) === parity
  }
}
