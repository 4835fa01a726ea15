// A thread's own health, for /metrics and the status page: how late its
// event loop runs (perf_hooks monitorEventLoopDelay, which only this
// thread can measure) and how much of its V8 heap is in use (each worker
// is its own isolate). Every THREAD_SAMPLE_INTERVAL_MS the thread writes
// four numbers into slots the supervisor reads at scrape time, like every
// other lane figure (lane/lane-metrics.ts): nothing is sent, nothing waits.
//
// The delay histogram is reset after each sample, so the figures cover the
// last interval only and a past stall does not stay in them forever.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { nowMillis } from '../protocol/clock.js'

/** Slots a sample takes: delay p99 (ms), delay max (ms), heap used (bytes), when (epoch ms; 0 before the first). */
export const THREAD_SAMPLE_SLOTS = 4
export const SAMPLE_DELAY_P99_MS = 0
export const SAMPLE_DELAY_MAX_MS = 1
export const SAMPLE_HEAP_USED_BYTES = 2
export const SAMPLE_AT_MS = 3
/** How often a thread samples itself, and so the window its delay figures cover. */
export const THREAD_SAMPLE_INTERVAL_MS = 5000
/**
 * The delay monitor's timer period. It wakes the thread this often; 20 ms
 * keeps that to 50 wake-ups a second while a stall of a few ms still shows
 * (the monitor measures how late each wake-up is).
 */
const MONITOR_RESOLUTION_MS = 20

export interface ThreadSample {
  delayP99Ms: number
  delayMaxMs: number
  heapUsedBytes: number
  /** Epoch ms of the sample; 0 before the first. */
  atMs: number
}

/** Samples the calling thread into `slots[at … at + THREAD_SAMPLE_SLOTS)` until stopped. */
export class ThreadSampler {
  private readonly histogram: IntervalHistogram
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly slots: Float64Array, private readonly at: number) {
    this.histogram = monitorEventLoopDelay({ resolution: MONITOR_RESOLUTION_MS })
  }

  start (): this {
    this.histogram.enable()
    // A first sample now, so the heap is known from the start (the delay reads 0 until the first interval ends).
    this.sample()
    this.timer = setInterval(() => { this.sample() }, THREAD_SAMPLE_INTERVAL_MS)
    // A thread with nothing else to do may end: the sampler never keeps it alive.
    this.timer.unref()
    return this
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.histogram.disable()
  }

  private sample (): void {
    const h = this.histogram
    // The monitor reports ns, and counts the timer's own period in each
    // reading: a thread that is never late reads MONITOR_RESOLUTION_MS.
    const late = (ns: number): number => h.count === 0 ? 0 : Math.max(0, ns / 1e6 - MONITOR_RESOLUTION_MS)
    const s = this.slots
    s[this.at + SAMPLE_DELAY_P99_MS] = late(h.percentile(99))
    s[this.at + SAMPLE_DELAY_MAX_MS] = late(h.max)
    s[this.at + SAMPLE_HEAP_USED_BYTES] = getHeapStatistics().used_heap_size
    s[this.at + SAMPLE_AT_MS] = nowMillis()
    h.reset()
  }
}

/** A sample as written by a ThreadSampler (any thread's slots). */
export function readThreadSample (slots: Float64Array, at: number): ThreadSample {
  return {
    delayP99Ms: slots[at + SAMPLE_DELAY_P99_MS]!,
    delayMaxMs: slots[at + SAMPLE_DELAY_MAX_MS]!,
    heapUsedBytes: slots[at + SAMPLE_HEAP_USED_BYTES]!,
    atMs: slots[at + SAMPLE_AT_MS]!,
  }
}
