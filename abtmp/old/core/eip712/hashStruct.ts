import { utf8ToBytes } from '@noble/hashes/utils.js'
import { hexToBytes, writeHex } from '../crypto/hex.js'
import { keccak256, keccak256Into } from '../crypto/keccak256.js'
import { ValidationError } from '../errors/ValidationError.js'

export type TypedField = { readonly name: string; readonly type: string }
/** EIP-712 struct definitions by name (e.g. `eip712Types`). Treated as immutable: compiled once. */
export type StructTypes = { readonly [struct: string]: readonly TypedField[] }

/** Writes `hashStruct(value)` of one struct type, 32 bytes, to `target` at `offset`. */
export type StructHasher = (value: unknown, target: Uint8Array, offset: number) => void

/** Writes the 32-byte `encodeData` word of one field value at `offset` (the buffer starts zeroed). */
type WordEncoder = (words: Uint8Array, offset: number, value: unknown) => void

/**
 * Hashers compiled per types object and struct name. Only the schema is cached
 * (type hashes, field encoders), never anything derived from a message.
 */
const compiled = new WeakMap<StructTypes, Map<string, StructHasher>>()

/** The hasher of `primaryType`: its type hash is computed on first use, once. */
export function structHasher(types: StructTypes, primaryType: string): StructHasher {
  let hashers = compiled.get(types)
  if (!hashers) compiled.set(types, (hashers = new Map()))
  return hashers.get(primaryType) ?? compileStruct(types, primaryType, hashers)
}

/** EIP-712 `hashStruct` of one value: exactly what viem's `hashStruct` gives for valid data. */
export function hashStruct(types: StructTypes, primaryType: string, value: unknown): Uint8Array {
  const hash = new Uint8Array(32)
  structHasher(types, primaryType)(value, hash, 0)
  return hash
}

/** EIP-712 `encodeType`: the primary type, then the structs it references, sorted by name. */
export function encodeType(types: StructTypes, primaryType: string): string {
  const referenced = new Set<string>()
  const visit = (type: string): void => {
    const struct = type.replace(/(\[[0-9]*\])+$/, '')
    if (referenced.has(struct) || !Object.hasOwn(types, struct)) return
    referenced.add(struct)
    for (const field of types[struct]!) visit(field.type)
  }
  visit(primaryType)
  referenced.delete(primaryType)
  return [primaryType, ...[...referenced].sort()]
    .map((struct) => `${struct}(${types[struct]!.map((field) => `${field.type} ${field.name}`).join(',')})`)
    .join('')
}

function compileStruct(types: StructTypes, primaryType: string, hashers: Map<string, StructHasher>): StructHasher {
  if (!Object.hasOwn(types, primaryType)) throw new ValidationError('primaryType', `"${primaryType}" is not one of the given struct types`)
  const fields = types[primaryType]!
  const typeHash = keccak256(utf8ToBytes(encodeType(types, primaryType)))
  const names = fields.map((field) => field.name)
  const encoders = fields.map((field) => wordEncoder(types, field.type, `${primaryType}.${field.name}`))
  const size = 32 * (fields.length + 1)
  const hasher: StructHasher = (value, target, offset) => {
    if (typeof value !== 'object' || value === null) throw new ValidationError(primaryType, 'must be an object')
    const record = value as Record<string, unknown>
    const words = new Uint8Array(size)
    words.set(typeHash)
    for (let i = 0; i < encoders.length; i++) encoders[i]!(words, 32 * (i + 1), record[names[i]!])
    keccak256Into(words, target, offset)
  }
  hashers.set(primaryType, hasher)
  return hasher
}

function wordEncoder(types: StructTypes, type: string, path: string): WordEncoder {
  if (Object.hasOwn(types, type)) {
    // Resolved on first use, so self-referencing and mutually recursive structs compile.
    let nested: StructHasher | undefined
    return (words, offset, value) => (nested ??= structHasher(types, type))(value, words, offset)
  }
  const array = /^(.+)\[([0-9]*)\]$/.exec(type)
  if (array) return arrayEncoder(wordEncoder(types, array[1]!, `${path}[]`), array[2] ? Number(array[2]) : undefined, path)
  switch (type) {
    case 'string':
      return (words, offset, value) => {
        if (typeof value !== 'string') throw new ValidationError(path, 'must be a string')
        keccak256Into(utf8ToBytes(value), words, offset)
      }
    case 'bytes':
      return (words, offset, value) => {
        const bytes = value instanceof Uint8Array ? value : hexToBytes(value)
        if (!bytes) throw new ValidationError(path, 'must be 0x-hex of whole bytes')
        keccak256Into(bytes, words, offset)
      }
    case 'bool':
      return (words, offset, value) => {
        if (typeof value !== 'boolean') throw new ValidationError(path, 'must be a boolean')
        words[offset + 31] = value ? 1 : 0
      }
    case 'address':
      // EIP-55 checksums are not checked here: the digest does not depend on case, and inputs are validated where they enter.
      return (words, offset, value) => {
        if (!writeHex(words, offset + 12, value, 20)) throw new ValidationError(path, 'must be a 20-byte 0x-hex address')
      }
  }
  const fixedBytes = /^bytes([1-9]|[12][0-9]|3[0-2])$/.exec(type)
  if (fixedBytes) {
    const length = Number(fixedBytes[1])
    return (words, offset, value) => {
      if (!writeHex(words, offset, value, length)) throw new ValidationError(path, `must be ${length} bytes of 0x-hex`)
    }
  }
  const integer = /^(u?)int([0-9]+)$/.exec(type)
  const bits = Number(integer?.[2])
  if (integer && bits % 8 === 0 && bits >= 8 && bits <= 256) return integerEncoder(integer[1] === 'u', bits, path)
  throw new ValidationError(path, `unsupported EIP-712 type "${type}"`)
}

function arrayEncoder(element: WordEncoder, length: number | undefined, path: string): WordEncoder {
  return (words, offset, value) => {
    if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
      throw new ValidationError(path, length === undefined ? 'must be an array' : `must be an array of ${length}`)
    }
    const elements = new Uint8Array(32 * value.length)
    for (let i = 0; i < value.length; i++) element(elements, 32 * i, value[i])
    keccak256Into(elements, words, offset)
  }
}

const TWO_256 = 1n << 256n

function integerEncoder(unsigned: boolean, bits: number, path: string): WordEncoder {
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1))
  const rule = `must be a ${unsigned ? 'u' : ''}int${bits}`
  return (words, offset, value) => {
    if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value) && (bits > 53 || value <= max)) {
      // Small numbers (side, timeInForce) skip BigInt entirely.
      writeWord32(words, offset + 28, value % 0x1_0000_0000)
      writeWord32(words, offset + 24, Math.floor(value / 0x1_0000_0000))
      return
    }
    const integer = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined
    if (integer === undefined || integer < min || integer > max) throw new ValidationError(path, rule)
    writeUint256(words, offset, integer < 0n ? TWO_256 + integer : integer)
  }
}

function writeWord32(words: Uint8Array, at: number, word: number): void {
  words[at] = word >>> 24
  words[at + 1] = (word >>> 16) & 0xff
  words[at + 2] = (word >>> 8) & 0xff
  words[at + 3] = word & 0xff
}

/** Big-endian into a zeroed word, 32 bits per BigInt step. */
function writeUint256(words: Uint8Array, offset: number, value: bigint): void {
  for (let at = offset + 28; value > 0n; at -= 4, value >>= 32n) writeWord32(words, at, Number(value & 0xffff_ffffn))
}
