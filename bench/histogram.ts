// HDR histograms as the harness uses them: values in nanoseconds, three
// significant digits, moved between processes as compressed base64.
import * as hdr from 'hdr-histogram-js'

/** Two minutes: nothing a bounded run can wait longer than. */
const HIGHEST_TRACKABLE_NS = 120e9

export type Histogram = hdr.Histogram

export function newHistogram (): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_NS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

/** Records a latency in nanoseconds, clamped to the histogram's range. */
export function recordNs (histogram: Histogram, ns: number): void {
  histogram.recordValue(ns < 1 ? 1 : ns > HIGHEST_TRACKABLE_NS ? HIGHEST_TRACKABLE_NS : Math.round(ns))
}

export function encodeHistogram (histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

export function decodeHistogram (base64: string): Histogram {
  return hdr.decodeFromCompressedBase64(base64, 32, false)
}

/** p50/p99/p99.9/max in µs, 0 for an empty histogram. */
export function summaryUs (histogram: Histogram): { p50_us: number, p99_us: number, p999_us: number, max_us: number, count: number } {
  if (histogram.totalCount === 0) return { p50_us: 0, p99_us: 0, p999_us: 0, max_us: 0, count: 0 }
  return {
    p50_us: round2(histogram.getValueAtPercentile(50) / 1000),
    p99_us: round2(histogram.getValueAtPercentile(99) / 1000),
    p999_us: round2(histogram.getValueAtPercentile(99.9) / 1000),
    max_us: round2(histogram.maxValue / 1000),
    count: histogram.totalCount,
  }
}

/**
 * Points of the latency CDF for plotting on a log percentile axis:
 * [percentile, µs] from 0 up to the last recorded value.
 */
export function cdfPointsUs (histogram: Histogram): Array<[number, number]> {
  if (histogram.totalCount === 0) return []
  const points: Array<[number, number]> = []
  // Denser where the log axis stretches: 9 points per decade of 1 - p
  // (90, 91, ... 98, then 99, 99.1, ... 99.8, then 99.9, ...).
  const percentiles = [0, 10, 20, 30, 40, 50, 60, 70, 80]
  for (let decade = 1; decade <= 5; decade++) {
    for (let k = 0; k < 9; k++) percentiles.push(round4(100 * (1 - 10 ** -decade + k * 10 ** -(decade + 1))))
  }
  const total = histogram.totalCount
  for (const p of percentiles) {
    // Stop where the histogram has no more distinct samples to say anything.
    if ((1 - p / 100) * total < 0.5) break
    points.push([p, round2(histogram.getValueAtPercentile(p) / 1000)])
  }
  points.push([100, round2(histogram.maxValue / 1000)])
  return points
}

export function round2 (value: number): number {
  return Math.round(value * 100) / 100
}

function round4 (value: number): number {
  return Math.round(value * 10_000) / 10_000
}
