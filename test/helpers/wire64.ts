// A 64-bit wire value of any size for crafting frames: protobufjs writes
// an object with low/high 32-bit halves as is, so a test can send values
// the codec itself refuses to encode from a number (at or above 2^53).
// `big` keeps the intended value for assertions.

export interface Wire64 { low: number, high: number, big: bigint }

/** The value as a 64-bit two's complement pair, typed as the number the generated typings expect. */
export function wire64 (value: bigint): number {
  const bits = BigInt.asUintN(64, value)
  const word: Wire64 = { low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0, big: value }
  return word as unknown as number
}
