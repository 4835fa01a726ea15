// The HTML report: one self-contained file (inline CSS and SVG, no script,
// no CDN) that opens offline. Per scenario: the latency CDF on a log
// percentile axis, throughput over time, and what shared the cores.
import type { BudgetVerdict } from './budgets.js'
import type { ScenarioRow } from './types.js'
import { ratioText } from './report-table.js'

const COLORS: Record<string, string> = {
  'bare-relay': '#2a7ab0',
  gatehouse: '#d1495b',
  naive: '#66a182',
  'gatehouse-journal-off': '#edae49',
  'gatehouse-fsync-never': '#8e6c8a',
  'gatehouse-fsync-100ms': '#b07aa1',
  'gatehouse-fsync-every-batch': '#30638e',
}
const FALLBACK_COLORS = ['#00798c', '#a05195', '#6b8e23', '#7a5c3e']

interface Series {
  name: string
  points: Array<[number, number]>
}

interface Axis {
  ticks: Array<{ value: number, label: string }>
  label: string
  log: boolean
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function colorOf (name: string, index: number): string {
  return COLORS[name] ?? FALLBACK_COLORS[index % FALLBACK_COLORS.length]!
}

/** Height of one legend line under a chart. */
const LEGEND_LINE_PX = 16

/**
 * A line chart as an inline <svg>. Log axes take log10 of positive values.
 * The legend sits under the x axis, one line per series, so it never
 * covers a curve; a series of one point (a one-second window) is drawn as
 * a dot, since a path of one point draws nothing.
 */
export function lineChart (title: string, series: Series[], x: Axis, y: Axis): string {
  const width = 640
  const plotHeight = 320
  const left = 64
  const right = 16
  const top = 28
  const bottom = 48
  const legendTop = plotHeight + 4
  const height = legendTop + series.length * LEGEND_LINE_PX + 4
  const tx = (v: number): number => x.log ? Math.log10(Math.max(v, 1e-9)) : v
  const ty = (v: number): number => y.log ? Math.log10(Math.max(v, 1e-9)) : v
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return `<p class="empty">${escapeHtml(title)}: no data</p>`
  const xs = [...all.map(([vx]) => tx(vx)), ...x.ticks.map((t) => tx(t.value))]
  const ys = [...all.map(([, vy]) => ty(vy)), ...y.ticks.map((t) => ty(t.value))]
  const xMin = Math.min(...xs)
  const xMax = Math.max(...xs)
  let yMin = Math.min(...ys)
  let yMax = Math.max(...ys)
  if (yMax === yMin) { yMax += 1; yMin -= y.log ? 1 : 0 }
  const px = (v: number): number => left + (xMax === xMin ? 0.5 : (tx(v) - xMin) / (xMax - xMin)) * (width - left - right)
  const py = (v: number): number => top + (1 - (ty(v) - yMin) / (yMax - yMin)) * (plotHeight - top - bottom)
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`)
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" class="title">${escapeHtml(title)}</text>`)
  for (const t of x.ticks) {
    const p = px(t.value).toFixed(1)
    parts.push(`<line x1="${p}" x2="${p}" y1="${top}" y2="${plotHeight - bottom}" class="grid"/><text x="${p}" y="${plotHeight - bottom + 16}" text-anchor="middle">${escapeHtml(t.label)}</text>`)
  }
  for (const t of y.ticks) {
    if (ty(t.value) < yMin - 1e-9 || ty(t.value) > yMax + 1e-9) continue
    const p = py(t.value).toFixed(1)
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${p}" y2="${p}" class="grid"/><text x="${left - 6}" y="${p}" text-anchor="end" dominant-baseline="middle">${escapeHtml(t.label)}</text>`)
  }
  parts.push(`<text x="${(left + width - right) / 2}" y="${plotHeight - 8}" text-anchor="middle">${escapeHtml(x.label)}</text>`)
  parts.push(`<text x="14" y="${(top + plotHeight - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(top + plotHeight - bottom) / 2})">${escapeHtml(y.label)}</text>`)
  series.forEach((s, i) => {
    const color = colorOf(s.name, i)
    const legendY = legendTop + i * LEGEND_LINE_PX
    parts.push(`<rect x="${left}" y="${legendY + 5}" width="12" height="3" fill="${color}"/><text x="${left + 18}" y="${legendY + 7}" dominant-baseline="middle" class="legend">` +
      `${escapeHtml(s.name)}${s.points.length === 0 ? ' (no data)' : ''}</text>`)
    if (s.points.length === 0) return
    if (s.points.length > 1) {
      const d = s.points.map(([vx, vy], k) => `${k === 0 ? 'M' : 'L'}${px(vx).toFixed(1)},${py(vy).toFixed(1)}`).join(' ')
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`)
    }
    // Dots on short series: one point draws no line, and a few are easier to read as points.
    if (s.points.length <= 3) {
      for (const [vx, vy] of s.points) parts.push(`<circle cx="${px(vx).toFixed(1)}" cy="${py(vy).toFixed(1)}" r="4" fill="${color}"/>`)
    }
  })
  parts.push('</svg>')
  return parts.join('')
}

/** x of a percentile on the conventional log axis: the number of nines, 1 / (1 - p). */
function nines (percentile: number, cap: number): number {
  return percentile >= 100 ? cap : 1 / (1 - percentile / 100)
}

/** A row's line in a chart: its series name if it has one (hft-isolation's quiet vs flood), else its system. */
function seriesName (r: ScenarioRow): string {
  return typeof r.series === 'string' ? r.series : r.system
}

function cdfChart (title: string, rows: ScenarioRow[]): string {
  const cap = 1e6
  const series = rows.map((r) => ({
    name: seriesName(r),
    points: ((r.cdf_us as Array<[number, number]> | undefined) ?? []).map(([p, us]) => [nines(p, Math.min(cap, Math.max(10, Number(r.samples ?? 10)))), Math.max(us, 0.001)] as [number, number]),
  }))
  const maxUs = Math.max(1, ...series.flatMap((s) => s.points.map(([, us]) => us)))
  const minUs = Math.min(maxUs, ...series.flatMap((s) => s.points.map(([, us]) => us)))
  const yTicks: Array<{ value: number, label: string }> = []
  for (let decade = Math.floor(Math.log10(minUs)); decade <= Math.ceil(Math.log10(maxUs)); decade++) {
    const value = 10 ** decade
    yTicks.push({ value, label: value >= 1000 ? `${value / 1000} ms` : `${value} µs` })
  }
  return lineChart(title, series, {
    ticks: [{ value: 1, label: '0%' }, { value: 10, label: '90%' }, { value: 100, label: '99%' }, { value: 1000, label: '99.9%' }, { value: 10_000, label: '99.99%' }, { value: 100_000, label: '99.999%' }],
    label: 'percentile (log scale of 1 / (1 - p))',
    log: true,
  }, { ticks: yTicks, label: 'latency (log)', log: true })
}

function throughputChart (title: string, rows: ScenarioRow[], yLabel: string): string {
  const series = rows.map((r) => ({
    name: seriesName(r),
    points: ((r.per_second as Array<{ t: number, answered: number }> | undefined) ?? []).map((s) => [s.t + 1, s.answered] as [number, number]),
  }))
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v)))
  const maxX = Math.max(1, ...series.flatMap((s) => s.points.map(([t]) => t)))
  const step = 10 ** Math.floor(Math.log10(maxY))
  const yTicks: Array<{ value: number, label: string }> = []
  for (let v = 0; v <= maxY * 1.05; v += step) yTicks.push({ value: v, label: v >= 1000 ? `${v / 1000}k` : String(v) })
  const xTicks: Array<{ value: number, label: string }> = []
  for (let t = 0; t <= maxX; t += Math.max(1, Math.ceil(maxX / 10))) xTicks.push({ value: t, label: `${t}s` })
  return lineChart(title, series, { ticks: xTicks, label: 'second of the measurement window', log: false },
    { ticks: yTicks, label: yLabel, log: false })
}

function fmt (value: unknown): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : escapeHtml(String(value ?? ''))
}

function resultsTable (rows: ScenarioRow[]): string {
  const head = '<tr><th>scenario</th><th>system</th><th>rate/s</th><th>p50 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>max µs</th><th>throughput/s</th><th>vs baselines</th></tr>'
  const body = rows.map((r) => `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.system)}</td><td>${r.rate_per_s === 0 ? escapeHtml(String(r.mode ?? '')) : fmt(r.rate_per_s)}</td>` +
    `<td>${fmt(r.p50_us)}</td><td>${fmt(r.p99_us)}</td><td>${fmt(r.p999_us)}</td><td>${fmt(r.max_us)}</td><td>${fmt(r.throughput_per_s)}</td><td>${escapeHtml(ratioText(r))}</td></tr>`).join('')
  return `<table>${head}${body}</table>`
}

function coresTable (rows: ScenarioRow[]): string {
  const lines = rows.filter((r) => Array.isArray(r.cores_shared_by)).map((r) =>
    `<tr><td>${escapeHtml(`${r.name} ${r.rate_per_s > 0 ? `@${r.rate_per_s}/s ` : ''}${r.system}`)}</td><td>${(r.cores_shared_by as string[]).map(escapeHtml).join('<br>')}</td></tr>`)
  return lines.length === 0 ? '' : `<h2>What shared the 2 cores (CPU % of one core over each measurement window)</h2><table><tr><th>run</th><th>processes</th></tr>${lines.join('')}</table>`
}

export function renderHtml (report: { machine: Record<string, unknown>, profile: string, scenarios: ScenarioRow[], notes?: string[], budgets?: BudgetVerdict[], skipped?: Array<{ scenario: string, system: string, reason: string }>, failures?: string[] }): string {
  const rows = report.scenarios
  const sections: string[] = []
  // Group latency rows by scenario and rate: one chart compares the
  // systems (or, with chart_group, the runs of one scenario).
  const groups = new Map<string, ScenarioRow[]>()
  for (const r of rows) {
    if (r.mode === 'in-thread') continue
    const key = typeof r.chart_group === 'string' ? r.chart_group : `${r.name}${r.rate_per_s > 0 ? ` @ ${r.rate_per_s}/s` : ''}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  for (const [key, group] of groups) {
    const logons = group.every((r) => r.name === 'logon-rate')
    const latencyOf = logons ? 'TCP connect → LogonReply, per session' : 'intended send → first report'
    const notes = [...new Set(group.map((r) => r.cores_note).filter((n): n is string => typeof n === 'string'))]
    sections.push(`<section><h2>${escapeHtml(key)}</h2>${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}<div class="charts">` +
      `${cdfChart(`${key}: latency CDF (${latencyOf})`, group)}` +
      `${throughputChart(`${key}: ${logons ? 'logons' : 'throughput'} over time`, group, logons ? 'logons completed per second' : 'orders answered per second')}</div></section>`)
  }
  const machine = Object.entries(report.machine).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(Array.isArray(v) ? v.join(', ') : String(v))}</td></tr>`).join('')
  const budgets = report.budgets === undefined
    ? ''
    : `<h2>Budgets</h2><table><tr><th>budget</th><th>scenario</th><th>result</th><th>detail</th></tr>${report.budgets.map((b) =>
      `<tr class="${b.ok ? 'ok' : 'miss'}"><td>${escapeHtml(b.budget)}</td><td>${escapeHtml(b.scenario)}</td><td>${b.ok ? 'met' : 'MISSED'}</td><td>${escapeHtml(b.detail)}</td></tr>`).join('')}</table>`
  const skipped = (report.skipped ?? []).length === 0
    ? ''
    : `<h2>Not run</h2><ul>${report.skipped!.map((s) => `<li>${escapeHtml(`${s.scenario} × ${s.system}: ${s.reason}`)}</li>`).join('')}</ul>`
  const failures = (report.failures ?? []).length === 0 ? '' : `<h2>Failures</h2><ul>${report.failures!.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`
  const notes = (report.notes ?? []).length === 0 ? '' : `<h2>Notes</h2><ul>${report.notes!.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse benchmark (${escapeHtml(report.profile)})</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
tr.miss td{background:#fde2e2}tr.ok td{background:#e5f5e5}
.charts{display:flex;flex-wrap:wrap;gap:16px}svg{background:#fafafa;border:1px solid #ddd}
p.note{max-width:60em;color:#555}
svg text{font-size:11px;fill:#333}svg text.title{font-size:13px;font-weight:600}svg .grid{stroke:#e3e3e3}
</style></head><body>
<h1>Gatehouse benchmark</h1>
<p>Profile <b>${escapeHtml(report.profile)}</b>. Latency is from each order's <i>intended</i> send time to its first report (coordinated omission corrected); logon-rate's is from each session's TCP connect to its LogonReply. HDR histograms, 3 significant digits.</p>
<h2>Results</h2>${resultsTable(rows)}
${notes}${budgets}${failures}${skipped}
${sections.join('\n')}
${coresTable(rows)}
<h2>Machine</h2><table>${machine}</table>
</body></html>
`
}
