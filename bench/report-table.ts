// The console table: one line per scenario × system × rate, baselines next
// to Gatehouse, and the ratios the budgets are stated in.
import type { ScenarioRow } from './types.js'
import { withSpread } from './repeat-summary.js'

function fmt (value: number): string {
  if (!Number.isFinite(value)) return '-'
  if (value === 0) return '0'
  if (Math.abs(value) >= 100) return String(Math.round(value))
  if (Math.abs(value) >= 10) return value.toFixed(1)
  if (Math.abs(value) >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

function fmtCount (value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`
  return String(Math.round(value))
}

function signed (value: number): string {
  return value < 0 ? fmt(value) : `+${fmt(value)}`
}

/** The "vs" column: what this row is relative to its baselines. */
export function ratioText (row: ScenarioRow): string {
  const parts: string[] = []
  if (typeof row.added_p50_us_over_bare === 'number') {
    parts.push(`+${fmt(row.added_p50_us_over_bare)}/+${fmt(row.added_p99_us_over_bare as number)} µs p50/p99 over bare`)
  }
  if (typeof row.added_p50_us_over_journal_off === 'number') {
    parts.push(`${signed(row.added_p50_us_over_journal_off)}/${signed(row.added_p99_us_over_journal_off as number)}/${signed(row.added_p999_us_over_journal_off as number)} µs p50/p99/p99.9 over journal off`)
  }
  if (typeof row.throughput_fraction_of_bare === 'number') parts.push(`${fmt(row.throughput_fraction_of_bare)}× bare thr`)
  if (typeof row.throughput_fraction_of_journal_off === 'number') parts.push(`${fmt(row.throughput_fraction_of_journal_off)}× journal-off thr`)
  if (typeof row.journal_records_per_s_per_lane_thread === 'number') {
    parts.push(`journal ${fmtCount(row.journal_records_per_s_per_lane_thread)} records/s on the ${String(row.journal_stream)} lane thread ` +
      `(${fmt(Number(row.journal_records_per_order))}/order, ${fmt(Number(row.journal_records_per_batch))}/write, ${fmt(Number(row.journal_mib_per_s))} MiB/s)`)
  }
  if (typeof row.busiest_thread_cpu_us_per_order === 'number') parts.push(`busiest gateway thread ${fmt(row.busiest_thread_cpu_us_per_order)} µs CPU/order`)
  if (typeof row.throughput_multiple_of_naive === 'number') parts.push(`${fmt(row.throughput_multiple_of_naive)}× naive thr`)
  if (typeof row.p50_multiple_of_gatehouse === 'number') parts.push(`p50 ${fmt(row.p50_multiple_of_gatehouse)}× gatehouse`)
  if (typeof row.p50_vs_quiet === 'number') {
    const lanes = row.flood_throughput_by_lane_per_s as Record<string, number> | undefined
    const byLane = lanes === undefined ? '' : ` (${Object.entries(lanes).filter(([, v]) => v > 0).map(([lane, v]) => `${lane} ${fmtCount(v)}`).join(' + ')})`
    const inWindow = typeof row.flood_throughput_in_hft_window_per_s === 'number' ? `, ${fmtCount(row.flood_throughput_in_hft_window_per_s)}/s in the hft window` : ''
    parts.push(`p50 ${fmt(row.p50_vs_quiet)}×, p99 ${fmt(row.p99_vs_quiet as number)}× quiet; flood ${fmtCount(Number(row.flood_throughput_per_s))}/s${byLane}${inWindow}`)
  }
  if (row.name === 'logon-rate') {
    parts.push(`logons/s; ${fmtCount(Number(row.logons))}/${fmtCount(Number(row.sessions))} logged on, ${String(row.connect_concurrency)} in flight, ${String(row.password_hash_cost)}`)
  }
  if (row.saturated === true) parts.push('SATURATED')
  if (row.mode === 'open-loop' && typeof row.send_lag_p99_us === 'number') parts.push(`generator lag p99 ${fmt(row.send_lag_p99_us)} µs`)
  if (typeof row.gateway_rss_mib === 'number') parts.push(`RSS ${fmt(row.gateway_rss_mib)} MiB, ${fmtCount(Number(row.connect_logon_per_s))} logons/s`)
  if (typeof row.p50_vs_baseline === 'number') {
    parts.push(`+${fmt(Number(row.added_ns_p50_over_baseline) / 1000)} µs p50 over ${String(row.baseline)} (${fmt(row.p50_vs_baseline)}×)`)
  }
  if (typeof row.bytes_per_order === 'number') parts.push(`${fmt(row.bytes_per_order)} B/order alloc, ${String(row.minor_gcs)} GCs`)
  if (typeof row.bytes_per_record === 'number') {
    parts.push(`${fmt(row.bytes_per_record)} B/record alloc, ${String(row.minor_gcs)} GCs; ${String(row.record_bytes)} B/record on disk (${String(row.payload_bytes)} B frame); ` +
      `write(2) alone ${fmt(Number(row.write_syscall_ns_per_batch_p50) / 1000)} µs p50 of ${fmt(Number(row.ns_per_batch_p50) / 1000)} µs per batch`)
  }
  if (Array.isArray(row.lifted_limits) && row.lifted_limits.length > 0) parts.push(`lifted: ${row.lifted_limits.join(', ')}`)
  if (typeof row.rejected === 'number' && row.rejected > 0) {
    const reasons = Object.entries((row.reject_reasons ?? {}) as Record<string, number>).map(([reason, n]) => `${reason} ${n}`).join(', ')
    const inWindow = typeof row.rejected_in_window === 'number' ? `, ${row.rejected_in_window} in the window` : ''
    parts.push(`REJECTED ${row.rejected}${reasons === '' ? '' : ` (${reasons})`}${inWindow}`)
  }
  if (typeof row.monitor_warnings === 'number' && row.monitor_warnings > 0) parts.push(`${fmtCount(row.monitor_warnings)} reports with a monitor warning`)
  if (typeof row.bytes_per_op === 'number') parts.push(`${fmt(row.bytes_per_op)} B/op alloc, ${String(row.encoded_bytes)} B`)
  return parts.join('; ')
}

export function formatTable (rows: ScenarioRow[]): string {
  const header = ['scenario', 'system', 'rate/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'throughput/s', 'vs baselines']
  const lines = rows.map((r) => [
    r.name,
    r.system,
    r.rate_per_s === 0 ? (r.mode === 'in-thread' ? 'in-thread' : 'closed') : fmtCount(r.rate_per_s),
    fmt(r.p50_us),
    fmt(r.p99_us),
    fmt(r.p999_us),
    fmt(r.max_us),
    typeof r.throughput_sd_per_s === 'number' ? `${fmtCount(r.throughput_per_s)} ±${fmtCount(r.throughput_sd_per_s)}` : fmtCount(r.throughput_per_s),
    ratioText(r),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const render = (cells: string[]): string => cells.map((c, i) => i >= 2 && i <= 7 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n') + '\n'
}

/** The same table as GitHub Markdown, for docs/benchmarks.md. */
export function formatMarkdownTable (rows: ScenarioRow[]): string {
  const header = '| scenario | system | rate/s | p50 µs | p99 µs | p99.9 µs | max µs | throughput/s | vs baselines |'
  const sep = '|---|---|--:|--:|--:|--:|--:|--:|---|'
  const lines = rows.map((r) => `| ${r.name} | ${r.system} | ${r.rate_per_s === 0 ? (r.mode === 'in-thread' ? 'in-thread' : 'closed loop') : fmtCount(r.rate_per_s)} | ` +
    `${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${fmt(r.p999_us)} | ${fmt(r.max_us)} | ` +
    `${typeof r.throughput_sd_per_s === 'number' ? `${fmtCount(r.throughput_per_s)} ±${fmtCount(r.throughput_sd_per_s)}` : fmtCount(r.throughput_per_s)} | ${ratioText(r)} |`)
  return [header, sep, ...lines].join('\n') + '\n'
}

/**
 * The headline rows (the README's figures): platform throughput and hft
 * latency at 10k/s, each "median (min–max)" over the repetitions, with the
 * same-run ratios and every thread's CPU per order. Rows of other scenarios
 * are left out; so is anything not run.
 */
export function formatHeadlineTable (rows: ScenarioRow[], markdown = false): string {
  const headline = rows.filter((r) => r.name === 'platform-throughput' || (r.name === 'hft-latency' && r.rate_per_s === 10_000))
  if (headline.length === 0) return ''
  const header = ['scenario', 'system', 'runs', 'p50 µs', 'p99 µs', 'orders/s', 'ratio', 'CPU µs/order by thread']
  const lines = headline.map((r) => {
    const ratio = r.name === 'platform-throughput'
      ? (typeof r.throughput_fraction_of_bare === 'number' ? `${withSpread(r, 'throughput_fraction_of_bare', fmt)}× bare` : '')
      : [typeof r.added_p50_us_over_bare === 'number' ? `${withSpread(r, 'added_p50_us_over_bare', signed)} µs p50 over bare` : '',
          typeof r.added_p50_us_over_journal_off === 'number' ? `${withSpread(r, 'added_p50_us_over_journal_off', signed)} µs over journal off` : '']
          .filter((s) => s !== '').join('; ')
    const threads = Object.entries((r.thread_cpu_us_per_order ?? {}) as Record<string, number>)
      .filter(([, us]) => us >= 0.05)
      .map(([name, us]) => `${name} ${fmt(us)}`).join(', ')
    return [
      r.name,
      r.system,
      String(r.repetitions ?? 1),
      withSpread(r, 'p50_us', fmt),
      withSpread(r, 'p99_us', fmt),
      withSpread(r, 'throughput_per_s', fmtCount),
      ratio + (r.saturated === true ? ' SATURATED' : ''),
      threads,
    ]
  })
  if (markdown) {
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n') + '\n'
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const render = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n') + '\n'
}
