// 64-bit wire values of any size for the drill's crafted messages: the
// codec refuses to encode a number at or above 2^53 (GH_ERR_UNSAFE_INTEGER),
// but writes a {low, high} pair as is, so the drill can still send what a
// hostile client would.

/** The value as a 64-bit two's complement pair, typed as the number the generated typings expect. */
export function wire64 (value: bigint): number {
  const bits = BigInt.asUintN(64, value)
  const word = { low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0 }
  return word as unknown as number
}
