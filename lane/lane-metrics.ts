// What a lane thread counts for /metrics, kept where the supervisor can read
// it without asking: one SharedArrayBuffer per lane, written only by that
// lane's thread and read by the supervisor at scrape time. Nothing is sent
// between threads and nothing is locked, so counting costs the hot path a
// few plain stores (README, "Architecture": nothing on the order path crosses a
// thread boundary).
//
// Layout: Float64Array slots, one buffer per lane (slot numbers below):
//
//    0  sessions connected         ┐
//    1  sessions logged on         │ gauges
//    2  messages in                ┐
//    3  messages out               │
//    4  orders                     │ counters
//    5  orders forwarded           │
//    6  cancels                    ┘
//    7  journal records            ┐
//    8  journal bytes              │ the stream's totals, published
//    9  journal commits            ┘ after each commit
//   10  journal failed (0/1)
//   11  journal uncommitted records    ┐ journal lag
//   12  oldest uncommitted, epoch ms   ┘ (0: nothing waiting)
//   13  journal disk free bytes     ┐ disk-watermark.ts, each
//   14  journal disk low watermark  │ statfs reading
//   15  journal disk state          ┘ (0 ok, 1 low, 2 floor)
//   16 ┬ rejects[reason code]      512 counters, indexed by RejectReason
//  527 ┘                           (the last one takes any code out of range)
//  528 ┬ check-time histogram      ┐ each HISTOGRAM_SLOTS long:
//      │                           │ ┌────────────────┬──────┬────────┐
//      ├ round-trip histogram      │ │ count per bound│ +Inf │ sum ms │
//      │                           │ │ (not cumul.)   │      │        │
//      └ journal-commit histogram  ┘ └────────────────┴──────┴────────┘
//  then  internal errors           counter: exceptions contained in a
//                                  lane handler (client-edge.ts contain())
//  then  thread sample             4 gauges written by the lane thread's
//                                  ThreadSampler (platform/thread-sampler.ts):
//                                  event-loop delay p99 and max (ms), heap
//                                  used (bytes), time of the sample (epoch ms)
//
// Why no Atomics: each slot has exactly one writer (the lane thread), so a
// read-modify-write needs no lock-prefixed instruction; the supervisor
// only reads. The ECMAScript memory model allows an unordered Float64Array
// access to tear, but V8 on x64 (the only platform this gateway runs on:
// the uWebSockets.js binary is linux-x64) compiles an aligned element store
// to one 8-byte move, and x64 makes an aligned 8-byte store single-copy
// atomic: a reader sees the old value or the new one, never half of each.
// x64 also makes stores visible in program order, and the lane counts
// before it sends (a syscall), so a client that has a reply finds it
// counted.
// Float64 rather than Int32 so counters cannot wrap (exact up to 2^53).
// What a scrape may see is a snapshot that is a few stores stale, or two
// slots from either side of one update (say, a bucket counted but its sum
// not yet added); _count is derived from the buckets for that reason, so
// a histogram is always self-consistent.
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { nowMillis } from '../protocol/clock.js'
import { THREAD_SAMPLE_SLOTS } from '../platform/thread-sampler.js'

export const SLOT_SESSIONS_CONNECTED = 0
export const SLOT_SESSIONS_LOGGED_ON = 1
/** Every frame received from clients, before any check. */
export const SLOT_MESSAGES_IN = 2
/** Every message queued to clients (they leave at the end of the turn). */
export const SLOT_MESSAGES_OUT = 3
/** NewOrder messages received, refused or not. */
export const SLOT_ORDERS = 4
/** New orders that passed the checks and went to the exchange. */
export const SLOT_ORDERS_FORWARDED = 5
/** CancelOrder messages from logged-on sessions. */
export const SLOT_CANCELS = 6
/** Journal totals of this lane's stream, published after each commit (JournalStream stats). */
export const SLOT_JOURNAL_RECORDS = 7
export const SLOT_JOURNAL_BYTES = 8
export const SLOT_JOURNAL_COMMITS = 9
/** 1 once the lane's journal stream has failed (the lane then fails closed). */
export const SLOT_JOURNAL_FAILED = 10
/** Records appended and not yet committed (written to the OS). */
export const SLOT_JOURNAL_UNCOMMITTED = 11
/** When the oldest uncommitted record was appended, in epoch ms (timeOrigin + now, sub-ms); 0 when none is. */
export const SLOT_JOURNAL_UNCOMMITTED_SINCE_MS = 12
/** The journal's file system as last read (disk-watermark.ts): free bytes, the low watermark in bytes, and 0 ok / 1 low / 2 floor. */
export const SLOT_DISK_FREE_BYTES = 13
export const SLOT_DISK_LOW_WATERMARK_BYTES = 14
export const SLOT_DISK_STATE = 15
export const SLOT_REJECTS = 16
/** Reject reason codes 0..510 have their own slot; any other code lands in the last. */
export const REJECT_SLOTS = 512

