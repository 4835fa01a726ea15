// The one clock of the gateway, the simulator and the tools: wall-clock
// time since the Unix epoch, read from the monotonic clock anchored at the
// thread's start (performance.timeOrigin), so it has sub-millisecond
// resolution (Date.now() has whole milliseconds) and threads agree on it.
// Every *_time_us field on the wire and every journal record time comes
// from nowMicros(); times in ms (windows, timeouts, metrics) from nowMillis().
import { performance } from 'node:perf_hooks'

/** Whole microseconds since the epoch. */
export function nowMicros (): number {
  return microsAt(performance.now())
}

/** Whole microseconds since the epoch at a performance.now() reading already taken (one reading serves two clocks). */
export function microsAt (performanceNowMs: number): number {
  return Math.floor((performance.timeOrigin + performanceNowMs) * 1000)
}

/** Milliseconds since the epoch, with the sub-millisecond part. */
export function nowMillis (): number {
  return performance.timeOrigin + performance.now()
}
