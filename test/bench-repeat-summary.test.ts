// bench/repeat-summary.ts: `--repeat N` reports each figure as the median
// over the repetitions with its min–max spread, ratios as medians of the
// same-run ratios.
import t from 'tap'
import fc from 'fast-check'
import { median, summarizeRepetitions, withSpread } from '../bench/repeat-summary.js'
import type { ScenarioRow } from '../bench/types.js'

function row (system: string, p50: number, extra: Record<string, unknown> = {}): ScenarioRow {
  return { name: 'hft-latency', system, rate_per_s: 10_000, p50_us: p50, p99_us: p50 * 2, p999_us: p50 * 3, max_us: p50 * 4, throughput_per_s: 10_000, ...extra }
}

t.test('median: odd and even counts', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
})

t.test('three repetitions: medians, spreads, nested per-thread CPU, same-run ratios', async (t) => {
  const reps = [
    [row('bare-relay', 80), row('gatehouse', 100, { added_p50_us_over_bare: 20, thread_cpu_us_per_order: { 'gatehouse:lane-hft': 9, 'generator:main': 4 } })],
    [row('bare-relay', 90), row('gatehouse', 130, { added_p50_us_over_bare: 40, thread_cpu_us_per_order: { 'gatehouse:lane-hft': 11, 'generator:main': 5 } })],
    [row('bare-relay', 70), row('gatehouse', 95, { added_p50_us_over_bare: 25, thread_cpu_us_per_order: { 'gatehouse:lane-hft': 10 } })],
  ]
  const [bare, gh] = summarizeRepetitions(reps)
  t.equal(bare!.system, 'bare-relay', 'first-repetition order kept')
  t.equal(bare!.p50_us, 80)
  t.same((bare!.spread as Record<string, unknown>).p50_us, [70, 90])
  t.equal(gh!.p50_us, 100)
  t.equal(gh!.added_p50_us_over_bare, 25, 'the median of the same-run differences, not 100 - 80')
  t.same(gh!.thread_cpu_us_per_order, { 'gatehouse:lane-hft': 10, 'generator:main': 4 }, 'a thread missing in one repetition counts 0 there')
  t.equal(gh!.repetitions, 3)
  t.equal(withSpread(gh!, 'p50_us', String), '100 (95–130)')
  t.equal(withSpread(row('x', 5), 'p50_us', String), '5', 'a single run has no spread')
})

t.test('property: every summarised figure lies within its spread, which is the min and max of the runs', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(fc.double({ min: 0.1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 7 }), (p50s) => {
    const [summary] = summarizeRepetitions(p50s.map((p) => [row('gatehouse', p)]))
    const [lo, hi] = (summary!.spread as Record<string, [number, number]>).p50_us!
    return lo === Math.min(...p50s) && hi === Math.max(...p50s) && summary!.p50_us >= lo - 0.01 && summary!.p50_us <= hi + 0.01 && summary!.repetitions === p50s.length
  }), { numRuns: 200 }))
})