/**
 * Histogram upper bounds, log-spaced: the R10 series (10 per decade,
 * ratio ~1.26) from 100 ns to 10 s. Fine enough that a percentile
 * interpolated inside a bucket is off by at most ~13%, and the labels
 * stay short decimals. Kept in ms for the writer (performance.now()
 * deltas are ms) and in seconds for the exposition (Prometheus base unit).
 */
const R10 = ['1', '1.25', '1.6', '2', '2.5', '3.15', '4', '5', '6.3', '8']
const FIRST_DECADE_S = -7
const LAST_DECADE_S = 1
function r10Bounds (exponentShift: number): number[] {
  const bounds: number[] = []
  for (let e = FIRST_DECADE_S; e < LAST_DECADE_S; e++) for (const m of R10) bounds.push(Number(`${m}e${e + exponentShift}`))
  bounds.push(Number(`1e${LAST_DECADE_S + exponentShift}`))
  return bounds
}
/** Upper bounds (le) in seconds, as exposed. */
export const HISTOGRAM_BOUNDS_S: readonly number[] = Object.freeze(r10Bounds(0))
const BOUNDS_MS = Float64Array.from(r10Bounds(3))
export const HISTOGRAM_BUCKETS = BOUNDS_MS.length
/** Per histogram: one count per bound (not cumulative), the +Inf count, and the sum in ms. */
export const HISTOGRAM_SLOTS = HISTOGRAM_BUCKETS + 2
const HIST_INF = HISTOGRAM_BUCKETS
const HIST_SUM_MS = HISTOGRAM_BUCKETS + 1

/** The pre-trade check path of one new order: decode done → decision. */
export const HIST_CHECK = SLOT_REJECTS + REJECT_SLOTS
/** New order received → its first execution report from the exchange leaving for the client. */
export const HIST_ROUND_TRIP = HIST_CHECK + HISTOGRAM_SLOTS
/** One journal commit (one write(2), plus fdatasync under 'every-batch'). */
export const HIST_JOURNAL_COMMIT = HIST_ROUND_TRIP + HISTOGRAM_SLOTS
/** Exceptions caught in a lane handler instead of reaching uWebSockets.js or the link. */
export const SLOT_INTERNAL_ERRORS = HIST_JOURNAL_COMMIT + HISTOGRAM_SLOTS
/** The lane thread's own health (platform/thread-sampler.ts THREAD_SAMPLE_SLOTS long): event-loop delay and heap. */
export const SLOT_THREAD_SAMPLE = SLOT_INTERNAL_ERRORS + 1
export const LANE_METRICS_SLOTS = SLOT_THREAD_SAMPLE + THREAD_SAMPLE_SLOTS

export function createLaneMetricsBuffer (): SharedArrayBuffer {
  return new SharedArrayBuffer(LANE_METRICS_SLOTS * Float64Array.BYTES_PER_ELEMENT)
}

/** One buffer per lane name, created by the supervisor and handed to each lane in its workerData. */
export function createLaneMetricsBuffers (): Record<LaneName, SharedArrayBuffer> {
  const buffers = {} as Record<LaneName, SharedArrayBuffer>
  for (const name of LANE_NAMES) buffers[name] = createLaneMetricsBuffer()
  return buffers
}

