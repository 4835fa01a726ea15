// Exact sliding-window rate limits on a power-of-two ring of timestamps
// (Artio's ReceiverEndPoint.shouldThrottle): to know whether n events fit
// in the window, look at the timestamp n entries back. No counters to
// reset, no allocation per message, and a limit recovers the moment the
// oldest event leaves the window.
//
//   ring (capacity 8, mask 7), head = 11 events pushed so far
//   ┌────┬────┬────┬────┬────┬────┬────┬────┐
//   │ e8 │ e9 │e10 │ e3 │ e4 │ e5 │ e6 │ e7 │   newest = (head-1) & mask = 2
//   └────┴────┴────┴────┴────┴────┴────┴────┘   n back  = (head-n) & mask
//
// Only admitted events are pushed, so a client that is refused is not
// punished for the refusals: the window holds exactly what went through.
// `head` counts every push; `& mask` takes its low bits (correct past 2^31
// because ToInt32 wraps modulo 2^32 and the mask keeps only low bits).

/** True when at least n events lie in the window (nowMs - windowMs, nowMs]. n must not exceed the ring's capacity. */
export function windowHolds (ring: Float64Array, base: number, head: number, mask: number, n: number, nowMs: number, windowMs: number): boolean {
  if (n <= 0) return true
  if (n > head) return false
  return nowMs - ring[base + ((head - n) & mask)]! < windowMs
}

/** Events in the window, counted back from the newest (for reject messages, not the hot path). */
export function countInWindow (ring: Float64Array, base: number, head: number, mask: number, nowMs: number, windowMs: number): number {
  const max = Math.min(head, mask + 1)
  let count = 0
  while (count < max && nowMs - ring[base + ((head - 1 - count) & mask)]! < windowMs) count++
  return count
}

/**
 * Records an event at nowMs and returns the new head. Times are kept
 * non-decreasing (a thread whose clock read came a moment before another's
 * push stores the later time), so the ring stays sorted.
 */
export function pushTimestamp (ring: Float64Array, base: number, head: number, mask: number, nowMs: number): number {
  const newest = head > 0 ? ring[base + ((head - 1) & mask)]! : 0
  ring[base + (head & mask)] = nowMs > newest ? nowMs : newest
  return head + 1
}

export function nextPowerOfTwo (n: number): number {
  let size = 1
  while (size < n) size *= 2
  return size
}

/**
 * A session's own message throttle: lives on its lane thread, so no lock.
 * The ring starts small (thousands of idle terminal sessions) and grows in
 * powers of two up to maxCapacity, the largest limit config accepts.
 */
export class SessionThrottle {
  private ring: Float64Array
  private mask: number
  private head = 0

  constructor (initialCapacity = 64, private readonly maxCapacity = 1024) {
    this.ring = new Float64Array(nextPowerOfTwo(Math.min(initialCapacity, maxCapacity)))
    this.mask = this.ring.length - 1
  }

  /**
   * Admits one message if fewer than `limit` were admitted in the window.
   * Infinity admits everything, still recorded: while the window holds a
   * full ring the ring grows (up to maxCapacity), so a limit set later
   * applies exactly to the recent past at once.
   */
  admit (nowMs: number, limit: number, windowMs: number): boolean {
    if (limit !== Infinity) {
      if (limit > this.ring.length) this.grow(limit)
      if (windowHolds(this.ring, 0, this.head, this.mask, limit, nowMs, windowMs)) return false
    } else if (this.ring.length < this.maxCapacity && windowHolds(this.ring, 0, this.head, this.mask, this.ring.length, nowMs, windowMs)) {
      this.grow(this.ring.length * 2)
    }
    this.head = pushTimestamp(this.ring, 0, this.head, this.mask, nowMs)
    return true
  }

  countInWindow (nowMs: number, windowMs: number): number {
    return countInWindow(this.ring, 0, this.head, this.mask, nowMs, windowMs)
  }

  /** A live limit change above the ring's size: rare, so allocating here is fine. */
  private grow (limit: number): void {
    const bigger = new Float64Array(nextPowerOfTwo(limit))
    const kept = Math.min(this.head, this.ring.length)
    for (let i = kept; i >= 1; i--) bigger[kept - i] = this.ring[(this.head - i) & this.mask]!
    this.ring = bigger
    this.mask = bigger.length - 1
    this.head = kept
  }
}
