// A per-turn scratch for encoded messages: the hand encoders
// (hot-codec.ts) write each message into it and hand out a view of the
// bytes, so an execution report or a link order costs no buffer of its own.
//
//   chunk (CHUNK_BYTES)
//   +-----------+-----------+-----------+------------------------+
//   | message 1 | message 2 | message 3 | free ...               |
//   +-----------+-----------+-----------+------------------------+
//   ^ views handed out, valid until reset()        ^ pos
//
// It grows in fixed steps: when the next message may not fit, a fresh
// chunk of CHUNK_BYTES is taken (a larger one for a message bigger than
// that) and the old chunk is left to the views that still hold it, so a
// view never moves and is never overwritten before reset(). Its owner
// calls reset() once nothing it handed out is pending any more (the
// client edge after its flush, the exchange link after it has copied its
// batch into the socket write): the current chunk is then reused from the
// start, and no allocation happens in the steady state.
//
// One scratch per owner, never shared: two owners resetting one scratch
// would overwrite each other's pending views.

/** Size of one chunk: dozens of reports per turn fit before another chunk is taken. */
export const SCRATCH_CHUNK_BYTES = 64 * 1024

export class WireScratch {
  buf: Buffer
  pos = 0
  /** Chunks taken since the last reset beyond the first (for tests and metrics). */
  grownChunks = 0

  constructor (private readonly chunkBytes: number = SCRATCH_CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes)
  }

  /**
   * Makes room for a message of at most `maxBytes` at `pos`, contiguous:
   * a new chunk if the current one cannot hold it. The caller writes at
   * `buf[pos..]` and then calls `take(length)`.
   */
  reserve (maxBytes: number): void {
    if (this.pos + maxBytes <= this.buf.length) return
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, maxBytes))
    this.pos = 0
    this.grownChunks++
  }

  /** The `length` bytes just written at `pos`, as a view; `pos` moves past them. */
  take (length: number): Buffer {
    const start = this.pos
    this.pos = start + length
    return this.buf.subarray(start, start + length)
  }

  /** Nothing handed out is pending any more: reuse the current chunk from its start. */
  reset (): void {
    this.pos = 0
    this.grownChunks = 0
  }
}
