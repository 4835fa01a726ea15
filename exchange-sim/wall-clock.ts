import { performance } from 'node:perf_hooks'

/**
 * Wall-clock time in whole microseconds since the Unix epoch, as the link
 * protocol's *_time_us fields want it. Date.now() has only millisecond
 * resolution; timeOrigin + now() keeps the sub-millisecond part.
 */
export function wallClockUs (): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000)
}