/** The first bucket whose upper bound is ≥ the value; HIST_INF past the last. Allocation-free. */
function bucketOf (valueMs: number): number {
  if (!(valueMs <= BOUNDS_MS[HISTOGRAM_BUCKETS - 1]!)) return HIST_INF
  let lo = 0
  let hi = HISTOGRAM_BUCKETS - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (valueMs <= BOUNDS_MS[mid]!) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * The lane thread's writer. Every method is a handful of stores into the
 * shared buffer: no allocation, no clock read unless named, no Atomics.
 * Durations are performance.now() deltas in ms.
 */
export class LaneMetrics {
  private readonly slots: Float64Array

  constructor (buffer: SharedArrayBuffer) {
    this.slots = new Float64Array(buffer)
  }

  sessionOpened (): void {
    this.slots[SLOT_SESSIONS_CONNECTED]!++
  }

  sessionLoggedOn (): void {
    this.slots[SLOT_SESSIONS_LOGGED_ON]!++
  }

  sessionClosed (wasLoggedOn: boolean): void {
    this.slots[SLOT_SESSIONS_CONNECTED]!--
    if (wasLoggedOn) this.slots[SLOT_SESSIONS_LOGGED_ON]!--
  }

  messageIn (): void {
    this.slots[SLOT_MESSAGES_IN]!++
  }

  messageOut (): void {
    this.slots[SLOT_MESSAGES_OUT]!++
  }

  order (): void {
    this.slots[SLOT_ORDERS]!++
  }

  orderForwarded (): void {
    this.slots[SLOT_ORDERS_FORWARDED]!++
  }

  cancel (): void {
    this.slots[SLOT_CANCELS]!++
  }

  /** A reject sent to a client (Reject message or REJECTED execution report), by its RejectReason code. */
  reject (reason: number): void {
    const slot = reason >= 0 && reason < REJECT_SLOTS - 1 ? reason : REJECT_SLOTS - 1
    this.slots[SLOT_REJECTS + slot]!++
  }

  orderChecked (durationMs: number): void {
    this.observe(HIST_CHECK, durationMs)
  }

  roundTrip (durationMs: number): void {
    this.observe(HIST_ROUND_TRIP, durationMs)
  }

  /** After an append: how many records now wait for the commit. The first of a batch reads the clock once. */
  journalAppended (uncommittedRecords: number): void {
    if (uncommittedRecords === 1) this.slots[SLOT_JOURNAL_UNCOMMITTED_SINCE_MS] = nowMillis()
    this.slots[SLOT_JOURNAL_UNCOMMITTED] = uncommittedRecords
  }

  /** After a commit: the stream's totals. */
  journalCommitted (records: number, bytes: number, commits: number): void {
    const s = this.slots
    // The lag goes first: a scrape between these stores sees the commit
    // as done, never an old batch as still waiting.
    s[SLOT_JOURNAL_UNCOMMITTED] = 0
    s[SLOT_JOURNAL_UNCOMMITTED_SINCE_MS] = 0
    s[SLOT_JOURNAL_RECORDS] = records
    s[SLOT_JOURNAL_BYTES] = bytes
    s[SLOT_JOURNAL_COMMITS] = commits
  }

  journalCommitTime (durationMs: number): void {
    this.observe(HIST_JOURNAL_COMMIT, durationMs)
  }

  journalFailed (): void {
    this.slots[SLOT_JOURNAL_FAILED] = 1
  }

  diskReading (freeBytes: number, lowWatermarkBytes: number, state: number): void {
    this.slots[SLOT_DISK_FREE_BYTES] = freeBytes
    this.slots[SLOT_DISK_LOW_WATERMARK_BYTES] = lowWatermarkBytes
    this.slots[SLOT_DISK_STATE] = state
  }

  internalError (): void {
    this.slots[SLOT_INTERNAL_ERRORS]!++
  }

  private observe (histogram: number, durationMs: number): void {
    const s = this.slots
    s[histogram + bucketOf(durationMs)]!++
    s[histogram + HIST_SUM_MS]! += durationMs
  }
}

/** A histogram as read at scrape time: cumulative counts per bound (HISTOGRAM_BOUNDS_S), then the total. */
export interface HistogramSnapshot {
  /** cumulative[i] = observations ≤ HISTOGRAM_BOUNDS_S[i]; one entry per bound. */
  cumulative: number[]
  count: number
  sumS: number
}

/** The supervisor's reader of one lane's buffer. */
export class LaneMetricsReader {
  private readonly slots: Float64Array

  constructor (buffer: SharedArrayBuffer) {
    this.slots = new Float64Array(buffer)
  }

  /** A scalar slot (SLOT_…). */
  read (slot: number): number {
    return this.slots[slot]!
  }

  /** Rejects sent, by RejectReason code (slot REJECT_SLOTS - 1 collects codes out of range). */
  rejects (reason: number): number {
    return this.slots[SLOT_REJECTS + reason]!
  }

  histogram (histogram: number): HistogramSnapshot {
    const s = this.slots
    const cumulative: number[] = new Array(HISTOGRAM_BUCKETS)
    let count = 0
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      count += s[histogram + i]!
      cumulative[i] = count
    }
    count += s[histogram + HIST_INF]!
    return { cumulative, count, sumS: s[histogram + HIST_SUM_MS]! / 1000 }
  }
}

/**
 * The q-quantile (0 < q < 1) of a histogram in seconds, interpolated
 * linearly inside its bucket as Prometheus's histogram_quantile() does
 * (the first bucket starts at 0); the last finite bound if it falls in
 * +Inf; null with no observations.
 */
export function histogramQuantile (snapshot: HistogramSnapshot, q: number): number | null {
  if (snapshot.count === 0) return null
  const rank = q * snapshot.count
  const { cumulative } = snapshot
  for (let i = 0; i < cumulative.length; i++) {
    if (cumulative[i]! < rank) continue
    const lower = i === 0 ? 0 : HISTOGRAM_BOUNDS_S[i - 1]!
    const below = i === 0 ? 0 : cumulative[i - 1]!
    const inBucket = cumulative[i]! - below
    return lower + (HISTOGRAM_BOUNDS_S[i]! - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)
  }
  return HISTOGRAM_BOUNDS_S[HISTOGRAM_BOUNDS_S.length - 1]!
}
