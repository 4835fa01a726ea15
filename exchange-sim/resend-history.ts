// The last N application messages one link session name was sent, by seq,
// so a reconnecting gateway can ask for what it missed.
//
//   ring (capacity a power of two, slot = seq & mask)
//   +-----+-----+-----+-----+-----+-----+-----+-----+
//   | s+8 | s+9 |  .  |  s  | s+1 | ... | s+6 | s+7 |
//   +-----+-----+-----+-----+-----+-----+-----+-----+
//                  ^ nextSeq overwrites the oldest (firstSeq) when full
//
// Appending overwrites in place: no allocation and no shifting, whatever
// the history length.

export class ResendHistory<T> {
  private readonly ring: Array<T | undefined>
  private readonly mask: number
  private next = 1
  /** Lowest seq ever held: 1, or where a resumed session started. */
  private base = 1

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`resend history capacity must be a power of two, got ${capacity}`)
    }
    this.ring = new Array<T | undefined>(capacity).fill(undefined)
    this.mask = capacity - 1
  }

  /** Seq the next appended message gets. */
  get nextSeq (): number {
    return this.next
  }

  /** Oldest seq still held (equal to nextSeq when nothing is held). */
  get firstSeq (): number {
    const first = this.next - this.capacity
    return first > this.base ? first : this.base
  }

  /** Stores a message under the next seq and returns that seq. */
  append (item: T): number {
    const seq = this.next++
    this.ring[seq & this.mask] = item
    return seq
  }

  /** The message sent as `seq`; only for firstSeq <= seq < nextSeq. */
  get (seq: number): T {
    if (seq < this.firstSeq || seq >= this.next) throw new RangeError(`seq ${seq} is not in the history [${this.firstSeq}, ${this.next})`)
    return this.ring[seq & this.mask] as T
  }

  /**
   * Continues numbering at `seq` on a session that has sent nothing yet,
   * e.g. a gateway resuming its session against a restarted simulator.
   */
  startAt (seq: number): void {
    if (this.next !== this.base) throw new Error('startAt is only for a session that has sent nothing')
    this.next = seq
    this.base = seq
  }
}
