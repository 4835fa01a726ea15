// Side-effect module: must be imported before the generated codecs.
//
// protobufjs decodes 64-bit fields to `Long` objects when the `long` package
// is present, and the generated classes bake a Long default into their
// prototypes at load time. Gatehouse keeps every 64-bit wire integer below
// 2^53 (prices, sequence numbers, IDs, microsecond timestamps), so plain
// numbers are exact and cheaper: no object per field, no conversions on the
// hot path. Turning Long off here makes every reader return numbers.
//
// A plain number cannot hold every 64-bit value, and protobufjs would round
// one at or above 2^53 to the nearest double: 2^53 + 1 would arrive as
// 2^53, 2^64 - 1 as 2^64 (which it then encodes as 0). A rounded ID or
// price is a different ID or price, so both directions are made exact or
// loud instead:
// - decoding: a value whose magnitude is at or above 2^53 reads as NaN, a
//   value no valid field can have; field-limits.ts refuses it, naming the
//   field, before anything acts on it or echoes it.
// - encoding: NaN, an infinity or a magnitude at or above 2^53 throws
//   ProtocolError GH_ERR_UNSAFE_INTEGER rather than being written as some
//   other value (protobufjs wrote NaN as 0, 2^64 as 0, 2^53 + 1 as 2^53).
//   A fraction within range is truncated toward zero, as protobufjs always
//   did: only the gateway's own figures can be fractions (a money limit in
//   fen may be configured with one); a client's cannot, the wire carries
//   integers.
import $protobuf from 'protobufjs/minimal.js'
import { ERR_UNSAFE_INTEGER, ProtocolError } from './errors.js'

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long
$protobuf.configure()

const TWO_POW_32 = 0x1_0000_0000
/** hi word at or above this means a magnitude at or above 2^53. */
const SAFE_HI_LIMIT = 0x20_0000

interface LongBitsLike { lo: number, hi: number }
const LongBits = $protobuf.util.LongBits as unknown as {
  prototype: { toNumber: (this: LongBitsLike, unsigned?: boolean) => number }
  fromNumber: (value: number) => unknown
}

// The readers call toNumber on the bits they read (int64, uint64, sint64,
// fixed64, sfixed64): the hook covers them all without copying the reader.
LongBits.prototype.toNumber = function toSafeNumber (this: LongBitsLike, unsigned?: boolean): number {
  return safeNumberOfBits(this.lo, this.hi, unsigned === true)
}

/**
 * The exact-or-NaN reading of a 64-bit varint's two 32-bit halves: the
 * hook above and the hand decoders (hot-codec.ts) both call it, so both
 * paths read every value the same way.
 */
export function safeNumberOfBits (loBits: number, hiBits: number, unsigned: boolean): number {
  let lo = loBits >>> 0
  let hi = hiBits >>> 0
  const negative = !unsigned && hi >>> 31 === 1
  if (negative) {
    lo = (~lo + 1) >>> 0
    hi = ~hi >>> 0
    if (lo === 0) hi = (hi + 1) >>> 0
  }
  if (hi >= SAFE_HI_LIMIT) return NaN
  const magnitude = lo + hi * TWO_POW_32
  return negative ? -magnitude : magnitude
}

// Every 64-bit write of a number goes through fromNumber (Writer.uint64,
// int64, sint64, fixed64 via LongBits.from).
const fromNumber = LongBits.fromNumber
LongBits.fromNumber = function fromSafeNumber (value: number): unknown {
  assertSafeWireNumber(value)
  return fromNumber(value)
}

/** Throws GH_ERR_UNSAFE_INTEGER for a number a 64-bit field cannot carry exactly; the hand encoders (hot-codec.ts) call it too. */
export function assertSafeWireNumber (value: number): void {
  // NaN fails both comparisons.
  if (!(value <= Number.MAX_SAFE_INTEGER && value >= -Number.MAX_SAFE_INTEGER)) {
    throw new ProtocolError(ERR_UNSAFE_INTEGER, `${value} is not within ±(2^53 - 1); a 64-bit field cannot carry it exactly as a number`)
  }
}
