// The drill's three outputs from one DrillReport: a console table (one
// row per scenario), JSON, and a self-contained HTML page (inline CSS, no
// script, no CDN) that opens offline.
import type { DrillReport, ScenarioReport } from './drill-runner.js'
import { mib } from './drill-runner.js'

export const TABLE_COLUMNS = ['scenario', 'result', 'p50 ms', 'p99 ms', 'errors', 'RSS before', 'RSS after', 'fds before', 'fds after', 'journal B', 'note'] as const

function figure (value: number | null, format: (n: number) => string = String): string {
  return value === null ? '-' : format(value)
}

/** The cells of one scenario's row, in TABLE_COLUMNS order. */
export function tableRow (s: ScenarioReport): string[] {
  // Details can quote the gateway's own texts: one row stays one line.
  const note = (s.failures.length > 0 ? s.failures.join('; ') : s.note ?? '').replace(/\s+/g, ' ')
  return [
    s.name,
    s.status,
    figure(s.trader.p50Ms, (n) => n.toFixed(2)),
    figure(s.trader.p99Ms, (n) => n.toFixed(2)),
    String(s.trader.errors),
    figure(s.gateway.rssBytesBefore, mib),
    figure(s.gateway.rssBytesAfter, mib),
    figure(s.gateway.fdsBefore),
    figure(s.gateway.fdsAfter),
    figure(s.gateway.journalBytes),
    note,
  ]
}

/** The console table; the note column is cut to `noteWidth` so a row stays on one line. */
export function formatTable (report: DrillReport, noteWidth = 100): string {
  const rows = report.scenarios.map((s) => {
    const row = tableRow(s)
    const note = row[row.length - 1]!
    row[row.length - 1] = note.length > noteWidth ? `${note.slice(0, noteWidth - 1)}…` : note
    return row
  })
  const header = [...TABLE_COLUMNS]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join('  ').trimEnd()
  const passed = report.scenarios.filter((s) => s.status === 'PASS').length
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${passed} of ${report.scenarios.length} scenarios passed in ${(report.durationMs / 1000).toFixed(1)} s${report.short ? ' (short mode)' : ''}: ${report.passed ? 'PASS' : 'FAIL'}`,
  ].join('\n') + '\n'
}

export function formatJson (report: DrillReport): string {
  return JSON.stringify(report, null, 2) + '\n'
}

/** HTML-escapes text for the self-contained reports (this one and certify's). */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function scenarioSection (s: ScenarioReport): string {
  const checks = s.checks.map((c) => `<tr class="${c.ok ? 'pass' : 'fail'}"><td>${c.ok ? 'ok' : 'FAIL'}</td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.detail)}</td></tr>`).join('')
  const figures = Object.entries(s.figures).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`).join('')
  const errors = s.trader.errorSamples.length === 0 ? '' : `<p>Trader errors (first ${s.trader.errorSamples.length}):</p><ul>${s.trader.errorSamples.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>`
  return `<section id="${escapeHtml(s.name)}"><h2 class="${s.status === 'PASS' ? 'pass' : 'fail'}">${escapeHtml(s.name)}: ${s.status}</h2>
<p>${escapeHtml(s.summary)}. ${(s.durationMs / 1000).toFixed(1)} s, ${s.messagesSent} messages sent by the attack; trader ${s.trader.roundTrips} round trips (${s.trader.orders} orders, ${s.trader.heartbeats} heartbeats), max ${figure(s.trader.maxMs)} ms.</p>
${s.note === null ? '' : `<p class="note">${escapeHtml(s.note)}</p>`}
<table><tr><th></th><th>check</th><th>detail</th></tr>${checks}</table>
${figures === '' ? '' : `<table><tr><th>figure</th><th>value</th></tr>${figures}</table>`}
${errors}</section>`
}

export function formatHtml (report: DrillReport): string {
  const head = TABLE_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')
  const rows = report.scenarios.map((s) => {
    const cells = tableRow(s)
    cells[0] = `<a href="#${escapeHtml(s.name)}">${escapeHtml(s.name)}</a>`
    return `<tr class="${s.status === 'PASS' ? 'pass' : 'fail'}">${cells.map((c, i) => `<td>${i === 0 ? c : escapeHtml(c)}</td>`).join('')}</tr>`
  }).join('\n')
  const thresholds = Object.entries(report.thresholds).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse attack drill ${escapeHtml(report.startedAt)}: ${report.passed ? 'PASS' : 'FAIL'}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
tr.pass td:nth-child(2),h2.pass{color:#1a7f37}
tr.fail td:nth-child(2),h2.fail{color:#c62828}
.note{color:#8a6d00}
</style></head><body>
<h1>Gatehouse attack drill: ${report.passed ? 'PASS' : 'FAIL'}</h1>
<p>Started ${escapeHtml(report.startedAt)}, ${(report.durationMs / 1000).toFixed(1)} s${report.short ? ', short mode' : ''}. Target ops ${escapeHtml(report.target.opsUrl)}, lanes ${escapeHtml(Object.entries(report.target.laneUrls).map(([k, v]) => `${k} ${v}`).join(', '))}; exchange environments ${escapeHtml(JSON.stringify(report.target.environments))}. Trader ${escapeHtml(report.trader.account)} on ${escapeHtml(report.trader.lane)}: ${report.trader.ordersPerSecond} orders/s and ${report.trader.heartbeatsPerSecond} heartbeats/s.</p>
<table><tr>${head}</tr>
${rows}</table>
<h2>Thresholds</h2><table>${thresholds}</table>
${report.scenarios.map(scenarioSection).join('\n')}
</body></html>
`
}
