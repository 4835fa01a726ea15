// The lane budgets (budgets.json) and the check of a run against them.
// `npm run bench -- --check` exits non-zero naming every miss; CI runs
// only --smoke and never gates on timings.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ScenarioRow } from './types.js'

/** budgets.json stays in the source tree (tsc does not copy JSON to dist/). */
export const DEFAULT_BUDGETS_FILE = fileURLToPath(new URL('../../bench/budgets.json', import.meta.url))

export interface Budgets {
  checks: { scenario: string, system: string, max_p50_ns: number, max_bytes_per_order: number, reading_resolution_bytes_per_order: number }
  hft: { scenario: string, rate_per_s: number, max_added_p50_us: number, max_added_p99_us: number }
  platform: { scenario: string, min_fraction_of_bare_relay: number, min_throughput_per_s: number, min_multiple_of_naive: number }
  terminal: { scenario: string, sessions: number, max_rss_mib: number }
  /** The journal variants: which are also held to the hft budget, and the same-run baseline each verdict names. */
  journal?: { scenario: string, baseline_system: string, hft_systems: string[] }
}

export interface BudgetVerdict {
  budget: string
  scenario: string
  ok: boolean
  /** What was measured against what limit, for humans. */
  detail: string
}

export function loadBudgets (file = DEFAULT_BUDGETS_FILE): Budgets {
  return JSON.parse(readFileSync(file, 'utf8')) as Budgets
}

function find (rows: ScenarioRow[], name: string, system: string, rate?: number): ScenarioRow | undefined {
  return rows.find((r) => r.name === name && r.system === system && (rate === undefined || r.rate_per_s === rate))
}

