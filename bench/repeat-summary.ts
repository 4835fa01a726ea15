// Medians of repeated runs (`--repeat N`): the same scenarios run N times,
// each repetition a complete same-run set (baselines and Gatehouse one after
// the other, ratios computed inside the repetition), and every figure of a
// row is then the median over the repetitions, with its spread (min–max).
// Ratios are the median of the same-run ratios, never a ratio of medians
// from different runs.
import type { ScenarioRow } from './types.js'

/** Min and max of one figure over the repetitions. */
export type Spread = [min: number, max: number]

/** Fields that identify a row across repetitions. */
function keyOf (row: ScenarioRow): string {
  return `${row.name}\u0000${row.system}\u0000${row.rate_per_s}`
}

/** Median of numbers (mean of the middle two for an even count). */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  if (sorted.length === 0) return NaN
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}

/** Medians of every numeric field, also inside one level of plain objects (e.g. thread_cpu_us_per_order). */
function medianOf (rows: readonly ScenarioRow[], key: string): { value: number, spread: Spread } | null {
  const values = rows.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (values.length !== rows.length) return null
  return { value: round2(median(values)), spread: [Math.min(...values), Math.max(...values)] }
}

/**
 * One row per scenario × system × rate, in the order of the first
 * repetition: the row of the repetition whose p50 (or, closed loop,
 * throughput) is the median, with every numeric field replaced by its
 * median over all repetitions, `spread` holding each field's min–max, and
 * `repetitions` the count. A row missing from some repetition (a failed
 * start) is summarised over the repetitions that have it.
 */
export function summarizeRepetitions (repetitions: readonly ScenarioRow[][]): ScenarioRow[] {
  const groups = new Map<string, ScenarioRow[]>()
  for (const rows of repetitions) {
    for (const row of rows) {
      const key = keyOf(row)
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [row])
      else group.push(row)
    }
  }
  const out: ScenarioRow[] = []
  for (const group of groups.values()) {
    const headline = group[0]!.rate_per_s === 0 && group[0]!.throughput_per_s > 0 ? 'throughput_per_s' : 'p50_us'
    const target = median(group.map((r) => r[headline] as number))
    const closest = group.reduce((best, r) => Math.abs((r[headline] as number) - target) < Math.abs((best[headline] as number) - target) ? r : best)
    const row: ScenarioRow = { ...closest }
    const spread: Record<string, Spread | Record<string, Spread>> = {}
    for (const key of Object.keys(closest)) {
      const value = closest[key]
      if (typeof value === 'number') {
        const m = medianOf(group, key)
        if (m === null) continue
        row[key] = m.value
        spread[key] = m.spread
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'number')) {
        // One level down: per-thread CPU, reject reasons. A key missing in a repetition counts as 0 there.
        const inner: Record<string, number> = {}
        const innerSpread: Record<string, Spread> = {}
        const keys = new Set(group.flatMap((r) => Object.keys((r[key] ?? {}) as Record<string, number>)))
        for (const k of keys) {
          const values = group.map((r) => ((r[key] ?? {}) as Record<string, number>)[k] ?? 0)
          inner[k] = round2(median(values))
          innerSpread[k] = [Math.min(...values), Math.max(...values)]
        }
        row[key] = inner
        spread[key] = innerSpread
      }
    }
    row.repetitions = group.length
    row.spread = spread
    out.push(row)
  }
  return out
}

/** "median (min–max)" for one field of a summarised row; the plain value for a single run. */
export function withSpread (row: ScenarioRow, key: string, format: (n: number) => string): string {
  const value = row[key]
  if (typeof value !== 'number') return '-'
  const spread = (row.spread as Record<string, Spread> | undefined)?.[key]
  if (spread === undefined || !Array.isArray(spread) || spread[0] === spread[1]) return format(value)
  return `${format(value)} (${format(spread[0])}–${format(spread[1])})`
}
