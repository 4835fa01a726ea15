// The suite docs/certification.md publishes is the suite certify runs:
// the same step IDs in the same order, and a failing step's report line
// names it with what was expected and seen.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SUITE_STEPS } from '../tools/certify/conformance-suite.js'
import { formatHtml, formatSummary } from '../tools/certify/certify-report.js'
import { CertificationReportSchema, CERTIFICATION_SUITE_VERSION } from '../protocol/certification-report.js'

const doc = readFileSync(fileURLToPath(new URL('../../docs/certification.md', import.meta.url)), 'utf8')

t.test('docs/certification.md lists the steps certify runs, in order', async (t) => {
  const section = doc.slice(doc.indexOf(`## The suite (version ${CERTIFICATION_SUITE_VERSION})`))
  t.ok(section.length < doc.length, 'the section names the suite version')
  const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1])
  t.same(documented, SUITE_STEPS.map((s) => s.id))
})

t.test('a report: the summary and HTML name each failed step; the schema refuses an inconsistent verdict', async (t) => {
  const steps = SUITE_STEPS.map(({ id, title }) => ({ id, title, passed: id !== 'throttle', expected: 'E <b>', seen: id === 'throttle' ? 'no throttle seen' : 'ok', durationMs: 3 }))
  const report = { format: 'gatehouse-certification-report' as const, suiteVersion: '1', appId: 'x', account: 'a', url: 'ws://h', startedAt: 's', finishedAt: 'f', passed: false, steps }
  t.ok(CertificationReportSchema.safeParse(report).success)
  t.notOk(CertificationReportSchema.safeParse({ ...report, passed: true }).success, 'passed with a failed step is refused')
  t.match(formatSummary(report), /FAIL  throttle .*\n\s+expected: E <b>\n\s+seen:\s+no throttle seen\n[\s\S]*FAIL: 1 of 9 steps failed: throttle/)
  const html = formatHtml(report)
  t.match(html, /FAIL \(throttle\)/)
  t.notMatch(html, /E <b>/, 'texts are escaped')
})
