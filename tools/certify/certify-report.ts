// certify's three outputs from one CertificationReport: a console summary
// (one line per step, then the verdict), the JSON the gateway reads back
// (`gatehouse admin apps certify-record`), and a self-contained HTML page
// (inline CSS, no script) a person can read offline.
import type { CertificationReport, CertificationStep } from '../../protocol/certification-report.js'
import { escapeHtml } from '../drill/drill-report.js'

/** One console line of a step: PASS/FAIL, its ID, and what was seen (or, failing, expected and seen). */
export function stepLine (step: CertificationStep): string {
  const head = `${step.passed ? 'PASS' : 'FAIL'}  ${step.id.padEnd(22)} ${String(step.durationMs).padStart(6)} ms`
  return step.passed ? `${head}  ${step.seen}` : `${head}\n      expected: ${step.expected}\n      seen:     ${step.seen}`
}

export function formatSummary (report: CertificationReport): string {
  const failed = report.steps.filter((s) => !s.passed)
  return [
    `gatehouse certify: suite ${report.suiteVersion}, AppID ${report.appId}, account ${report.account}, ${report.url}`,
    ...report.steps.map(stepLine),
    '',
    report.passed
      ? `PASS: all ${report.steps.length} steps passed`
      : `FAIL: ${failed.length} of ${report.steps.length} steps failed: ${failed.map((s) => s.id).join(', ')}`,
  ].join('\n') + '\n'
}

export function formatJson (report: CertificationReport): string {
  return JSON.stringify(report, null, 2) + '\n'
}

export function formatHtml (report: CertificationReport): string {
  const rows = report.steps.map((s) => `<tr class="${s.passed ? 'pass' : 'fail'}"><td>${s.passed ? 'PASS' : 'FAIL'}</td><td><b>${escapeHtml(s.id)}</b><br>${escapeHtml(s.title)}</td>` +
    `<td>${escapeHtml(s.expected)}</td><td>${escapeHtml(s.seen)}</td><td>${s.durationMs}</td></tr>`).join('\n')
  const verdict = report.passed ? 'PASS' : `FAIL (${report.steps.filter((s) => !s.passed).map((s) => s.id).join(', ')})`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse certification: ${escapeHtml(report.appId)}: ${verdict}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}
tr.pass td:first-child{color:#176f2c;font-weight:bold}tr.fail td:first-child{color:#b00020;font-weight:bold}
h1.pass{color:#176f2c}h1.fail{color:#b00020}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
</style></head><body>
<h1 class="${report.passed ? 'pass' : 'fail'}">Certification of ${escapeHtml(report.appId)}: ${escapeHtml(verdict)}</h1>
<dl><dt>Suite</dt><dd>${escapeHtml(report.suiteVersion)} (docs/certification.md)</dd><dt>Gateway</dt><dd>${escapeHtml(report.url)}</dd>
<dt>Account</dt><dd>${escapeHtml(report.account)}</dd><dt>Started</dt><dd>${escapeHtml(report.startedAt)}</dd><dt>Finished</dt><dd>${escapeHtml(report.finishedAt)}</dd></dl>
<table><thead><tr><th>Result</th><th>Step</th><th>Expected</th><th>Seen</th><th>ms</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>
`
}