export function checkBudgets (budgets: Budgets, rows: ScenarioRow[]): BudgetVerdict[] {
  const verdicts: BudgetVerdict[] = []
  const add = (budget: string, scenario: string, ok: boolean, detail: string): void => { verdicts.push({ budget, scenario, ok, detail }) }

  const c = budgets.checks
  const checks = find(rows, c.scenario, c.system)
  const checksName = `${c.scenario} ${c.system}`
  if (checks === undefined) {
    add('checks', checksName, false, 'not measured (no row)')
  } else {
    const p50 = Number(checks.ns_per_op_p50)
    add('checks.max_p50_ns', checksName, p50 <= c.max_p50_ns, `${p50} ns/order p50; budget ≤ ${c.max_p50_ns} ns`)
    // Below the reading's resolution counts as none (see budgets.json).
    const bytes = Number(checks.bytes_per_order)
    add('checks.max_bytes_per_order', checksName, bytes < c.max_bytes_per_order + c.reading_resolution_bytes_per_order,
      `${bytes} B/order allocated (${String(checks.bytes_allocated)} B over ${String(checks.allocation_calls)} calls, ${String(checks.minor_gcs)} minor GCs); ` +
      `budget ${c.max_bytes_per_order} B/order (readings under ${c.reading_resolution_bytes_per_order} B/order are the reading's resolution)`)
  }

  const h = budgets.hft
  const j = budgets.journal
  const hftName = `${h.scenario} @${h.rate_per_s}/s`
  const bare = find(rows, h.scenario, 'bare-relay', h.rate_per_s)
  const hftOff = j === undefined ? undefined : find(rows, h.scenario, j.baseline_system, h.rate_per_s)
  /** The same run's journal-off figure, so a miss says whose it is. */
  const offText = (field: 'p50_us' | 'p99_us'): string => hftOff === undefined || bare === undefined
    ? ''
    : `; journal off: ${hftOff[field]} µs, ${round(hftOff[field] - bare[field])} over bare`
  // gatehouse (the default journal config) always; the other fsync
  // policies when they ran.
  const hftSystems = ['gatehouse', ...(j?.hft_systems ?? []).filter((system) => find(rows, h.scenario, system, h.rate_per_s) !== undefined)]
  for (const system of hftSystems) {
    const gh = find(rows, h.scenario, system, h.rate_per_s)
    const name = system === 'gatehouse' ? hftName : `${hftName} ${system}`
    const journal = typeof gh?.journal === 'string' ? `; ${gh.journal}` : ''
    if (gh === undefined || bare === undefined) {
      add('hft.added_p50', name, false, 'not measured (needs gatehouse and bare-relay rows at this rate)')
      continue
    }
    const addedP50 = round(gh.p50_us - bare.p50_us)
    const addedP99 = round(gh.p99_us - bare.p99_us)
    add('hft.max_added_p50_us', name, addedP50 <= h.max_added_p50_us,
      `added p50 ${addedP50} µs over bare-relay (${system} ${gh.p50_us}, bare ${bare.p50_us}${journal}); budget ≤ ${h.max_added_p50_us} µs${offText('p50_us')}`)
    add('hft.max_added_p99_us', name, addedP99 <= h.max_added_p99_us,
      `added p99 ${addedP99} µs over bare-relay (${system} ${gh.p99_us}, bare ${bare.p99_us}${journal}); budget ≤ ${h.max_added_p99_us} µs${offText('p99_us')}`)
  }

  const p = budgets.platform
  const pgh = find(rows, p.scenario, 'gatehouse')
  const pbare = find(rows, p.scenario, 'bare-relay')
  const pnaive = find(rows, p.scenario, 'naive')
  const poff = j === undefined ? undefined : find(rows, p.scenario, j.baseline_system)
  const pJournal = typeof pgh?.journal === 'string' ? ` (${pgh.journal})` : ''
  if (pgh === undefined) {
    add('platform', p.scenario, false, 'not measured (no gatehouse row)')
  } else {
    add('platform.min_throughput_per_s', p.scenario, pgh.throughput_per_s >= p.min_throughput_per_s,
      `${pgh.throughput_per_s} orders/s${pJournal}; budget ≥ ${p.min_throughput_per_s}` +
      (poff === undefined ? '' : `; journal off: ${poff.throughput_per_s} orders/s (with the journal ${round(pgh.throughput_per_s / Math.max(1, poff.throughput_per_s))}× that)`))
    if (pbare === undefined) {
      add('platform.min_fraction_of_bare_relay', p.scenario, false, 'not measured (no bare-relay row)')
    } else {
      const fraction = round(pgh.throughput_per_s / pbare.throughput_per_s)
      add('platform.min_fraction_of_bare_relay', p.scenario, fraction >= p.min_fraction_of_bare_relay,
        `${fraction} of bare-relay (${pgh.throughput_per_s} vs ${pbare.throughput_per_s} orders/s)${pJournal}; budget ≥ ${p.min_fraction_of_bare_relay}` +
        (poff === undefined ? '' : `; journal off: ${round(poff.throughput_per_s / Math.max(1, pbare.throughput_per_s))} of bare-relay`))
    }
    if (pnaive === undefined) {
      add('platform.min_multiple_of_naive', p.scenario, false, 'not measured (no naive row)')
    } else {
      const multiple = round(pgh.throughput_per_s / pnaive.throughput_per_s)
      add('platform.min_multiple_of_naive', p.scenario, multiple >= p.min_multiple_of_naive,
        `${multiple}× naive (${pgh.throughput_per_s} vs ${pnaive.throughput_per_s} orders/s); budget ≥ ${p.min_multiple_of_naive}×`)
    }
  }

  const t = budgets.terminal
  const tgh = find(rows, t.scenario, 'gatehouse')
  if (tgh === undefined) {
    add('terminal', t.scenario, false, 'not measured (no gatehouse row)')
  } else {
    const sessions = Number(tgh.sessions)
    const rss = Number(tgh.gateway_rss_mib)
    add('terminal.sessions', t.scenario, sessions >= t.sessions, `${sessions} concurrent sessions logged on; budget needs ${t.sessions}`)
    add('terminal.max_rss_mib', t.scenario, rss < t.max_rss_mib, `gateway VmRSS ${rss} MiB with ${sessions} sessions; budget < ${t.max_rss_mib} MiB`)
  }
  return verdicts
}

function round (value: number): number {
  return Math.round(value * 100) / 100
}
