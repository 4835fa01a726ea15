// A passing `gatehouse certify` report, for tests that need an AppID
// certified before promoting it (the suite itself runs in
// certify-end-to-end.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SUITE_STEPS } from '../../tools/certify/conformance-suite.js'

/** Writes a passing report for `appId` to a file the gateway can read, and returns its path. */
export function passingReport (appId: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gh-cert-report-')), 'report.json')
  const steps = SUITE_STEPS.map(({ id, title }) => ({ id, title, passed: true, expected: 'as docs/certification.md says', seen: 'as expected', durationMs: 1 }))
  writeFileSync(path, JSON.stringify({ format: 'gatehouse-certification-report', suiteVersion: '1', appId, account: 'adm-apps', url: 'ws://127.0.0.1:1', startedAt: '2026-12-01T10:00:00.000Z', finishedAt: '2026-12-01T10:00:09.000Z', passed: true, steps }))
  return path
}
